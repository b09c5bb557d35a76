package net.roamproxy.hardening;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.SplittableRandom;

import net.roamproxy.protocol.Frame;
import net.roamproxy.protocol.FrameType;
import net.roamproxy.protocol.Handshake;
import net.roamproxy.protocol.Hello;
import net.roamproxy.protocol.Welcome;
import net.roamproxy.protocol.PresharedKey;
import net.roamproxy.protocol.Wire;

/**
 * Inputs for the codec fuzz and the hostile-host tests: valid frames built with the product's
 * own encoder and handshake constructor, then random bytes, headers with boundary lengths, and
 * valid frames mutated in every field. Deterministic for a given {@link SplittableRandom}
 * (no {@code SecureRandom} nonces), so a fixed seed replays the same inputs. Stateless.
 */
final class FuzzInputs {
    /**
     * Offset of the u32 payload length in the 24-byte header (magic u16, version u8, type u8,
     * then length), as documented in {@link Wire}.
     */
    static final int LENGTH_OFFSET = 4;
    static final int TYPE_OFFSET = 3;
    static final int VERSION_OFFSET = 2;
    /** Lengths a mutation writes into a header: boundaries of every allowed range, and huge ones. */
    static final long[] INTERESTING_LENGTHS = {0, 1, 2, Hello.SIZE - 1L, Hello.SIZE, Hello.SIZE + 1L, Hello.MAX_SIZE,
        Hello.MAX_SIZE + 1L,
        Welcome.SIZE - 1L, Welcome.SIZE, Welcome.SIZE + 1L, Handshake.CHALLENGE_NONCE_SIZE, PresharedKey.PROOF_SIZE,
        PresharedKey.CHALLENGE_SIZE, 2L * Handshake.PROOF_SIZE + 1, Wire.MAX_DATA - 1L, Wire.MAX_DATA,
        Wire.MAX_DATA + 1L, Wire.MAX_FRAME, 1L << 20, 0x7fff_ffffL, 0x8000_0000L, 0xffff_fffeL, 0xffff_ffffL};

    private FuzzInputs() {
    }

    /** What {@link #generate} made. */
    enum Kind { RANDOM, HEADER_ONLY, MUTATED }

    /** One fuzz input; {@code kind} receives what sort it is. */
    static byte[] generate(SplittableRandom rnd, Kind[] kind) {
        int k = rnd.nextInt(100);
        if (k < 10) {
            kind[0] = Kind.RANDOM;
            return randomBytes(rnd, rnd.nextInt(120));
        }
        if (k < 25) {
            kind[0] = Kind.RANDOM;
            return plausibleHeaderThenRandom(rnd);
        }
        if (k < 35) {
            kind[0] = Kind.HEADER_ONLY;
            return headerWithInterestingLength(rnd);
        }
        kind[0] = Kind.MUTATED;
        return mutate(validFrames(rnd), rnd);
    }

    /** Magic and version right, everything after random: gets past the first checks. */
    static byte[] plausibleHeaderThenRandom(SplittableRandom rnd) {
        byte[] b = randomBytes(rnd, Wire.HEADER_SIZE + rnd.nextInt(200));
        b[0] = (byte) (Wire.MAGIC >>> 8);
        b[1] = (byte) Wire.MAGIC;
        b[VERSION_OFFSET] = (byte) Wire.VERSION;
        if (rnd.nextBoolean()) {
            b[TYPE_OFFSET] = (byte) FrameType.values()[rnd.nextInt(FrameType.values().length)].code();
        }
        if (rnd.nextBoolean()) {
            putU32(b, LENGTH_OFFSET, rnd.nextInt(300));
        }
        return b;
    }

    /** A valid header whose length is a boundary value, followed by none, some or all of the payload. */
    private static byte[] headerWithInterestingLength(SplittableRandom rnd) {
        FrameType type = FrameType.values()[rnd.nextInt(FrameType.values().length)];
        byte[] header = Arrays.copyOf(Wire.encode(validFrame(type, rnd)), Wire.HEADER_SIZE);
        long length = INTERESTING_LENGTHS[rnd.nextInt(INTERESTING_LENGTHS.length)];
        putU32(header, LENGTH_OFFSET, length);
        int follow = switch (rnd.nextInt(3)) {
            case 0 -> 0;
            case 1 -> rnd.nextInt(64);
            default -> (int) Math.min(length + rnd.nextInt(8), Wire.MAX_FRAME + 16L);
        };
        byte[] b = Arrays.copyOf(header, Wire.HEADER_SIZE + follow);
        for (int i = Wire.HEADER_SIZE; i < b.length; i++) {
            b[i] = (byte) rnd.nextInt(256);
        }
        return b;
    }

