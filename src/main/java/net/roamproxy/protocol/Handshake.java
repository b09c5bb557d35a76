package net.roamproxy.protocol;

import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;

/**
 * Payload of HELLO and WELCOME frames: a code (HELLO: the {@link Mode}; WELCOME: the
 * {@link Status}), the session id, the session secret, the sender's receive window and a
 * fresh random nonce (used by the pre-shared-key proof).
 *
 * <pre>
 *  offset size field
 *   0      1   code
 *   1      8   session id (0 in a HELLO for a new session)
 *   9     16   secret     (in a HELLO for a new session: the client's new-session token,
 *                          random and the same on every attempt; all zeros: none)
 *  25      4   receive window in bytes
 *  29     16   nonce
 * </pre>
 *
 * The id names the session in logs; the secret is the resume credential and never leaves
 * this object except onto the wire.
 */
public record Handshake(int code, long sessionId, byte[] secret, int window, byte[] nonce) {
    public static final int SECRET_SIZE = 16;
    public static final int NONCE_SIZE = 16;
    public static final int SIZE = 1 + 8 + SECRET_SIZE + 4 + NONCE_SIZE;
    private static final SecureRandom RANDOM = new SecureRandom();

    /** What a HELLO asks for. Codes are part of the wire format: never renumber. */
    public enum Mode {
        NEW(0), RESUME(1);

        private final int code;

        Mode(int code) {
            this.code = code;
        }

        public int code() {
            return code;
        }

        /** @return the mode for a wire code, or {@code null} if the code is unknown */
        public static Mode ofCode(int code) {
            for (Mode m : values()) {
                if (m.code == code) {
                    return m;
                }
            }
            return null;
        }
    }

    /** How sproxy answered a HELLO. Codes are part of the wire format: never renumber. */
    public enum Status {
        NEW_SESSION(0), RESUMED(1), UNKNOWN_SESSION(2), VERSION_MISMATCH(3), TARGET_UNAVAILABLE(4), BUSY(5),
        AUTH_FAILED(6);

        private final int code;

        Status(int code) {
            this.code = code;
        }

        public int code() {
            return code;
        }

        /** @return the status for a wire code, or {@code null} if the code is unknown */
        public static Status ofCode(int code) {
            for (Status st : values()) {
                if (st.code == code) {
                    return st;
                }
            }
            return null;
        }

        /** Whether the link is usable after this answer. */
        public boolean accepted() {
            return this == NEW_SESSION || this == RESUMED;
        }
    }

    public Handshake {
        if (secret.length != SECRET_SIZE) {
            throw new IllegalArgumentException("secret must be " + SECRET_SIZE + " bytes");
        }
        if (window <= 0) {
            throw new IllegalArgumentException("window must be positive");
        }
        if (nonce.length != NONCE_SIZE) {
            throw new IllegalArgumentException("nonce must be " + NONCE_SIZE + " bytes");
        }
    }

    /** A HELLO with a fresh random nonce. */
    public static Handshake hello(Mode mode, long sessionId, byte[] secret, int window) {
        return new Handshake(mode.code(), sessionId, secret, window, randomBytes(NONCE_SIZE));
    }

    /** A WELCOME with a fresh random nonce. */
    public static Handshake welcome(Status status, long sessionId, byte[] secret, int window) {
        return new Handshake(status.code(), sessionId, secret, window, randomBytes(NONCE_SIZE));
    }

    /** A refusal: carries only the status. */
    public static Handshake refusal(Status status) {
        return welcome(status, 0, new byte[SECRET_SIZE], 1);
    }

    /** Fresh bytes from {@link SecureRandom}: session secrets and nonces. */
    public static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    public byte[] encode() {
        byte[] b = new byte[SIZE];
        b[0] = (byte) code;
        Wire.putLong(b, 1, sessionId);
        System.arraycopy(secret, 0, b, 9, SECRET_SIZE);
        Wire.putInt(b, 25, window);
        System.arraycopy(nonce, 0, b, 29, NONCE_SIZE);
        return b;
    }

    /** Decodes and validates the payload of a HELLO or WELCOME frame. */
    public static Handshake decode(Frame frame) throws ProtocolException {
        byte[] b = frame.payload();
        if (frame.type() != FrameType.HELLO && frame.type() != FrameType.WELCOME) {
            throw new ProtocolException("expected a HELLO or WELCOME, got " + frame.type());
        }
        if (b.length != SIZE) {
            throw new ProtocolException(frame.type() + " payload is " + b.length + " bytes, expected " + SIZE);
        }
        int code = b[0] & 0xff;
        boolean known = frame.type() == FrameType.HELLO ? Mode.ofCode(code) != null : Status.ofCode(code) != null;
        if (!known) {
            throw new ProtocolException(frame.type() + " code " + code + " is unknown");
        }
        int window = Wire.getInt(b, 25);
        if (window <= 0) {
            throw new ProtocolException(frame.type() + " window " + Integer.toUnsignedString(window) + " is not positive");
        }
        return new Handshake(code, Wire.getLong(b, 1), Arrays.copyOfRange(b, 9, 9 + SECRET_SIZE), window,
                Arrays.copyOfRange(b, 29, 29 + NONCE_SIZE));
    }

    public Mode mode() {
        return Mode.ofCode(code);
    }

    public Status status() {
        return Status.ofCode(code);
    }

    /** Constant-time comparison, so a guesser learns nothing from timing. */
    public boolean secretMatches(byte[] expected) {
        return MessageDigest.isEqual(secret, expected);
    }

    /** The id as operators see it in logs. */
    public static String idText(long sessionId) {
        return HexFormat.of().toHexDigits(sessionId);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Handshake h && h.code == code && h.sessionId == sessionId
                && Arrays.equals(h.secret, secret) && h.window == window && Arrays.equals(h.nonce, nonce);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(sessionId) * 31 + code;
    }

    /** Never prints the secret. */
    @Override
    public String toString() {
        return "Handshake[code=" + code + ", session=" + idText(sessionId) + ", window=" + window + "]";
    }
}
