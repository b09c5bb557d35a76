package net.roamproxy.wire;

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
 * <p>Version 3 protects every frame after the opening handshake ({@link FrameType#isSealed()}):
 * the header stays readable and is the AEAD's associated data, the payload is encrypted and
 * followed by a {@value #TAG_SIZE}-byte tag, and {@code length} counts both
 * ({@link FrameProtection}). Only HELLO, WELCOME and REFUSED travel in clear, each with its
 * own authentication ({@link Handshake}). Versions 1 and 2 had no frame protection; a peer of
 * either is refused. A bad outgoing frame is our bug ({@link IllegalArgumentException}); a bad
 * incoming one is the peer's ({@link ProtocolException}).
 */
public final class Wire {
    public static final int MAGIC = 0x5250;
    public static final int VERSION = 3;
    public static final int HEADER_SIZE = 24;
    /** The AES-GCM tag after every sealed payload. */
    public static final int TAG_SIZE = 16;
    /** Largest DATA plaintext, and so the largest plaintext of any frame. */
    public static final int MAX_DATA = 64 * 1024;
    /** Largest frame on the wire: a full DATA frame with its tag. */
    public static final int MAX_FRAME = HEADER_SIZE + MAX_DATA + TAG_SIZE;

    private Wire() {
    }

    /**
     * A decoded, validated header. From {@link #readHeader}, {@code length} is what follows it
     * on the wire (for a sealed frame, ciphertext and tag); from {@link FrameReader}, which
     * opens sealed frames, it is the payload's length in clear.
     */
    public record Header(FrameType type, int length, long seq, long ack) {
    }

    /** Encodes a whole clear frame (header and payload) into a new array: the exact bytes on the wire. */
    public static byte[] encode(Frame frame) {
        return encode(frame.type(), frame.seq(), frame.ack(), frame.payload(), 0, frame.length());
    }

    /** Encodes a clear frame whose payload is {@code src[off, off+len)} into a new array. */
    public static byte[] encode(FrameType type, long seq, long ack, byte[] src, int off, int len) {
        if (type.isSealed()) {
            throw new IllegalArgumentException(type + " is sealed: FrameProtection encodes it");
        }
        byte[] out = new byte[HEADER_SIZE + len];
        writeHeader(out, type, len, seq, ack);
        System.arraycopy(src, off, out, HEADER_SIZE, len);
        return out;
    }

    /**
     * Writes a header at the start of {@code dst} for a payload of {@code plainLength} bytes;
     * a sealed type's header counts the tag too.
     */
    public static void writeHeader(byte[] dst, FrameType type, int plainLength, long seq, long ack) {
        if (!type.allowsLength(plainLength)) {
            throw new IllegalArgumentException(type + " payload length " + plainLength + " not in "
                    + type.allowedLengths());
        }
        if (seq < 0 || ack < 0) {
            throw new IllegalArgumentException("negative seq " + seq + " or ack " + ack);
        }
        putShort(dst, 0, MAGIC);
        dst[2] = (byte) VERSION;
        dst[3] = (byte) type.code();
        putInt(dst, 4, type.isSealed() ? plainLength + TAG_SIZE : plainLength);
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
        long plain = type.isSealed() ? length - TAG_SIZE : length;
        if (plain < 0 || !type.allowsLength((int) Math.min(plain, Integer.MAX_VALUE))) {
            throw new ProtocolException(type + " length " + length + " not in " + type.allowedWireLengths());
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

    public static void putShort(byte[] b, int off, int v) {
        b[off] = (byte) (v >>> 8);
        b[off + 1] = (byte) v;
    }

    public static void putInt(byte[] b, int off, int v) {
        for (int i = 0; i < 4; i++) {
            b[off + i] = (byte) (v >>> (24 - 8 * i));
        }
    }

    public static void putLong(byte[] b, int off, long v) {
        for (int i = 0; i < 8; i++) {
            b[off + i] = (byte) (v >>> (56 - 8 * i));
        }
    }

    static int getShort(byte[] b, int off) {
        return ((b[off] & 0xff) << 8) | (b[off + 1] & 0xff);
    }

    public static int getInt(byte[] b, int off) {
        int v = 0;
        for (int i = 0; i < 4; i++) {
            v = (v << 8) | (b[off + i] & 0xff);
        }
        return v;
    }

    public static long getLong(byte[] b, int off) {
        long v = 0;
        for (int i = 0; i < 8; i++) {
            v = (v << 8) | (b[off + i] & 0xff);
        }
        return v;
    }
}
