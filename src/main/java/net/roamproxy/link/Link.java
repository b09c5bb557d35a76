package net.roamproxy.link;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;

import net.roamproxy.protocol.Frame;
import net.roamproxy.protocol.FrameReader;
import net.roamproxy.protocol.Wire;

/**
 * One TCP connection between cproxy and sproxy, carrying frames. A session outlives many links.
 *
 * <p>Threading: one thread reads ({@link #read}); writers serialise on the session's send lock;
 * {@link #close} may be called from any thread and is the way to unblock a stuck write.
 */
public final class Link {
    /** What frames travel over: the TCP socket, or a TLS socket layered on it. */
    private final Socket socket;
    /** The TCP socket: closing it is what reliably ends the link, TLS or not. */
    private final Socket raw;
    private final FrameReader reader;
    private final OutputStream out;
    private final String peer;
    private final InetAddress localAddress;
    /** Why someone other than the reader closed the link, for the reader's log line. */
    private volatile String abortReason;
    /** Set by {@link #finishSending()}, before the socket's output is shut down. */
    private volatile boolean sendingFinished;

    public Link(Socket socket) throws IOException {
        this(socket, socket);
    }

    /** A link whose frames travel over {@code transport}, a TLS socket layered on {@code raw}. */
    public Link(Socket transport, Socket raw) throws IOException {
        this.socket = transport;
        this.raw = raw;
        Sockets.tune(raw);
        this.reader = new FrameReader(transport.getInputStream());
        this.out = transport.getOutputStream();
        this.peer = Sockets.describe(raw.getRemoteSocketAddress());
        this.localAddress = raw.getLocalAddress();
    }

    /** Reads the next frame, waiting at most {@code timeoutMillis} (then SocketTimeoutException). */
    public Frame read(int timeoutMillis) throws IOException {
        socket.setSoTimeout(timeoutMillis);
        return reader.next();
    }

    /**
     * Like {@link #read}, but leaves the payload in {@link #payloadArray()} at
     * {@link #payloadOffset()} until the next read: no allocation per frame on the relay's hot path.
     */
    public Wire.Header readInPlace(int timeoutMillis) throws IOException {
        socket.setSoTimeout(timeoutMillis);
        return reader.nextInPlace();
    }

    public byte[] payloadArray() {
        return reader.payloadArray();
    }

    public int payloadOffset() {
        return reader.payloadOffset();
    }

    /** Writes frame bytes that {@link FrameWriter} built (or, in a refusal, another protocol's bytes). */
    public void send(byte[] frame, int off, int len) throws IOException {
        out.write(frame, off, len);
    }

    /** The peer's address, for logs. */
    public String peer() {
        return peer;
    }

    /** Our local address on this link, for logs: after a roam this is the new address. */
    public String local() {
        return Sockets.describe(raw.getLocalSocketAddress());
    }

    /** The host address this link was sent from; it stays the same after the host loses it. */
    public InetAddress localAddress() {
        return localAddress;
    }

    public boolean isClosed() {
        return raw.isClosed();
    }

    /**
     * Ends our direction with a FIN behind whatever is still queued, for a link whose last frame
     * matters. The socket stays open for its reader, which closes it once the peer has closed
     * too or has gone quiet: closing now would send a reset if a frame from the peer were still
     * unread, and a reset discards what we queued.
     */
    public void finishSending() {
        sendingFinished = true;
        try {
            socket.shutdownOutput();
        } catch (IOException | UnsupportedOperationException ignored) {
            // Already closed or reset: nothing more can be sent anyway. (A socket type without
            // half-close still sends nothing more: every writer checks sendingFinished first.)
        }
    }

    /** Whether {@link #finishSending()} was called: nothing more may be written. */
    public boolean sendingFinished() {
        return sendingFinished;
    }

    /**
     * Closes without a reset, for a link whose last frames matter and whose reader has seen
     * the peer's end (or given up waiting for it). With TLS this sends close_notify first.
     */
    public void closeGracefully() {
        Sockets.closeQuietly(socket);
        Sockets.closeQuietly(raw);
    }

    /**
     * Closes at once, discarding unsent data (RST); a dead link has nothing worth a FIN. The
     * TCP socket itself is closed, never the TLS layer, whose close would first try to send a
     * close_notify and could block on a dead link.
     */
    public void close() {
        reset(raw);
    }

    /**
     * Wakes the link's reader because something outside the link knows it is dead (cproxy's
     * address watch: the host no longer has our local address; sproxy: a newer link proved
     * the session's secret). Only the TCP socket's input is shut down, which ends a blocked
     * read at once (also under TLS, whose layer then sees the end of its stream); the reader,
     * which owns the link, then closes it, and {@link #abortReason()} tells it why. Callable
     * from any thread.
     */
    public void abort(String reason) {
        abortReason = reason;
        try {
            raw.shutdownInput();
        } catch (IOException e) {
            // closed already: the owner's read has ended anyway
        }
    }

    /** The reason given to {@link #abort}, or {@code null} if nobody aborted the link. */
    public String abortReason() {
        return abortReason;
    }

    /** Closes {@code s} with a reset. */
    public static void reset(Socket s) {
        try {
            s.setSoLinger(true, 0);
        } catch (SocketException ignored) {
            // already closed
        }
        Sockets.closeQuietly(s);
    }
}
