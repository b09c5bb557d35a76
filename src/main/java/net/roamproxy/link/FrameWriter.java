package net.roamproxy.link;

import java.io.IOException;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import net.roamproxy.protocol.FrameType;
import net.roamproxy.protocol.Handshake;
import net.roamproxy.protocol.Hello;
import net.roamproxy.protocol.Welcome;
import net.roamproxy.protocol.Wire;

/**
 * Writes frames to one link, one method per frame type, as OkHttp's {@code Http2Writer} does:
 * the only place where frames are built, the handshake's and the session's. Control frames
 * reuse one header buffer, and DATA is framed in place in the caller's buffer, so nothing is
 * allocated per frame. A frame we cannot encode is our bug ({@link IllegalArgumentException}).
 * Every frame is logged at TRACE as {@code >> TYPE seq= ack= len=}.
 *
 * <p>Threading: not thread-safe; used by the handshake's thread, then only by a thread holding
 * the session's send lock.
 */
public final class FrameWriter {
    private static final Logger log = LogManager.getLogger(FrameWriter.class);

    private final Link link;
    private final String name;
    private final byte[] header = new byte[Wire.HEADER_SIZE];

    public FrameWriter(Link link, String name) {
        this.link = link;
        this.name = name;
    }

    Link link() {
        return link;
    }

    /** cproxy's first frame on a link; {@code ack} is how much of sproxy's stream it has delivered. */
    public void hello(long ack, Hello hello) throws IOException {
        handshake(FrameType.HELLO, ack, hello.encode());
    }

    /** sproxy asks for proof: its nonce, then (with a pre-shared key) its own proof. */
    public void challenge(byte[] payload) throws IOException {
        handshake(FrameType.CHALLENGE, 0, payload);
    }

    /** cproxy's answer to a CHALLENGE. */
    public void proof(byte[] payload) throws IOException {
        handshake(FrameType.PROOF, 0, payload);
    }

    /** sproxy refuses the link; the caller closes it. */
    public void refusal(Handshake.Status status) throws IOException {
        handshake(FrameType.WELCOME, 0, Welcome.refusal(status).encode());
    }

    /** A refusal as bytes, for a connection refused before it became a link (no TLS where sproxy needs it). */
    public static byte[] refusalFrame(Handshake.Status status) {
        byte[] payload = Welcome.refusal(status).encode();
        return Wire.encode(FrameType.WELCOME, 0, 0, payload, 0, payload.length);
    }

    /** sproxy's answer to a HELLO that opened or resumed this session. */
    void welcome(long seq, long ack, Welcome reply) throws IOException {
        byte[] payload = reply.encode();
        byte[] frame = Wire.encode(FrameType.WELCOME, seq, ack, payload, 0, payload.length);
        trace(FrameType.WELCOME, seq, ack, payload.length);
        link.send(frame, 0, frame.length);
    }

    private void handshake(FrameType type, long ack, byte[] payload) throws IOException {
        byte[] frame = Wire.encode(type, 0, ack, payload, 0, payload.length);
        trace(type, 0, ack, payload.length);
        link.send(frame, 0, frame.length);
    }

    /**
     * DATA whose {@code length} payload bytes already sit in {@code frame} after
     * {@link Wire#HEADER_SIZE} bytes of room for the header.
     */
    void data(byte[] frame, int length, long seq, long ack) throws IOException {
        Wire.writeHeader(frame, FrameType.DATA, length, seq, ack);
        trace(FrameType.DATA, seq, ack, length);
        link.send(frame, 0, Wire.HEADER_SIZE + length);
    }

    void heartbeat(long seq, long ack) throws IOException {
        control(FrameType.HEARTBEAT, seq, ack);
    }

    void ack(long seq, long ack) throws IOException {
        control(FrameType.ACK, seq, ack);
    }

    /** The end of our stream; {@code finalLength} is its length. */
    void end(long finalLength, long ack) throws IOException {
        control(FrameType.END, finalLength, ack);
    }

    /** Our application reset its connection. */
    void abort(long seq, long ack) throws IOException {
        control(FrameType.ABORT, seq, ack);
    }

    /** This proxy is stopping. */
    void stopping(long seq, long ack) throws IOException {
        control(FrameType.STOPPING, seq, ack);
    }

    private void control(FrameType type, long seq, long ack) throws IOException {
        Wire.writeHeader(header, type, 0, seq, ack);
        trace(type, seq, ack, 0);
        link.send(header, 0, header.length);
    }

    private void trace(FrameType type, long seq, long ack, int length) {
        if (log.isTraceEnabled()) {
            log.trace("{} >> {} seq={} ack={} len={}", name, type, seq, ack, length);
        }
    }
}
