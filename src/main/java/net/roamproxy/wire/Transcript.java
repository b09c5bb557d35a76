package net.roamproxy.wire;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;

/**
 * The running SHA-256 of a link's handshake frames, whole frames with their headers, in the
 * order they crossed the wire. Every proof and signature of the handshake covers one
 * ({@link KeySchedule}). Not thread-safe: one handshake thread.
 */
public final class Transcript {
    private final MessageDigest digest;

    public Transcript() {
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
        }
    }

    /** Adds the frame bytes {@code b[off, off+len)}. */
    public Transcript add(byte[] b, int off, int len) {
        digest.update(b, off, len);
        return this;
    }

    /** Adds a whole frame. */
    public Transcript add(byte[] frame) {
        return add(frame, 0, frame.length);
    }

    /** Adds a clear frame as it was on the wire (its encoding is exact: every header field is fixed). */
    public Transcript add(Frame frame) {
        return add(Wire.encode(frame));
    }

    /** The hash of everything added so far; more may be added after. */
    public byte[] hash() {
        try {
            return ((MessageDigest) digest.clone()).digest();
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException("the JDK's SHA-256 can be cloned", e);
        }
    }

    /** The hash of everything added so far followed by {@code frame} without its last {@code tail} bytes. */
    public byte[] hashWith(byte[] frame, int tail) {
        try {
            MessageDigest d = (MessageDigest) digest.clone();
            d.update(frame, 0, frame.length - tail);
            return d.digest();
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException("the JDK's SHA-256 can be cloned", e);
        }
    }
}
