package net.roamproxy.hardening;

import static net.roamproxy.hardening.Hostile.LENGTH_OFFSET;
import static net.roamproxy.hardening.Hostile.TYPE_OFFSET;
import static net.roamproxy.hardening.Hostile.VERSION_OFFSET;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.SplittableRandom;

import net.roamproxy.wire.Frame;
import net.roamproxy.wire.FrameProtection;
import net.roamproxy.wire.FrameType;
import net.roamproxy.wire.Handshake;
import net.roamproxy.wire.Hello;
import net.roamproxy.wire.KeySchedule;
import net.roamproxy.wire.Refusal;
import net.roamproxy.wire.Welcome;
import net.roamproxy.wire.Wire;

/**
 * Inputs for a reader without keys, as sproxy's and cproxy's are during the handshake: random
 * bytes, headers with boundary lengths, and valid frames (clear ones encoded, sealed ones
 * sealed) mutated in every field. Valid frames are built with the product's own encoder,
 * handshake records and {@link FrameProtection}. Deterministic for a given
 * {@link SplittableRandom} (no {@code SecureRandom}), so a fixed seed replays the same inputs.
 * Header offsets are {@link Hostile}'s. Stateless.
 */
final class FuzzInputs {
    static final byte[] KEY = new byte[KeySchedule.KEY_SIZE];
    static final byte[] IV = new byte[KeySchedule.IV_SIZE];
    private static final int TAG = Wire.TAG_SIZE;
    /** Lengths a mutation writes into a header: both sides of every type's bounds, with and without the tag, and huge ones. */
    static final long[] INTERESTING_LENGTHS = {0, 1, 2, TAG - 1L, TAG, TAG + 1L, Handshake.MAC_SIZE,
        Handshake.MAC_SIZE + TAG - 1L, Handshake.MAC_SIZE + TAG, Handshake.MAC_SIZE + TAG + 1L,
        Hello.MIN_SIZE - 1L, Hello.MIN_SIZE, Hello.MAX_SIZE, Hello.MAX_SIZE + 1L, Refusal.MAX_SIZE,
        Refusal.MAX_SIZE + 1L, Welcome.RESUMED_SIZE - 1L, Welcome.RESUMED_SIZE, Welcome.NEW_SESSION_SIZE,
        Welcome.NEW_SESSION_SIZE + 1L, Wire.MAX_DATA, Wire.MAX_DATA + TAG, Wire.MAX_DATA + TAG + 1L,
        Wire.MAX_FRAME, 1L << 20, 0x7fff_ffffL, 0x8000_0000L, 0xffff_fffeL, 0xffff_ffffL};

