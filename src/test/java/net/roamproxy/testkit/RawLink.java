package net.roamproxy.testkit;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;

import net.roamproxy.protocol.Frame;
import net.roamproxy.protocol.FrameReader;
import net.roamproxy.protocol.FrameType;
import net.roamproxy.protocol.Handshake;
import net.roamproxy.protocol.Wire;

/**
 * A hand-driven connection to sproxy that speaks the link protocol (or anything else) byte
 * by byte: what a stranger, a scanner or a hijacker can send. Frames are built with the
 * product's own {@link Handshake} factories and {@link Wire#encode}, and read with its
 * {@link FrameReader}, so the test never hard-codes the wire layout.
 *
 * <p>Threading: one test thread at a time; {@link #close()} from any thread.
 */
public final class RawLink implements AutoCloseable {
    /** Receive window a raw client advertises; any positive value is valid. */
    public static final int WINDOW = 1 << 20;

    private final Socket socket;
    private final OutputStream out;
    private final InputStream in;
    private final FrameReader reader;

    private RawLink(Socket socket) throws IOException {
        this.socket = socket;
        socket.setTcpNoDelay(true);
        this.out = socket.getOutputStream();
        this.in = socket.getInputStream();
        this.reader = new FrameReader(in);
    }

    public static RawLink connect(int port) throws IOException {
        return new RawLink(new Socket(InetAddress.getLoopbackAddress(), port));
    }

    /** Our port, which is how sproxy's log names this peer ({@code 127.0.0.1:<port>}). */
    public int localPort() {
        return socket.getLocalPort();
    }

    /** The peer name sproxy logs for this connection. */
    public String peerName() {
        return "127.0.0.1:" + localPort();
    }

    public void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    public void send(Frame f) throws IOException {
        sendRaw(Wire.encode(f));
    }

    /** Sends a HELLO whose header acks {@code ack} bytes of sproxy's stream; returns what it asked. */
    public Handshake hello(Handshake.Mode mode, long sessionId, byte[] secret, long ack) throws IOException {
        Handshake h = Handshake.hello(mode, sessionId, secret, WINDOW);
        send(new Frame(FrameType.HELLO, 0, ack, h.encode()));
        return h;
    }

    /** The next frame, waiting at most {@code timeout}. */
    public Frame read(Duration timeout) throws IOException {
        socket.setSoTimeout((int) Math.max(1, timeout.toMillis()));
        return reader.next();
    }

    /** The next frame that is not a HEARTBEAT or ACK. */
    public Frame readSkippingControl(Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = Math.max(1, (deadline - System.nanoTime()) / 1_000_000);
            Frame f = read(Duration.ofMillis(left));
            if (f.type() != FrameType.HEARTBEAT && f.type() != FrameType.ACK) {
                return f;
            }
            if (System.nanoTime() - deadline > 0) {
                throw new SocketTimeoutException("only heartbeats and acks within " + timeout.toMillis() + " ms");
            }
        }
    }

    /** Reads sproxy's answer to a HELLO and decodes it; fails if it is not a WELCOME. */
    public Welcome welcome(Duration timeout) throws IOException {
        Frame f = read(timeout);
        if (f.type() != FrameType.WELCOME) {
            throw new AssertionError("expected a WELCOME, got " + f);
        }
        return new Welcome(f, Handshake.decode(f));
    }

    /** A WELCOME frame (its header's seq/ack matter on a resume) and its decoded payload. */
    public record Welcome(Frame frame, Handshake handshake) {
        public Handshake.Status status() {
            return handshake.status();
        }
    }

    /**
     * Reads and discards until the peer closes the connection (EOF or reset).
     *
     * @return true if it closed within {@code timeout}; false if it was still open then
     */
    public boolean closedByPeerWithin(Duration timeout) throws IOException {
        long deadline = System.nanoTime() + timeout.toNanos();
        byte[] buf = new byte[4096];
        while (true) {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                return false;
            }
            socket.setSoTimeout((int) left);
            try {
                if (in.read(buf) < 0) {
                    return true;
                }
            } catch (SocketTimeoutException e) {
                return false;
            } catch (EOFException e) {
                return true;
            } catch (IOException e) {
                if (socket.isClosed()) {
                    throw e; // we closed it ourselves
                }
                return true; // reset by the peer
            }
        }
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // best effort
        }
    }

    @Override
    public String toString() {
        return "raw link from " + peerName();
    }
}
