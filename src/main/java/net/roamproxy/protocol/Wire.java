package net.roamproxy.protocol;

/**
 * The link's wire format, in one place. Every frame is a fixed 24-byte header followed by
 * {@code length} payload bytes. All integers are big-endian.
 *
 * <pre>
 *  0                   1                   2                   3
 *  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 * +-------------------------------+---------------+---------------+
 * |       magic 0x5250 "RP"       |    version    |     type      |
 * +-------------------------------+---------------+---------------+
 * |                        payload length                         |
 * +---------------------------------------------------------------+
 * |                                                               |
 * +                     seq (unsigned 63-bit)                     +
 * |                                                               |
 * +---------------------------------------------------------------+
 * |                                                               |
 * +                     ack (unsigned 63-bit)                     +
 * |                                                               |
 * +---------------------------------------------------------------+
 * |                    payload (length bytes) ...                 |
 * </pre>
 *
 * The magic and version come first and keep their place in every future version, so a peer
 * can always tell "not roamproxy" from "another roamproxy version".
 *
 * <p>Versions: 1, the first; 2, half-close: {@code END} (code 6, was {@code CLOSE}) ends one
 * direction only and takes one sequence number, so it is acknowledged and replayed like data;
 * {@code ABORT} (9) carries an application's reset and {@code STOPPING} (10) a proxy's
 * shutdown. Handshake codes are explicit ({@link Handshake.Mode}, {@link Handshake.Status}). A bad outgoing frame is
 * our bug ({@link IllegalArgumentException}); a bad incoming one is the peer's
 * ({@link ProtocolException}).
 */
public final class Wire {
    public static final int MAGIC = 0x5250;
    public static final int VERSION = 2;
    public static final int HEADER_SIZE = 24;
    /** Largest DATA payload, and so the largest payload of any frame. */
    public static final int MAX_DATA = 64 * 1024;
    public static final int MAX_FRAME = HEADER_SIZE + MAX_DATA;

    private Wire() {
    }

    /** A decoded, validated header. */
    public record Header(FrameType type, int length, long seq, long ack) {
    }

    /** Encodes a whole frame (header and payload) into a new array. */
    public static byte[] encode(Frame frame) {
        return encode(frame.type(), frame.seq(), frame.ack(), frame.payload(), 0, frame.length());
    }

    /** Encodes a frame whose payload is {@code src[off, off+len)} into a new array. */
    public static byte[] encode(FrameType type, long seq, long ack, byte[] src, int off, int len) {
        byte[] out = new byte[HEADER_SIZE + len];
        writeHeader(out, type, len, seq, ack);
        System.arraycopy(src, off, out, HEADER_SIZE, len);
        return out;
    }

    /** Writes a header at the start of {@code dst}. */
    public static void writeHeader(byte[] dst, FrameType type, int length, long seq, long ack) {
        if (!type.allowsLength(length)) {
            throw new IllegalArgumentException(type + " payload length " + length + " not in " + type.allowedLengths());
        }
        if (seq < 0 || ack < 0) {
            throw new IllegalArgumentException("negative seq " + seq + " or ack " + ack);
        }
        putShort(dst, 0, MAGIC);
        dst[2] = (byte) VERSION;
        dst[3] = (byte) type.code();
        putInt(dst, 4, length);
        putLong(dst, 8, seq);
        putLong(dst, 16, ack);
    }

    /**
     * Decodes and validates the header at {@code src[off, off+HEADER_SIZE)}. Validation
     * happens before the caller allocates anything for the payload.
     */
    public static Header readHeader(byte[] src, int off) throws ProtocolException {
        int magic = getShort(src, off);
        if (magic != MAGIC) {
            throw new ProtocolException(String.format("bad magic 0x%04x (expected 0x%04x): not a roamproxy peer", magic, MAGIC));
        }
        int version = src[off + 2] & 0xff;
        if (version != VERSION) {
            throw new UnsupportedVersionException(version);
        }
        int code = src[off + 3] & 0xff;
        FrameType type = FrameType.ofCode(code);
        if (type == null) {
            throw new ProtocolException("unknown frame type " + code);
        }
        long length = getInt(src, off + 4) & 0xffffffffL;
        if (!type.allowsLength((int) Math.min(length, Integer.MAX_VALUE))) {
            throw new ProtocolException(type + " payload length " + length + " not in " + type.allowedLengths());
        }
        long seq = getLong(src, off + 8);
        if (seq < 0) {
            throw new ProtocolException(type + " seq " + Long.toUnsignedString(seq) + " exceeds 2^63-1");
        }
        long ack = getLong(src, off + 16);
        if (ack < 0) {
            throw new ProtocolException(type + " ack " + Long.toUnsignedString(ack) + " exceeds 2^63-1");
        }
        return new Header(type, (int) length, seq, ack);
    }

    static void putShort(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 8);
        b[off + 1] = (byte) v;
    }

    static void putInt(byte[] b, int off, int v) {
        for (int i = 0; i < 4; i++) {
            b[off + i] = (byte) (v >>> (24 - 8 * i));
        }
    }

    static void putLong(byte[] b, int off, long v) {
        for (int i = 0; i < 8; i++) {
            b[off + i] = (byte) (v >>> (56 - 8 * i));
        }
    }

    static int getShort(byte[] b, int off) {
        return ((b[off] & 0xff) << 8) | (b[off + 1] & 0xff);
    }

    static int getInt(byte[] b, int off) {
        int v = 0;
        for (int i = 0; i < 4; i++) {
            v = (v << 8) | (b[off + i] & 0xff);
        }
        return v;
    }

    static long getLong(byte[] b, int off) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (b[off + i] & 0xff);
        }
        return v;
    }
}
