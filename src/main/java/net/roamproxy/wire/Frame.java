package net.roamproxy.wire;

import java.util.Arrays;
import java.util.Objects;

/**
 * One frame on the link. {@code seq} is a byte offset into the sender's stream: for DATA the
 * offset of the first payload byte, for END the stream's final length, otherwise the sender's
 * next offset. {@code ack} is how many bytes of the receiver's stream the sender has delivered
 * to its application (cumulative). Immutable by convention: the payload array is not copied.
 */
public record Frame(FrameType type, long seq, long ack, byte[] payload) {

    private static final byte[] EMPTY = new byte[0];

    public Frame {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(payload, "payload");
    }

    public static Frame control(FrameType type, long seq, long ack) {
        return new Frame(type, seq, ack, EMPTY);
    }

    public int length() {
        return payload.length;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Frame f && f.type == type && f.seq == seq && f.ack == ack
                && Arrays.equals(f.payload, payload);
    }

    @Override
    public int hashCode() {
        return Objects.hash(type, seq, ack, Arrays.hashCode(payload));
    }

    /** One line for logs: type, seq, ack, payload length. Never the payload. */
    @Override
    public String toString() {
        return type + " seq=" + seq + " ack=" + ack + " len=" + payload.length;
    }
}