    /** One to four valid frames back to back. */
    private static byte[] validFrames(SplittableRandom rnd) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int n = 1 + rnd.nextInt(4);
        FrameType[] types = FrameType.values();
        for (int i = 0; i < n; i++) {
            out.writeBytes(Wire.encode(validFrame(types[rnd.nextInt(types.length)], rnd)));
        }
        return out.toByteArray();
    }

    /** A valid frame of {@code type}, deterministic for {@code rnd} (no SecureRandom nonces). */
    static Frame validFrame(FrameType type, SplittableRandom rnd) {
        long seq = rnd.nextInt(4) == 0 ? rnd.nextLong(Long.MAX_VALUE) : rnd.nextInt(1 << 20);
        long ack = rnd.nextInt(4) == 0 ? rnd.nextLong(Long.MAX_VALUE) : rnd.nextInt(1 << 20);
        byte[] payload = switch (type) {
            case HELLO -> new Hello(pick(rnd, Handshake.Mode.values()), rnd.nextLong(),
                    randomBytes(rnd, Handshake.KEY_SIZE), randomBytes(rnd, Handshake.NONCE_SIZE),
                    1 + rnd.nextInt(Integer.MAX_VALUE), rnd.nextBoolean() ? "" : "svc" + rnd.nextInt(100)).encode();
            case WELCOME -> new Welcome(pick(rnd, Handshake.Status.values()), rnd.nextLong(),
                    randomBytes(rnd, Handshake.KEY_SIZE), 1 + rnd.nextInt(Integer.MAX_VALUE),
                    randomBytes(rnd, Handshake.PROOF_SIZE)).encode();
            case DATA -> randomBytes(rnd, rnd.nextInt(50) == 0 ? Wire.MAX_DATA - rnd.nextInt(2)
                    : 1 + rnd.nextInt(rnd.nextBoolean() ? 64 : 4096));
            case CHALLENGE -> randomBytes(rnd, rnd.nextBoolean() ? Handshake.CHALLENGE_NONCE_SIZE
                    : PresharedKey.CHALLENGE_SIZE);
            case PROOF -> randomBytes(rnd, Handshake.PROOF_SIZE * (1 + rnd.nextInt(2)));
            default -> new byte[0];
        };
        return new Frame(type, seq, ack, payload);
    }

    /** One to eight mutations of the valid bytes {@code b}. */
    private static byte[] mutate(byte[] b, SplittableRandom rnd) {
        int n = 1 + rnd.nextInt(8);
        for (int m = 0; m < n && b.length > 0; m++) {
            int at = rnd.nextInt(b.length);
            switch (rnd.nextInt(11)) {
                case 0 -> b[at] ^= (byte) (1 << rnd.nextInt(8));
                case 1 -> b[at] = (byte) rnd.nextInt(256);
                case 2 -> b[at] = rnd.nextBoolean() ? 0 : (byte) 0xff;
                case 3 -> putU32InHeader(b, LENGTH_OFFSET, INTERESTING_LENGTHS[rnd.nextInt(INTERESTING_LENGTHS.length)],
                        rnd);
                case 4 -> putByteInHeader(b, TYPE_OFFSET, rnd.nextInt(256), rnd);
                case 5 -> putByteInHeader(b, VERSION_OFFSET, rnd.nextInt(4) == 0 ? Wire.VERSION + 1 : rnd.nextInt(256),
                        rnd);
                case 6 -> b = Arrays.copyOf(b, rnd.nextInt(b.length)); // truncated anywhere
                case 7 -> { // garbage appended
                    byte[] tail = randomBytes(rnd, 1 + rnd.nextInt(64));
                    byte[] c = Arrays.copyOf(b, b.length + tail.length);
                    System.arraycopy(tail, 0, c, b.length, tail.length);
                    b = c;
                }
                case 8 -> { // the sign bit of seq or ack
                    int field = Wire.HEADER_SIZE - 16 + (rnd.nextBoolean() ? 0 : 8);
                    putByteInHeader(b, field, 0x80 | rnd.nextInt(256), rnd);
                }
                case 9 -> { // bytes dropped from the middle: every later field shifts
                    int len = 1 + rnd.nextInt(Math.max(1, Math.min(32, b.length - at)));
                    byte[] c = new byte[b.length - Math.min(len, b.length - at)];
                    System.arraycopy(b, 0, c, 0, at);
                    System.arraycopy(b, at + (b.length - c.length), c, at, c.length - at);
                    b = c;
                }
                default -> Arrays.fill(b, at, Math.min(b.length, at + Wire.HEADER_SIZE),
                        rnd.nextBoolean() ? 0 : (byte) 0xff); // an all-0x00 or all-0xFF header
            }
        }
        return b;
    }

    /** Writes into the header of the first frame (usually) or at a random header-sized offset. */
    private static void putU32InHeader(byte[] b, int fieldOffset, long v, SplittableRandom rnd) {
        int base = rnd.nextInt(3) == 0 && b.length > Wire.HEADER_SIZE ? rnd.nextInt(b.length - Wire.HEADER_SIZE) : 0;
        if (base + fieldOffset + 4 <= b.length) {
            putU32(b, base + fieldOffset, v);
        }
    }

    private static void putByteInHeader(byte[] b, int fieldOffset, int v, SplittableRandom rnd) {
        int base = rnd.nextInt(3) == 0 && b.length > Wire.HEADER_SIZE ? rnd.nextInt(b.length - Wire.HEADER_SIZE) : 0;
        if (base + fieldOffset < b.length) {
            b[base + fieldOffset] = (byte) v;
        }
    }

    static void putU32(byte[] b, int off, long v) {
        for (int i = 0; i < 4; i++) {
            b[off + i] = (byte) (v >>> (24 - 8 * i));
        }
    }

    static byte[] randomBytes(SplittableRandom rnd, int n) {
        byte[] b = new byte[n];
        rnd.nextBytes(b);
        return b;
    }

    private static <T> T pick(SplittableRandom rnd, T[] values) {
        return values[rnd.nextInt(values.length)];
    }
}
