package net.roamproxy.protocol;

import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * The link's opening handshake (protocol version 2): the sizes, codes and helpers shared by
 * its frames. cproxy opens every link with a {@link Hello}; sproxy answers with a
 * {@link Welcome}, after a CHALLENGE and a PROOF where something must be proven:
 *
 * <pre>
 *  new session, no pre-shared key      resume, or any link with a pre-shared key
 *  HELLO NEW (key share)  ---->         HELLO (NEW: key share; RESUME: id)  ---->
 *                         <----  WELCOME          <----  CHALLENGE: server nonce [| key proof]
 *                                       PROOF: [resume proof |] [key proof]  ---->
 *                                                 <----  WELCOME (RESUMED: proof of the secret)
 * </pre>
 *
 * The session secret never crosses the wire: both ends derive it from an X25519 key
 * agreement when the session is created ({@link SessionKeys}), and a resume proves it with an
 * HMAC over sproxy's fresh challenge, so a recorded resume is worthless. Every code here is
 * part of the wire format: never renumber.
 */
public final class Handshake {
    /** An X25519 public key. */
    public static final int KEY_SIZE = 32;
    /** cproxy's fresh nonce in every HELLO. */
    public static final int NONCE_SIZE = 16;
    /** sproxy's fresh nonce at the start of every CHALLENGE. */
    public static final int CHALLENGE_NONCE_SIZE = 32;
    /** An HMAC-SHA256 proof. */
    public static final int PROOF_SIZE = 32;
    private static final SecureRandom RANDOM = new SecureRandom();

    private Handshake() {
    }

    /** What a HELLO asks for. */
    public enum Mode {
        NEW(1), RESUME(2);

        private final int code;

        Mode(int code) {
            this.code = code;
        }

        public int code() {
            return code;
        }

        static Mode of(int code) throws ProtocolException {
            for (Mode m : values()) {
                if (m.code == code) {
                    return m;
                }
            }
            throw new ProtocolException("HELLO mode " + code + " is unknown");
        }
    }

    /** How sproxy answered a HELLO. */
    public enum Status {
        NEW_SESSION(1), RESUMED(2),
        /** No such session (it ended, timed out, or sproxy restarted). */
        UNKNOWN_SESSION(3),
        VERSION_MISMATCH(4), TARGET_UNAVAILABLE(5), BUSY(6),
        /** The pre-shared-key proof was wrong. */
        AUTH_FAILED(7),
        /** The resume proof was wrong: a replayed or forged resume. */
        BAD_PROOF(8),
        /** sproxy runs with TLS and the link does not use it. */
        TLS_REQUIRED(9),
        /** sproxy offers no service of the name the HELLO asked for. */
        UNKNOWN_SERVICE(10);

        private final int code;

        Status(int code) {
            this.code = code;
        }

        public int code() {
            return code;
        }

        /** Whether the link is usable after this answer. */
        public boolean accepted() {
            return this == NEW_SESSION || this == RESUMED;
        }

        static Status of(int code) throws ProtocolException {
            for (Status s : values()) {
                if (s.code == code) {
                    return s;
                }
            }
            throw new ProtocolException("WELCOME status " + code + " is unknown");
        }
    }

    /** Fresh bytes from {@link SecureRandom}: nonces. */
    public static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    /** The id as operators see it in logs. */
    public static String idText(long sessionId) {
        return HexFormat.of().toHexDigits(sessionId);
    }

    static void requireSize(String what, byte[] b, int size) {
        if (b.length != size) {
            throw new IllegalArgumentException(what + " must be " + size + " bytes, got " + b.length);
        }
    }
}
