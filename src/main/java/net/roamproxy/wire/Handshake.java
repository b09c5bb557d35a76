package net.roamproxy.wire;

import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * The link's opening handshake (protocol version 3): the sizes, codes and helpers shared by
 * its frames. Every link takes one round trip after TCP connects before cproxy may send data;
 * a new session takes one more before sproxy does, because sproxy connects to the service only
 * once cproxy has proved the keys:
 *
 * <pre>
 *  new session                                   resume
 *  HELLO NEW (nonce, key share)  ---->           HELLO RESUME (id, nonce, fresh key share, ack)  ---->
 *        <----  WELCOME NEW_SESSION (id, nonce,         <----  WELCOME RESUMED (nonce, fresh key share,
 *               key share, host key, signature)               ack, MAC by the session secret)
 *  PROOF (sealed)                ---->           PROOF (sealed), then data at once  ---->
 *        <----  TOKEN (sealed), then data
 * </pre>
 *
 * Each side proves itself over the hash of every handshake frame of this link, so nothing in
 * them can be altered: sproxy signs a new session with its long-term host key, which cproxy
 * trusts on first use; a resume is proved with MACs keyed by the session secret; cproxy's
 * PROOF is the first frame under the link's keys, and sproxy changes nothing in the session
 * before it checks out. Every link mixes a fresh X25519 exchange into its keys
 * ({@link KeySchedule}). A refusal carries a signature or a MAC ({@link Refusal}); cproxy
 * acts on no other. Every code here is part of the wire format: never renumber.
 */
public final class Handshake {
    /** An X25519 public key. */
    public static final int KEY_SIZE = 32;
    /** Each side's fresh nonce in HELLO and WELCOME. */
    public static final int NONCE_SIZE = 32;
    /** An HMAC-SHA256 value, and the refusal token. */
    public static final int MAC_SIZE = 32;
    /** An Ed25519 public key. */
    public static final int HOST_KEY_SIZE = 32;
    /** An Ed25519 signature. */
    public static final int SIGNATURE_SIZE = 64;
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

    /** How sproxy answered a HELLO: 1 and 2 in a WELCOME, the others in a REFUSED. */
    public enum Status {
        NEW_SESSION(1), RESUMED(2),
        /** No such session (it ended, timed out, or sproxy restarted). */
        UNKNOWN_SESSION(3),
        /** The peer speaks another protocol version (sent in that version's own format). */
        VERSION_MISMATCH(4),
        TARGET_UNAVAILABLE(5), BUSY(6),
        /** cproxy's PROOF of a new session failed: the pre-shared keys differ. */
        AUTH_FAILED(7),
        /** sproxy offers no service of the name the HELLO asked for. */
        UNKNOWN_SERVICE(10),
        /**
         * A resume reached an sproxy instance other than the one its session id names (a load
         * balancer that routes wrongly): the session may well live on, so cproxy keeps dialling.
         * Never authenticated, since only the session's own instance holds its refusal token.
         */
        WRONG_INSTANCE(11);

        private final int code;

        Status(int code) {
            this.code = code;
        }

        public int code() {
            return code;
        }

        /** Whether this status accepts the link (a WELCOME's) rather than refusing it. */
        public boolean accepted() {
            return this == NEW_SESSION || this == RESUMED;
        }

        static Status of(int code, String frame) throws ProtocolException {
            for (Status s : values()) {
                if (s.code == code) {
                    return s;
                }
            }
            throw new ProtocolException(frame + " status " + code + " is unknown");
        }

        /** The names of the statuses that refuse a link, as logs and metrics show them. */
        public static List<String> refusalNames() {
            return Arrays.stream(values()).filter(s -> !s.accepted()).map(Enum::name).toList();
        }
    }

    /** Fresh bytes from {@link SecureRandom}: nonces, keys. */
    public static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        RANDOM.nextBytes(b);
        return b;
    }

    /**
     * Where a session id carries the number of the sproxy instance that issued it: its first,
     * most significant byte on the wire (0 from an sproxy started without {@code --instance}).
     */
    public static final int INSTANCE_SHIFT = 56;
    /**
     * The offset, in the TCP stream cproxy sends, of the instance byte of a HELLO RESUME: the
     * header, then the HELLO's mode byte, then the session id. A load balancer that reads it can
     * route every resume to its instance, whatever address the client has now.
     */
    public static final int INSTANCE_BYTE_OFFSET = Wire.HEADER_SIZE + Hello.SESSION_ID_OFFSET;

    /** The instance number that {@code sessionId} carries, 0 to 255. */
    public static int instanceOf(long sessionId) {
        return (int) (sessionId >>> INSTANCE_SHIFT);
    }

    /** {@code random} with its instance byte replaced by {@code instance} (0 to 255). */
    public static long withInstance(long random, int instance) {
        if (instance < 0 || instance > 255) {
            throw new IllegalArgumentException("instance must be 0 to 255, got " + instance);
        }
        return random & (-1L >>> 8) | (long) instance << INSTANCE_SHIFT;
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
