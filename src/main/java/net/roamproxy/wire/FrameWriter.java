package net.roamproxy.wire;

import java.io.IOException;
import java.util.Arrays;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Writes frames to one link, one method per frame type, as OkHttp's {@code Http2Writer} does:
 * the only place where frames of this protocol are built, the handshake's and the session's
 * (sproxy's answer to a cproxy of version 1 or 2 is in that version's format, and built where
 * it is sent, {@code server.LegacyRefusal}). The handshake's clear frames are returned as
 * sent, for the transcript; every other frame is sealed under the link's keys
 * ({@link FrameSink#sendSealed}). Control frames reuse one buffer, and DATA is framed and
 * sealed in place in the caller's buffer, so nothing is allocated per frame. A frame we cannot
 * encode is our bug ({@link IllegalArgumentException}). Every frame is logged at TRACE as
 * {@code >> TYPE seq= ack= len=}, with the length in clear.
 *
 * <p>Threading: not thread-safe; used by the handshake's thread, then only by a thread holding
 * the lock of the session's link.
 */
public final class FrameWriter<S extends FrameSink> {
    private static final Logger log = LogManager.getLogger(FrameWriter.class);

    private final S link;
    private final String name;
    /** Header, a handshake MAC's room, and the tag's. */
    private final byte[] control = new byte[Wire.HEADER_SIZE + Handshake.MAC_SIZE + Wire.TAG_SIZE];

    public FrameWriter(S link, String name) {
        this.link = link;
        this.name = name;
    }

    /** The link this writes to. */
    public S link() {
        return link;
    }

    /** The bytes of a clear handshake frame, as {@link #hello}, {@link #welcome} or {@link #refused} would send them. */
    public static byte[] encode(FrameType type, long seq, long ack, byte[] payload) {
        return Wire.encode(type, seq, ack, payload, 0, payload.length);
    }

    /** cproxy's first frame on a link; {@code ack} is how much of sproxy's stream it has delivered. */
    public byte[] hello(long ack, Hello hello) throws IOException {
        return clear(FrameType.HELLO, 0, ack, hello.encode());
    }

    /** sproxy accepts a HELLO; {@code ack} is how much of cproxy's stream it has delivered. */
    public byte[] welcome(long seq, long ack, Welcome welcome) throws IOException {
        return clear(FrameType.WELCOME, seq, ack, welcome.encode());
    }

    /** sproxy refuses a HELLO; the caller closes the link. */
    public byte[] refused(Refusal refusal) throws IOException {
        return clear(FrameType.REFUSED, 0, 0, refusal.encode());
    }

    /** cproxy's proof of the session secret: its first sealed frame on every link. @return the frame as sent */
    public byte[] proof(byte[] mac) throws IOException {
        return handshakeSealed(FrameType.PROOF, mac);
    }

    /** sproxy's refusal token: its first sealed frame on a new session. */
    public void token(byte[] token) throws IOException {
        handshakeSealed(FrameType.TOKEN, token);
    }

    private byte[] clear(FrameType type, long seq, long ack, byte[] payload) throws IOException {
        byte[] frame = encode(type, seq, ack, payload);
        trace(type, seq, ack, payload.length);
        link.send(frame, 0, frame.length);
        return frame;
    }

    private byte[] handshakeSealed(FrameType type, byte[] payload) throws IOException {
        Wire.writeHeader(control, type, payload.length, 0, 0);
        System.arraycopy(payload, 0, control, Wire.HEADER_SIZE, payload.length);
        trace(type, 0, 0, payload.length);
        return Arrays.copyOf(control, link.sendSealed(control, payload.length));
    }

    /**
     * DATA whose {@code length} payload bytes already sit in {@code frame} after
     * {@link Wire#HEADER_SIZE} bytes of room for the header, with {@link Wire#TAG_SIZE} bytes
     * of room after them for the tag.
     */
    public void data(byte[] frame, int length, long seq, long ack) throws IOException {
        Wire.writeHeader(frame, FrameType.DATA, length, seq, ack);
        trace(FrameType.DATA, seq, ack, length);
        link.sendSealed(frame, length);
    }

    /** Also cproxy's first word on a new session's link: it tells sproxy the TOKEN arrived. */
    public void heartbeat(long seq, long ack) throws IOException {
        control(FrameType.HEARTBEAT, seq, ack);
    }

    public void ack(long seq, long ack) throws IOException {
        control(FrameType.ACK, seq, ack);
    }

    /** The end of our stream; {@code finalLength} is its length. */
    public void end(long finalLength, long ack) throws IOException {
        control(FrameType.END, finalLength, ack);
    }

    /** Our application reset its connection. */
    public void abort(long seq, long ack) throws IOException {
        control(FrameType.ABORT, seq, ack);
    }

    /** This proxy is stopping. */
    public void stopping(long seq, long ack) throws IOException {
        control(FrameType.STOPPING, seq, ack);
    }

    private void control(FrameType type, long seq, long ack) throws IOException {
        Wire.writeHeader(control, type, 0, seq, ack);
        trace(type, seq, ack, 0);
        link.sendSealed(control, 0);
    }

    private void trace(FrameType type, long seq, long ack, int length) {
        if (log.isTraceEnabled()) {
            log.trace("{} >> {} seq={} ack={} len={}", name, type, seq, ack, length);
        }
    }
}
