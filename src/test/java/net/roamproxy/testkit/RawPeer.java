package net.roamproxy.testkit;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.Arrays;

import net.roamproxy.wire.Frame;
import net.roamproxy.wire.FrameProtection;
import net.roamproxy.wire.FrameReader;
import net.roamproxy.wire.FrameType;
import net.roamproxy.wire.KeySchedule;
import net.roamproxy.wire.Transcript;
import net.roamproxy.wire.Wire;

/**
 * One end of a link driven by hand, byte by byte: clear frames, sealed frames under keys it
 * was given, or anything else. Built on the product's {@link Wire}, {@link FrameReader} and
 * {@link FrameProtection}, so a test never hard-codes the wire layout; the handshakes on top
 * are {@link RawLink} (a cproxy) and {@link FakeSproxy} (an sproxy). Records every byte it sends
 * and the handshake's {@link #transcript}.
 *
 * <p>Threading: one test thread at a time; {@link #close()} from any thread.
 */
public class RawPeer implements AutoCloseable {
    final Socket socket;
    final Transcript transcript = new Transcript();
    private final OutputStream out;
    private final InputStream in;
    private final FrameReader reader;
    private final ByteArrayOutputStream sent = new ByteArrayOutputStream();
    private FrameProtection.Sealer sealer;

    RawPeer(Socket socket) throws IOException {
        this.socket = socket;
        socket.setTcpNoDelay(true);
        this.out = socket.getOutputStream();
        this.in = socket.getInputStream();
        this.reader = new FrameReader(in);
    }

    /** Our port, which with our address is how the peer's log names this connection. */
    public int localPort() {
        return socket.getLocalPort();
    }

    /** The peer name sproxy logs for this connection ({@code 127.0.0.1:<port>}, or another loopback address). */
    public String peerName() {
        return socket.getLocalAddress().getHostAddress() + ":" + localPort();
    }

    public void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
        sent.writeBytes(bytes);
    }

    /** Every byte sent so far: what an observer of this connection saw us send. */
    public byte[] sentBytes() {
        return sent.toByteArray();
    }

    /** Sends a clear frame and adds it to the transcript; returns its bytes. */
    public byte[] send(Frame f) throws IOException {
        byte[] b = Wire.encode(f);
        transcript.add(b);
        sendRaw(b);
        return b;
    }

    /** Seals and sends a frame under our keys; returns its bytes as sent. */
    public byte[] sendSealed(FrameType type, long seq, long ack, byte[] payload) throws IOException {
        byte[] sealed = seal(type, seq, ack, payload);
        sendRaw(sealed);
        return sealed;
    }

    /** Seals a frame under our keys without sending it (it takes its place in the frame count all the same). */
    public byte[] seal(FrameType type, long seq, long ack, byte[] payload) throws IOException {
        byte[] frame = new byte[Wire.HEADER_SIZE + payload.length + Wire.TAG_SIZE];
        Wire.writeHeader(frame, type, payload.length, seq, ack);
        System.arraycopy(payload, 0, frame, Wire.HEADER_SIZE, payload.length);
        return Arrays.copyOf(frame, sealer.seal(frame, payload.length));
    }

    /** Installs a link's keys: {@code client} says which direction is ours. */
    void protect(KeySchedule.LinkKeys k, boolean client) {
        sealer = FrameProtection.sealer(client ? k.c2sKey() : k.s2cKey(), client ? k.c2sIv() : k.s2cIv());
        reader.protect(FrameProtection.opener(client ? k.s2cKey() : k.c2sKey(), client ? k.s2cIv() : k.c2sIv()));
    }

    /** The next frame, opened if sealed, waiting at most {@code timeout}. */
    public Frame read(Duration timeout) throws IOException {
        socket.setSoTimeout((int) Math.max(1, timeout.toMillis()));
        return reader.next();
    }

    /** Like {@link #read}, keeping a sealed frame's bytes as they came in {@link #lastWire()}. */
    Frame readKeepingWire(Duration timeout) throws IOException {
        reader.keepNextWire();
        return read(timeout);
    }

    byte[] lastWire() {
        return reader.lastWire();
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

    /** Our FIN: we send nothing more. */
    public void shutdownOutput() throws IOException {
        socket.shutdownOutput();
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // best effort
        }
    }
}
