package net.roamproxy.wire;

import java.util.Arrays;

import net.roamproxy.wire.Handshake.Status;

/**
 * The payload of a REFUSED frame, sproxy's "no" to a HELLO, in clear. cproxy acts on a refusal
 * only if its authentication checks out; any other is a failed dial, so a forged "no" can cost
 * a link but never a session.
 *
 * <pre>
 *  offset size field
 *   0      1   status (3 UNKNOWN_SESSION, 5 TARGET_UNAVAILABLE, 6 BUSY, 7 AUTH_FAILED, 10 UNKNOWN_SERVICE,
 *              11 WRONG_INSTANCE)
 *   1      n   authentication, by its length:
 *                96: sproxy's Ed25519 host key (32) and its signature (64) over the transcript of the
 *                    link, this frame without the signature included ({@link KeySchedule#refusalSigned}):
 *                    refusals of a new session
 *                32: MAC with the session's refusal token over the transcript
 *                    ({@link KeySchedule#refusalMac}): UNKNOWN_SESSION for a resume
 *                 0: none; cproxy never acts on it (WRONG_INSTANCE is always so: a failed dial)
 * </pre>
 *
 * @param auth the host key and signature, the MAC, or nothing; zeros where not yet made
 */
public record Refusal(Status status, byte[] auth) {
    public static final int MIN_SIZE = 1;
    public static final int SIGNED_AUTH_SIZE = Handshake.HOST_KEY_SIZE + Handshake.SIGNATURE_SIZE;
    public static final int MAX_SIZE = 1 + SIGNED_AUTH_SIZE;

    public Refusal {
        if (status.accepted()) {
            throw new IllegalArgumentException(status + " is not a refusal");
        }
        if (auth.length != 0 && auth.length != Handshake.MAC_SIZE && auth.length != SIGNED_AUTH_SIZE) {
            throw new IllegalArgumentException("refusal authentication of " + auth.length + " bytes");
        }
    }

    /** Whether this refusal is signed by a host key. */
    public boolean signed() {
        return auth.length == SIGNED_AUTH_SIZE;
    }

    /** The signing host key of a {@linkplain #signed() signed} refusal. */
    public byte[] hostKey() {
        return Arrays.copyOf(auth, Handshake.HOST_KEY_SIZE);
    }

    /** The signature, or the MAC: what the last bytes of the frame are. */
    public byte[] tag() {
        return signed() ? Arrays.copyOfRange(auth, Handshake.HOST_KEY_SIZE, auth.length) : auth.clone();
    }

    public byte[] encode() {
        byte[] b = new byte[1 + auth.length];
        b[0] = (byte) status.code();
        System.arraycopy(auth, 0, b, 1, auth.length);
        return b;
    }

    /** Decodes and validates the payload of a REFUSED frame. */
    public static Refusal decode(Frame frame) throws ProtocolException {
        if (frame.type() != FrameType.REFUSED) {
            throw new ProtocolException("expected a REFUSED, got " + frame.type());
        }
        byte[] b = frame.payload();
        if (b.length == 0) {
            throw new ProtocolException("REFUSED payload is empty");
        }
        Status status = Status.of(b[0] & 0xff, "REFUSED");
        if (status.accepted()) {
            throw new ProtocolException("REFUSED status " + status + " is a WELCOME's");
        }
        int n = b.length - 1;
        if (n != 0 && n != Handshake.MAC_SIZE && n != SIGNED_AUTH_SIZE) {
            throw new ProtocolException("REFUSED authentication is " + n + " bytes, expected 0, "
                    + Handshake.MAC_SIZE + " or " + SIGNED_AUTH_SIZE);
        }
        return new Refusal(status, Arrays.copyOfRange(b, 1, b.length));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Refusal r && r.status == status && Arrays.equals(r.auth, auth);
    }

    @Override
    public int hashCode() {
        return status.hashCode();
    }

    @Override
    public String toString() {
        return "REFUSED " + status + (signed() ? " signed" : auth.length > 0 ? " with MAC" : " unauthenticated");
    }
}
