package net.roamproxy.wire;

import java.util.Arrays;

import net.roamproxy.wire.Handshake.Status;

/**
 * The payload of a WELCOME frame, sproxy's acceptance of a HELLO, in clear. Its header
 * {@code ack} says how much of cproxy's stream sproxy has delivered (0 for a new session):
 * cproxy replays from there. The authentication comes last, so "the frame without it" is a
 * prefix of the frame's bytes.
 *
 * <pre>
 *  offset size field
 *   0      1   status: 1 NEW_SESSION, 2 RESUMED
 *   1      8   session id
 *   9     32   sproxy's nonce, fresh for every WELCOME
 *  41     32   sproxy's X25519 key share, fresh for every WELCOME
 *  73      4   sproxy's receive window in bytes, 1 .. 2^31-1
 *  NEW_SESSION (173 bytes):
 *  77     32   sproxy's Ed25519 host key
 * 109     64   signature by the host key over the transcript ({@link KeySchedule#welcomeSigned})
 *  RESUMED (109 bytes):
 *  77     32   MAC by the session secret over the transcript ({@link KeySchedule#serverProof})
 * </pre>
 *
 * @param hostKey the host key (NEW_SESSION), or an empty array (RESUMED)
 * @param auth    the signature (NEW_SESSION) or the MAC (RESUMED); zeros before it is made
 */
public record Welcome(Status status, long sessionId, byte[] nonce, byte[] keyShare, int window, byte[] hostKey,
                      byte[] auth) {
    public static final int FIXED_SIZE = 1 + 8 + Handshake.NONCE_SIZE + Handshake.KEY_SIZE + 4;
    public static final int NEW_SESSION_SIZE = FIXED_SIZE + Handshake.HOST_KEY_SIZE + Handshake.SIGNATURE_SIZE;
    public static final int RESUMED_SIZE = FIXED_SIZE + Handshake.MAC_SIZE;

    public Welcome {
        if (!status.accepted()) {
            throw new IllegalArgumentException("a WELCOME accepts; " + status + " is a refusal");
        }
        boolean fresh = status == Status.NEW_SESSION;
        Handshake.requireSize("nonce", nonce, Handshake.NONCE_SIZE);
        Handshake.requireSize("key share", keyShare, Handshake.KEY_SIZE);
        Handshake.requireSize("host key", hostKey, fresh ? Handshake.HOST_KEY_SIZE : 0);
        Handshake.requireSize("authentication", auth, authSize(status));
        if (window <= 0) {
            throw new IllegalArgumentException("window must be positive");
        }
    }

    /** The size of the authentication that ends a WELCOME of {@code status}. */
    public static int authSize(Status status) {
        return status == Status.NEW_SESSION ? Handshake.SIGNATURE_SIZE : Handshake.MAC_SIZE;
    }

    /** The same WELCOME with {@code newAuth} as its authentication. */
    public Welcome withAuth(byte[] newAuth) {
        return new Welcome(status, sessionId, nonce, keyShare, window, hostKey, newAuth);
    }

    public byte[] encode() {
        byte[] b = new byte[FIXED_SIZE + hostKey.length + auth.length];
        b[0] = (byte) status.code();
        Wire.putLong(b, 1, sessionId);
        System.arraycopy(nonce, 0, b, 9, Handshake.NONCE_SIZE);
        System.arraycopy(keyShare, 0, b, 41, Handshake.KEY_SIZE);
        Wire.putInt(b, 73, window);
        System.arraycopy(hostKey, 0, b, FIXED_SIZE, hostKey.length);
        System.arraycopy(auth, 0, b, FIXED_SIZE + hostKey.length, auth.length);
        return b;
    }

    /** Decodes and validates the payload of a WELCOME frame. */
    public static Welcome decode(Frame frame) throws ProtocolException {
        if (frame.type() != FrameType.WELCOME) {
            throw new ProtocolException("expected a WELCOME, got " + frame.type());
        }
        byte[] b = frame.payload();
        if (b.length == 0) {
            throw new ProtocolException("WELCOME payload is empty");
        }
        Status status = Status.of(b[0] & 0xff, "WELCOME");
        if (!status.accepted()) {
            throw new ProtocolException("WELCOME status " + status + " is a refusal's");
        }
        int size = status == Status.NEW_SESSION ? NEW_SESSION_SIZE : RESUMED_SIZE;
        if (b.length != size) {
            throw new ProtocolException("WELCOME " + status + " payload is " + b.length + " bytes, expected " + size);
        }
        long id = Wire.getLong(b, 1);
        if (id == 0) {
            throw new ProtocolException("WELCOME with session id 0");
        }
        int window = Wire.getInt(b, 73);
        if (window <= 0) {
            throw new ProtocolException("WELCOME window " + Integer.toUnsignedString(window) + " is not in 1..2^31-1");
        }
        int hostKeySize = status == Status.NEW_SESSION ? Handshake.HOST_KEY_SIZE : 0;
        return new Welcome(status, id, Arrays.copyOfRange(b, 9, 41), Arrays.copyOfRange(b, 41, 73), window,
                Arrays.copyOfRange(b, FIXED_SIZE, FIXED_SIZE + hostKeySize),
                Arrays.copyOfRange(b, FIXED_SIZE + hostKeySize, b.length));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Welcome w && w.status == status && w.sessionId == sessionId && Arrays.equals(w.nonce, nonce)
                && Arrays.equals(w.keyShare, keyShare) && w.window == window && Arrays.equals(w.hostKey, hostKey)
                && Arrays.equals(w.auth, auth);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(sessionId) * 31 + status.hashCode();
    }

    @Override
    public String toString() {
        return "WELCOME " + status + " session " + Handshake.idText(sessionId) + " window " + window;
    }
}
