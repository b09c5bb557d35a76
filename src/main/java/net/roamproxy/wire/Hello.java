package net.roamproxy.wire;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.regex.Pattern;

import net.roamproxy.wire.Handshake.Mode;

/**
 * The payload of a HELLO frame, cproxy's first frame on every link, in clear. The frame's
 * header {@code ack} says how much of sproxy's stream cproxy has delivered (0 for NEW):
 * replay starts there once cproxy's PROOF has checked out.
 *
 * <pre>
 *  offset size field
 *   0      1   mode: 1 NEW, 2 RESUME
 *   1      8   session id (0 for NEW); its first byte is the number of the sproxy instance that
 *              issued it ({@link Handshake#INSTANCE_BYTE_OFFSET} in the stream)
 *   9     32   nonce, fresh for every HELLO
 *  41     32   cproxy's X25519 key share, fresh for every HELLO
 *  73      4   cproxy's receive window in bytes, 1 .. 2^31-1
 *  77      1   n, the length of the service name (0: sproxy's default service; always 0 in a RESUME)
 *  78      n   NEW: the service the session is for, as sproxy names it (see {@link #validService})
 * </pre>
 */
public record Hello(Mode mode, long sessionId, byte[] nonce, byte[] keyShare, int window, String service) {
    /** Size without a service name, the smallest HELLO. */
    public static final int MIN_SIZE = 1 + 8 + Handshake.NONCE_SIZE + Handshake.KEY_SIZE + 4 + 1;
    /** Where the session id starts in the payload. */
    public static final int SESSION_ID_OFFSET = 1;
    public static final int MAX_SERVICE_LENGTH = 32;
    public static final int MAX_SIZE = MIN_SIZE + MAX_SERVICE_LENGTH;
    private static final Pattern SERVICE = Pattern.compile("[a-z0-9][a-z0-9._-]{0,31}");

    public Hello {
        Handshake.requireSize("nonce", nonce, Handshake.NONCE_SIZE);
        Handshake.requireSize("key share", keyShare, Handshake.KEY_SIZE);
        if (window <= 0) {
            throw new IllegalArgumentException("window must be positive");
        }
        if (!service.isEmpty() && (mode != Mode.NEW || !validService(service))) {
            throw new IllegalArgumentException("not a service name here: '" + service + "'");
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
        return new Hello(Mode.NEW, 0, Handshake.randomBytes(Handshake.NONCE_SIZE), keyShare, window, service);
    }

    /** A HELLO resuming {@code sessionId}, with a fresh nonce. */
    public static Hello forResume(long sessionId, byte[] keyShare, int window) {
        return new Hello(Mode.RESUME, sessionId, Handshake.randomBytes(Handshake.NONCE_SIZE), keyShare, window, "");
    }

    public byte[] encode() {
        byte[] name = service.getBytes(StandardCharsets.US_ASCII);
        byte[] b = new byte[MIN_SIZE + name.length];
        b[0] = (byte) mode.code();
        Wire.putLong(b, SESSION_ID_OFFSET, sessionId);
        System.arraycopy(nonce, 0, b, 9, Handshake.NONCE_SIZE);
        System.arraycopy(keyShare, 0, b, 41, Handshake.KEY_SIZE);
        Wire.putInt(b, 73, window);
        b[77] = (byte) name.length;
        System.arraycopy(name, 0, b, MIN_SIZE, name.length);
        return b;
    }

    /** Decodes and validates the payload of a HELLO frame. */
    public static Hello decode(Frame frame) throws ProtocolException {
        if (frame.type() != FrameType.HELLO) {
            throw new ProtocolException("expected a HELLO, got " + frame.type());
        }
        byte[] b = frame.payload();
        if (b.length < MIN_SIZE || b.length != MIN_SIZE + (b[MIN_SIZE - 1] & 0xff)) {
            throw new ProtocolException("HELLO payload is " + b.length + " bytes, expected " + MIN_SIZE
                    + " plus the service name's length");
        }
        Mode mode = Mode.of(b[0] & 0xff);
        long id = Wire.getLong(b, SESSION_ID_OFFSET);
        if ((mode == Mode.NEW) != (id == 0)) {
            throw new ProtocolException("HELLO " + mode + " with session id " + Handshake.idText(id));
        }
        int window = Wire.getInt(b, 73);
        if (window <= 0) {
            throw new ProtocolException("HELLO window " + Integer.toUnsignedString(window) + " is not in 1..2^31-1");
        }
        String service = new String(b, MIN_SIZE, b.length - MIN_SIZE, StandardCharsets.US_ASCII);
        if (!service.isEmpty() && (mode != Mode.NEW || !validService(service))) {
            throw new ProtocolException("HELLO service name is not valid here: '" + service.replaceAll("[^ -~]", "?")
                    + "'");
        }
        return new Hello(mode, id, Arrays.copyOfRange(b, 9, 41), Arrays.copyOfRange(b, 41, 73), window, service);
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
