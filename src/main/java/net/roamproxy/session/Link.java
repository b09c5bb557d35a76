package net.roamproxy.session;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketException;

import net.roamproxy.metrics.LinkLoss;
import net.roamproxy.net.Sockets;
import net.roamproxy.wire.Frame;
import net.roamproxy.wire.FrameProtection;
import net.roamproxy.wire.FrameReader;
import net.roamproxy.wire.FrameSink;
import net.roamproxy.wire.FrameType;
import net.roamproxy.wire.FrameWriter;
import net.roamproxy.wire.Wire;

/**
 * One TCP connection between cproxy and sproxy, carrying frames. A session outlives many links.
 *
 * <p>Once the handshake has derived the link's keys ({@link #protect}), sealed frames are
 * sealed on the way out ({@link #sendSealed}) and opened on the way in, each direction with its
 * own key and frame count.
 *
 * <p>Threading: one thread reads ({@link #read}); writers serialise on the lock of the
 * session's {@link LinkSlot} (before the hand-off to a session, the handshake's thread alone
 * reads and writes); {@link #close} may be called from any thread and is the way to unblock a
 * stuck write.
 */
public final class Link implements FrameSink {
    private final Socket socket;
    private final FrameReader reader;
    private final OutputStream out;
    private final String peer;
    private final InetAddress localAddress;
    /** When the connection was made (System.nanoTime): how old the link is, for --status. */
    private final long openedAt = System.nanoTime();
    /** Why someone other than the reader closed the link, for the reader's log line. */
    private volatile String abortReason;
    /** The same reason as one of the few that metrics count; written before {@link #abortReason}. */
    private volatile LinkLoss abortKind;
    /** Set by {@link #finishSending()}, before the socket's output is shut down. */
    private volatile boolean sendingFinished;
    /** Seals our frames; set once by the handshake, then used only under the writers' lock. */
    private FrameProtection.Sealer sealer;

    public Link(Socket socket) throws IOException {
        this.socket = socket;
        Sockets.tune(socket);
        this.reader = new FrameReader(socket.getInputStream());
        this.out = socket.getOutputStream();
        this.peer = Sockets.describe(socket.getRemoteSocketAddress());
        this.localAddress = socket.getLocalAddress();
    }

    /** Milliseconds since the link's connection was made (accepted or connected), handshake included. */
    long ageMillis() {
        return (System.nanoTime() - openedAt) / 1_000_000;
    }

    /**
     * Installs the link's keys: from now on sealed frames go out sealed by {@code own} and are
     * opened with {@code peer}. Called once, by the handshake's thread, before the hand-off.
     */
    public void protect(FrameProtection.Sealer own, FrameProtection.Opener peer) {
        this.sealer = own;
        reader.protect(peer);
    }

    /** See {@link FrameReader#expectNext}. */
    public void expectNext(FrameType type, int maxLength) {
        reader.expectNext(type, maxLength);
    }

    /** See {@link FrameReader#keepNextWire()}. */
    public void keepNextWire() {
        reader.keepNextWire();
    }

    /** See {@link FrameReader#lastWire()}. */
    public byte[] lastWire() {
        return reader.lastWire();
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

    /** See {@link FrameReader#openDataInto}. */
    public void openDataInto(FrameReader.DataTarget target) {
        reader.openDataInto(target);
    }

    /** See {@link FrameReader#openedToTarget()}. */
    public boolean payloadOpenedToTarget() {
        return reader.openedToTarget();
    }

    public byte[] payloadArray() {
        return reader.payloadArray();
    }

    public int payloadOffset() {
        return reader.payloadOffset();
    }

    /** Writes clear frame bytes that {@link FrameWriter} built (or, in a refusal, another protocol's bytes). */
    @Override
    public void send(byte[] frame, int off, int len) throws IOException {
        out.write(frame, off, len);
    }

    /**
     * Seals and writes the frame in {@code frame}: its header at 0, {@code plainLength} payload
     * bytes after it, and room for the tag after those ({@link FrameProtection.Sealer#seal}).
     *
     * @return the frame's length on the wire: it is in {@code frame}, sealed
     * @throws FrameProtection.KeyLimitException if the link's key may seal no more
     */
    @Override
    public int sendSealed(byte[] frame, int plainLength) throws IOException {
        if (sealer == null) {
            throw new IllegalStateException("a sealed frame on a link without keys");
        }
        int n = sealer.seal(frame, plainLength);
        out.write(frame, 0, n);
        return n;
    }

    /** The peer's address, for logs. */
    public String peer() {
        return peer;
    }

    /** Our local address on this link, for logs: after a roam this is the new address. */
    public String local() {
        return Sockets.describe(socket.getLocalSocketAddress());
    }

    /** The host address this link was sent from; it stays the same after the host loses it. */
    public InetAddress localAddress() {
        return localAddress;
    }

    public boolean isClosed() {
        return socket.isClosed();
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
     * the peer's end (or given up waiting for it).
     */
    public void closeGracefully() {
        Sockets.closeQuietly(socket);
    }

    /** Closes at once, discarding unsent data (RST); a dead link has nothing worth a FIN. */
    public void close() {
        reset(socket);
    }

    /**
     * Wakes the link's reader because something outside the link knows it is dead (cproxy's
     * address watch: the host no longer has our local address; sproxy: a newer link proved
     * the session's secret). Only the socket's input is shut down, which ends a blocked
     * read at once; the reader,
     * which owns the link, then closes it, and {@link #abortReason()} tells it why. Callable
     * from any thread.
     *
     * @param kind   the reason as metrics count it
     * @param reason the reason in words, for the log
     */
    public void abort(LinkLoss kind, String reason) {
        abortKind = kind;
        abortReason = reason;
        try {
            socket.shutdownInput();
        } catch (IOException e) {
            // closed already: the owner's read has ended anyway
        }
    }

    /** The reason given to {@link #abort}, or {@code null} if nobody aborted the link. */
    public String abortReason() {
        return abortReason;
    }

    /** The kind given to {@link #abort}, or {@code null}; read it after a non-null {@link #abortReason()}. */
    public LinkLoss abortKind() {
        return abortKind;
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
