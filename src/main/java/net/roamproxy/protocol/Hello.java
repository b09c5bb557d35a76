package net.roamproxy.protocol;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.regex.Pattern;

import net.roamproxy.protocol.Handshake.Mode;

/**
 * The payload of a HELLO frame, cproxy's first frame on every link. The frame's header
 * {@code ack} says how much of sproxy's stream cproxy has delivered: replay starts there.
 *
 * <pre>
 *  offset size field
 *   0      1   mode: 1 NEW, 2 RESUME
 *   1      8   session id (0 for NEW)
 *   9     32   NEW: cproxy's X25519 key share, the same on every attempt for one session
 *              (sproxy recognises a retry whose WELCOME was lost by it); RESUME: zeros
 *  41     16   nonce, fresh for every HELLO
 *  57      4   cproxy's receive window in bytes (positive)
 *  61      1   n, the length of the service name (0: sproxy's default service; always 0 in
 *              a RESUME)
 *  62      n   NEW: the service the session is for, as sproxy names it (see {@link #validService})
 * </pre>
 */
public record Hello(Mode mode, long sessionId, byte[] keyShare, byte[] nonce, int window, String service) {
    /** Size without a service name, the smallest HELLO. */
    public static final int SIZE = 1 + 8 + Handshake.KEY_SIZE + Handshake.NONCE_SIZE + 4 + 1;
    public static final int MAX_SERVICE_LENGTH = 32;
    public static final int MAX_SIZE = SIZE + MAX_SERVICE_LENGTH;
    private static final Pattern SERVICE = Pattern.compile("[a-z0-9][a-z0-9._-]{0,31}");

    public Hello {
        Handshake.requireSize("key share", keyShare, Handshake.KEY_SIZE);
        Handshake.requireSize("nonce", nonce, Handshake.NONCE_SIZE);
        if (window <= 0) {
            throw new IllegalArgumentException("window must be positive");
        }
        if (!service.isEmpty() && !validService(service)) {
            throw new IllegalArgumentException("not a service name: '" + service + "'");
        }
    }

    /**
     * Whether {@code name} can name a service: 1 to 32 characters, lower-case letters, digits,
     * '.', '_' and '-', starting with a letter or digit.
     */
    public static boolean validService(String name) {
        return SERVICE.matcher(name).matches();
    }

    /** A HELLO asking for a new session of {@code service} ("" for the default), with a fresh nonce. */
    public static Hello forNew(byte[] keyShare, int window, String service) {
        return new Hello(Mode.NEW, 0, keyShare, Handshake.randomBytes(Handshake.NONCE_SIZE), window, service);
    }

    /** A HELLO asking for a new session of the default service. */
    public static Hello forNew(byte[] keyShare, int window) {
        return forNew(keyShare, window, "");
    }

    /** A HELLO resuming {@code sessionId}, with a fresh nonce. */
    public static Hello forResume(long sessionId, int window) {
        return new Hello(Mode.RESUME, sessionId, new byte[Handshake.KEY_SIZE],
                Handshake.randomBytes(Handshake.NONCE_SIZE), window, "");
    }

    public byte[] encode() {
        byte[] name = service.getBytes(StandardCharsets.US_ASCII);
        byte[] b = new byte[SIZE + name.length];
        b[0] = (byte) mode.code();
        Wire.putLong(b, 1, sessionId);
        System.arraycopy(keyShare, 0, b, 9, Handshake.KEY_SIZE);
        System.arraycopy(nonce, 0, b, 41, Handshake.NONCE_SIZE);
        Wire.putInt(b, 57, window);
        b[61] = (byte) name.length;
        System.arraycopy(name, 0, b, SIZE, name.length);
        return b;
    }

    /** Decodes and validates the payload of a HELLO frame. */
    public static Hello decode(Frame frame) throws ProtocolException {
        if (frame.type() != FrameType.HELLO) {
            throw new ProtocolException("expected a HELLO, got " + frame.type());
        }
        byte[] b = frame.payload();
        if (b.length < SIZE || b.length != SIZE + (b[SIZE - 1] & 0xff)) {
            throw new ProtocolException("HELLO payload is " + b.length + " bytes, expected " + SIZE
                    + " plus the service name's length");
        }
        Mode mode = Mode.of(b[0] & 0xff);
        int window = Wire.getInt(b, 57);
        if (window <= 0) {
            throw new ProtocolException("HELLO window " + Integer.toUnsignedString(window) + " is not positive");
        }
        String service = new String(b, SIZE, b.length - SIZE, StandardCharsets.US_ASCII);
        if (!service.isEmpty() && (mode != Mode.NEW || !validService(service))) {
            throw new ProtocolException("HELLO service name is not valid here: '" + service.replaceAll("[^ -~]", "?")
                    + "'");
        }
        return new Hello(mode, Wire.getLong(b, 1), Arrays.copyOfRange(b, 9, 41), Arrays.copyOfRange(b, 41, 57),
                window, service);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Hello h && h.mode == mode && h.sessionId == sessionId && Arrays.equals(h.keyShare, keyShare)
                && Arrays.equals(h.nonce, nonce) && h.window == window && h.service.equals(service);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(sessionId) * 31 + mode.hashCode();
    }

    @Override
    public String toString() {
        return "HELLO " + mode + " session " + Handshake.idText(sessionId) + " window " + window
                + (service.isEmpty() ? "" : " service " + service);
    }
}
