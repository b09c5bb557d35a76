package net.roamproxy.hardening;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Arrays;

import net.roamproxy.protocol.Frame;
import net.roamproxy.protocol.FrameReader;
import net.roamproxy.protocol.FrameType;
import net.roamproxy.protocol.Handshake;
import net.roamproxy.protocol.Hello;
import net.roamproxy.protocol.SessionKeys;
import net.roamproxy.protocol.Welcome;
import net.roamproxy.protocol.Wire;

/**
 * A hand-driven connection to sproxy that speaks the link protocol (or anything else) byte
 * by byte: what a stranger, a scanner or a hijacker can send, or a well-behaved client.
 * Frames are built with the product's own {@link Hello}, {@link SessionKeys} and
 * {@link Wire#encode}, and read with its {@link FrameReader}, so the test never hard-codes
 * the wire layout.
 *
 * <p>Threading: one test thread at a time; {@link #close()} from any thread.
 */
final class RawLink implements AutoCloseable {
    /** Receive window a raw client advertises; any positive value is valid. */
    static final int WINDOW = 1 << 20;

    private final Socket socket;
    private final OutputStream out;
    private final InputStream in;
    private final FrameReader reader;
    private final ByteArrayOutputStream sent = new ByteArrayOutputStream();

    private RawLink(Socket socket) throws IOException {
        this.socket = socket;
        socket.setTcpNoDelay(true);
        this.out = socket.getOutputStream();
        this.in = socket.getInputStream();
        this.reader = new FrameReader(in);
    }

    static RawLink connect(int port) throws IOException {
        return new RawLink(new Socket(InetAddress.getLoopbackAddress(), port));
    }

    /** Our port, which is how sproxy's log names this peer ({@code 127.0.0.1:<port>}). */
    int localPort() {
        return socket.getLocalPort();
    }

    /** The peer name sproxy logs for this connection. */
    String peerName() {
        return "127.0.0.1:" + localPort();
    }

    void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
        sent.writeBytes(bytes);
    }

    /** Every byte sent so far: what an observer of this connection saw us send. */
    byte[] sentBytes() {
        return sent.toByteArray();
    }

    void send(Frame f) throws IOException {
        sendRaw(Wire.encode(f));
    }

    /** Sends {@code hello} in a HELLO whose header acks {@code ack} bytes of sproxy's stream. */
    Hello send(Hello hello, long ack) throws IOException {
        send(new Frame(FrameType.HELLO, 0, ack, hello.encode()));
        return hello;
    }

    /** Sends a HELLO asking for a new session; returns the key share it offered. */
    SessionKeys.KeyShare helloNew() throws IOException {
        SessionKeys.KeyShare share = SessionKeys.KeyShare.generate();
        send(Hello.forNew(share.publicKey(), WINDOW), 0);
        return share;
    }

    /** Opens a new session as cproxy does (no pre-shared key) and derives its secret. */
    Credentials openSession(Duration timeout) throws IOException {
        SessionKeys.KeyShare share = helloNew();
        Answer a = welcome(timeout);
        if (a.status() != Handshake.Status.NEW_SESSION) {
            throw new AssertionError("expected NEW_SESSION, got " + a.status());
        }
        Welcome w = a.welcome();
        byte[] secret = SessionKeys.sessionSecret(share.agree(w.keyShare()), w.sessionId(), share.publicKey(),
                w.keyShare(), null);
        return new Credentials(w.sessionId(), secret);
    }

    /**
     * Resumes session {@code id} as cproxy does: HELLO, then a PROOF made with {@code secret}
     * over sproxy's CHALLENGE. Returns sproxy's answer to the PROOF, or the WELCOME that came
     * instead of a CHALLENGE.
     */
    Answer resume(long id, byte[] secret, long ack, Duration timeout) throws IOException {
        Hello hello = send(Hello.forResume(id, WINDOW), ack);
        Frame f = read(timeout);
        if (f.type() != FrameType.CHALLENGE) {
            return answer(f);
        }
        byte[] nonce = Arrays.copyOf(f.payload(), Handshake.CHALLENGE_NONCE_SIZE);
        send(new Frame(FrameType.PROOF, 0, 0, SessionKeys.clientResumeProof(secret, hello.encode(), ack, nonce)));
        return welcome(timeout);
    }

    /** What a session's cproxy knows: its id and secret. */
    record Credentials(long id, byte[] secret) {
    }

    /** The next frame, waiting at most {@code timeout}. */
    Frame read(Duration timeout) throws IOException {
        socket.setSoTimeout((int) Math.max(1, timeout.toMillis()));
        return reader.next();
    }

    /** The next frame that is not a HEARTBEAT or ACK. */
    Frame readSkippingControl(Duration timeout) throws IOException {
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
    Answer welcome(Duration timeout) throws IOException {
        return answer(read(timeout));
    }

    private static Answer answer(Frame f) throws IOException {
        if (f.type() != FrameType.WELCOME) {
            throw new AssertionError("expected a WELCOME, got " + f);
        }
        return new Answer(f, Welcome.decode(f));
    }

    /** A WELCOME frame (its header's seq/ack matter on a resume) and its decoded payload. */
    record Answer(Frame frame, Welcome welcome) {
        Handshake.Status status() {
            return welcome.status();
        }
    }

    /**
     * Reads and discards until the peer closes the connection (EOF or reset).
     *
     * @return true if it closed within {@code timeout}; false if it was still open then
     */
    boolean closedByPeerWithin(Duration timeout) throws IOException {
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