    private static final Handshake.Status[] REFUSALS = Arrays.stream(Handshake.Status.values())
            .filter(st -> !st.accepted()).toArray(Handshake.Status[]::new);

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
            b[TYPE_OFFSET] = (byte) pick(rnd, FrameType.values()).code();
        }
        if (rnd.nextBoolean()) {
            Hostile.putU32(b, LENGTH_OFFSET, rnd.nextInt(300));
        }
        return b;
    }

    /** A valid header whose length is a boundary value, followed by none, some or all of the payload. */
    private static byte[] headerWithInterestingLength(SplittableRandom rnd) {
        byte[] header = Arrays.copyOf(wire(sealer(), validFrame(pick(rnd, FrameType.values()), rnd)), Wire.HEADER_SIZE);
        long length = INTERESTING_LENGTHS[rnd.nextInt(INTERESTING_LENGTHS.length)];
        Hostile.putU32(header, LENGTH_OFFSET, length);
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

    /** One to four valid frames of any type back to back, sealed ones under a fresh sealer. */
    private static byte[] validFrames(SplittableRandom rnd) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        FrameProtection.Sealer sealer = sealer();
        int n = 1 + rnd.nextInt(4);
        for (int i = 0; i < n; i++) {
            out.writeBytes(wire(sealer, validFrame(pick(rnd, FrameType.values()), rnd)));
        }
        return out.toByteArray();
    }

    static FrameProtection.Sealer sealer() {
        return FrameProtection.sealer(KEY, IV);
    }

    static FrameProtection.Opener opener() {
        return FrameProtection.opener(KEY, IV);
    }

    /** {@code f} as it goes on the wire: encoded if clear, sealed by {@code sealer} if not. */
    static byte[] wire(FrameProtection.Sealer sealer, Frame f) {
        if (!f.type().isSealed()) {
            return Wire.encode(f);
        }
        byte[] b = new byte[Wire.HEADER_SIZE + f.length() + TAG];
        Wire.writeHeader(b, f.type(), f.length(), f.seq(), f.ack());
        System.arraycopy(f.payload(), 0, b, Wire.HEADER_SIZE, f.length());
        try {
            return Arrays.copyOf(b, sealer.seal(b, f.length()));
        } catch (FrameProtection.KeyLimitException e) {
            throw new AssertionError("a fuzz key reached its limit", e);
        }
    }

    /** A valid frame of {@code type}, deterministic for {@code rnd}. */
    static Frame validFrame(FrameType type, SplittableRandom rnd) {
        long seq = rnd.nextInt(4) == 0 ? rnd.nextLong(Long.MAX_VALUE) : rnd.nextInt(1 << 20);
        long ack = rnd.nextInt(4) == 0 ? rnd.nextLong(Long.MAX_VALUE) : rnd.nextInt(1 << 20);
        byte[] payload = switch (type) {
            case HELLO -> hello(rnd).encode();
            case WELCOME -> welcome(rnd).encode();
            case REFUSED -> new Refusal(pick(rnd, REFUSALS),
                    randomBytes(rnd, new int[] {0, Handshake.MAC_SIZE, Refusal.SIGNED_AUTH_SIZE}[rnd.nextInt(3)]))
                    .encode();
            case DATA -> randomBytes(rnd, rnd.nextInt(50) == 0 ? Wire.MAX_DATA - rnd.nextInt(2)
                    : 1 + rnd.nextInt(rnd.nextBoolean() ? 64 : 4096));
            case PROOF, TOKEN -> randomBytes(rnd, Handshake.MAC_SIZE);
            default -> new byte[0];
        };
        return new Frame(type, seq, ack, payload);
    }

    private static Hello hello(SplittableRandom rnd) {
        Handshake.Mode mode = pick(rnd, Handshake.Mode.values());
        // Mostly well-formed, sometimes not (a NEW with an id, a RESUME of 0): the decoder must refuse those.
        long id = rnd.nextInt(8) == 0 ? rnd.nextLong() : mode == Handshake.Mode.NEW ? 0 : 1 + rnd.nextLong(1L << 62);
        String service = mode == Handshake.Mode.NEW && rnd.nextBoolean() ? "svc" + rnd.nextInt(100) : "";
        return new Hello(mode, id, randomBytes(rnd, Handshake.NONCE_SIZE), randomBytes(rnd, Handshake.KEY_SIZE),
                1 + rnd.nextInt(Integer.MAX_VALUE), service);
    }

    private static Welcome welcome(SplittableRandom rnd) {
        Handshake.Status status = rnd.nextBoolean() ? Handshake.Status.NEW_SESSION : Handshake.Status.RESUMED;
        boolean fresh = status == Handshake.Status.NEW_SESSION;
        return new Welcome(status, rnd.nextInt(8) == 0 ? 0 : rnd.nextLong(), randomBytes(rnd, Handshake.NONCE_SIZE),
                randomBytes(rnd, Handshake.KEY_SIZE), 1 + rnd.nextInt(Integer.MAX_VALUE),
                randomBytes(rnd, fresh ? Handshake.HOST_KEY_SIZE : 0), randomBytes(rnd, Welcome.authSize(status)));
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
                case 3 -> putInHeader(b, LENGTH_OFFSET, 4, INTERESTING_LENGTHS[rnd.nextInt(INTERESTING_LENGTHS.length)],
                        rnd);
                case 4 -> putInHeader(b, TYPE_OFFSET, 1, rnd.nextInt(256), rnd);
                case 5 -> putInHeader(b, VERSION_OFFSET, 1, rnd.nextInt(4) == 0 ? 2 : rnd.nextInt(256), rnd);
                case 6 -> b = Arrays.copyOf(b, rnd.nextInt(b.length)); // truncated anywhere
                case 7 -> { // garbage appended
                    byte[] tail = randomBytes(rnd, 1 + rnd.nextInt(64));
                    byte[] c = Arrays.copyOf(b, b.length + tail.length);
                    System.arraycopy(tail, 0, c, b.length, tail.length);
                    b = c;
                }
                case 8 -> putInHeader(b, Wire.HEADER_SIZE - 16 + (rnd.nextBoolean() ? 0 : 8), 1,
                        0x80 | rnd.nextInt(256), rnd); // the sign bit of seq or ack
                case 9 -> { // bytes dropped from the middle: every later field shifts
                    int len = Math.min(1 + rnd.nextInt(32), b.length - at);
                    byte[] c = new byte[b.length - len];
                    System.arraycopy(b, 0, c, 0, at);
                    System.arraycopy(b, at + len, c, at, c.length - at);
                    b = c;
                }
                default -> Arrays.fill(b, at, Math.min(b.length, at + Wire.HEADER_SIZE),
                        rnd.nextBoolean() ? 0 : (byte) 0xff); // an all-0x00 or all-0xFF header
            }
        }
        return b;
    }

    /** Writes a big-endian field of {@code size} bytes into the first header (usually) or at a random offset. */
    private static void putInHeader(byte[] b, int fieldOffset, int size, long v, SplittableRandom rnd) {
        int base = rnd.nextInt(3) == 0 && b.length > Wire.HEADER_SIZE ? rnd.nextInt(b.length - Wire.HEADER_SIZE) : 0;
        if (base + fieldOffset + size <= b.length) {
            for (int i = 0; i < size; i++) {
                b[base + fieldOffset + i] = (byte) (v >>> (8 * (size - 1 - i)));
            }
        }
    }

    static byte[] randomBytes(SplittableRandom rnd, int n) {
        byte[] b = new byte[n];
        rnd.nextBytes(b);
        return b;
    }

    static <T> T pick(SplittableRandom rnd, T[] values) {
        return values[rnd.nextInt(values.length)];
    }
}
