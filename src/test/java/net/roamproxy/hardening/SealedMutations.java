package net.roamproxy.hardening;

import static net.roamproxy.hardening.FuzzInputs.INTERESTING_LENGTHS;
import static net.roamproxy.hardening.FuzzInputs.pick;

import java.io.ByteArrayOutputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

import net.roamproxy.wire.Frame;
import net.roamproxy.wire.FrameProtection;
import net.roamproxy.wire.FrameType;
import net.roamproxy.wire.Wire;

/**
 * Inputs for a reader with the link's keys: one to four valid sealed frames made by the
 * {@link FrameProtection.Sealer} that matches {@link FuzzInputs#opener()}, then changed as an
 * attacker on the path could change them: bits flipped, bytes set, a header's length, type,
 * version, seq or ack rewritten, a frame cut short, replayed, dropped, reordered, or one sealed
 * under another key spliced in. Deterministic for a given {@link SplittableRandom}. Stateless.
 */
final class SealedMutations {
    private static final FrameType[] SEALED = Arrays.stream(FrameType.values()).filter(FrameType::isSealed)
            .toArray(FrameType[]::new);
    /** Another link's key: what a forger who does not have this link's keys can seal with. */
    private static final byte[] FORGER_KEY = filled(32, 0x0f);

    private SealedMutations() {
    }

    /**
     * A stream of frames and what was sent: {@code plain}, sealed in order. Its first
     * {@code intact} frames are byte for byte as sealed; {@code mutated} says whether any
     * frame after them is not.
     */
    record Case(byte[] stream, List<Frame> plain, int intact, boolean mutated, String what) {
    }

    static Case generate(SplittableRandom rnd) {
        FrameProtection.Sealer sealer = FuzzInputs.sealer();
        List<Frame> plain = new ArrayList<>();
        List<byte[]> original = new ArrayList<>();
        int n = 1 + rnd.nextInt(4);
        for (int i = 0; i < n; i++) {
            Frame f = FuzzInputs.validFrame(pick(rnd, SEALED), rnd);
            plain.add(f);
            original.add(FuzzInputs.wire(sealer, f));
        }
        List<byte[]> frames = new ArrayList<>();
        for (byte[] f : original) {
            frames.add(f.clone());
        }
        StringBuilder what = new StringBuilder();
        int mutations = 1 + rnd.nextInt(3);
        for (int m = 0; m < mutations && !frames.isEmpty(); m++) {
            what.append(mutate(frames, rnd)).append(' ');
        }
        // The first frame that is not, byte for byte, the one sealed for its place decides the case.
        int intact = 0;
        while (intact < frames.size() && intact < original.size()
                && Arrays.equals(frames.get(intact), original.get(intact))) {
            intact++;
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        frames.forEach(out::writeBytes);
        return new Case(out.toByteArray(), plain, intact, intact < frames.size(), what.toString().trim());
    }

    /** Applies one mutation to {@code frames} and names it. */
    private static String mutate(List<byte[]> frames, SplittableRandom rnd) {
        int k = rnd.nextInt(frames.size());
        byte[] f = frames.get(k);
        int kind = rnd.nextInt(11);
        if (kind >= 2 && kind <= 6 && f.length < Wire.HEADER_SIZE) {
            return "none"; // a header rewrite or a cut needs the whole header: this frame was cut already
        }
        switch (kind) {
            case 0 -> {
                f[rnd.nextInt(f.length)] ^= (byte) (1 << rnd.nextInt(8));
                return "bit-flip";
            }
            case 1 -> {
                f[rnd.nextInt(f.length)] ^= (byte) (1 + rnd.nextInt(255)); // never the same value
                return "byte-set";
            }
            case 2 -> {
                long length = INTERESTING_LENGTHS[rnd.nextInt(INTERESTING_LENGTHS.length)];
                Hostile.putU32(f, Hostile.LENGTH_OFFSET, length == Wire.getInt(f, Hostile.LENGTH_OFFSET)
                        ? length + 1 : length);
                return "length";
            }
            case 3 -> {
                int type = rnd.nextBoolean() ? pick(rnd, SEALED).code() : rnd.nextInt(256);
                f[Hostile.TYPE_OFFSET] = (byte) ((byte) type == f[Hostile.TYPE_OFFSET] ? type + 1 : type);
                return "type";
            }
            case 4 -> {
                f[Hostile.VERSION_OFFSET] = (byte) (rnd.nextBoolean() ? 2 : Wire.VERSION + 1 + rnd.nextInt(252));
                return "version";
            }
            case 5 -> {
                int at = Wire.HEADER_SIZE - 16 + (rnd.nextBoolean() ? 0 : 8);
                Wire.putLong(f, at, Wire.getLong(f, at) ^ (1L << rnd.nextInt(64)));
                return "seq-ack";
            }
            case 6 -> {
                frames.set(k, Arrays.copyOf(f, 1 + rnd.nextInt(f.length - 1)));
                frames.subList(k + 1, frames.size()).clear();
                return "truncation";
            }
            case 7 -> {
                int p = 1 + rnd.nextInt(frames.size());
                frames.add(p, frames.get(rnd.nextInt(p)).clone());
                return "replay";
            }
            case 8 -> {
                if (frames.size() < 2) {
                    return "none";
                }
                int i = rnd.nextInt(frames.size() - 1);
                byte[] a = frames.get(i);
                frames.set(i, frames.get(i + 1));
                frames.set(i + 1, a);
                return "reorder";
            }
            case 9 -> {
                if (frames.size() < 2) {
                    return "none";
                }
                frames.remove(rnd.nextInt(frames.size() - 1)); // not the last: that is a clean, shorter stream
                return "drop";
            }
            default -> {
                FrameProtection.Sealer forger = FrameProtection.sealer(FORGER_KEY, FuzzInputs.IV);
                frames.add(k, FuzzInputs.wire(forger, FuzzInputs.validFrame(pick(rnd, SEALED), rnd)));
                return "forged";
            }
        }
    }

    private static byte[] filled(int n, int value) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) value);
        return b;
    }
}
