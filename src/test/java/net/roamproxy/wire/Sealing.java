package net.roamproxy.wire;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.List;

import net.roamproxy.testkit.TestKeys;

/**
 * One direction of a link's keys, fixed, for the codec's tests: a {@link #sealer()} and the
 * {@link #opener()} that matches it, each new one starting at frame 0 as on a new link.
 * Stateless.
 */
final class Sealing {
    private static final byte[] KEY = filled(KeySchedule.KEY_SIZE, 0x4b);
    private static final byte[] IV = filled(KeySchedule.IV_SIZE, 0x1f);
    /** The other direction's key: a frame sealed under it must never open with {@link #opener()}. */
    private static final byte[] OTHER_KEY = filled(KeySchedule.KEY_SIZE, 0x4c);

    private Sealing() {
    }

    static FrameProtection.Sealer sealer() {
        return FrameProtection.sealer(KEY, IV);
    }

    static FrameProtection.Opener opener() {
        return FrameProtection.opener(KEY, IV);
    }

    static FrameProtection.Sealer otherDirectionSealer() {
        return FrameProtection.sealer(OTHER_KEY, IV);
    }

    /** {@code frames} as their sender puts them on the wire: clear ones encoded, sealed ones sealed in order. */
    static byte[] wire(FrameProtection.Sealer sealer, List<Frame> frames) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Frame f : frames) {
            out.writeBytes(wire(sealer, f));
        }
        return out.toByteArray();
    }

    static byte[] wire(FrameProtection.Sealer sealer, Frame f) {
        if (!f.type().isSealed()) {
            return Wire.encode(f);
        }
        try {
            return TestKeys.seal(sealer, f);
        } catch (FrameProtection.KeyLimitException e) {
            throw new AssertionError("a test key reached its limit", e);
        }
    }

    /** A DATA frame of {@code size} bytes that depend on {@code seed}; its ack is arbitrary but fixed. */
    static Frame data(long seq, int size, int seed) {
        byte[] p = new byte[size];
        new java.util.Random(seed).nextBytes(p);
        return new Frame(FrameType.DATA, seq, seq / 2, p);
    }

    static byte[] filled(int n, int value) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) value);
        return b;
    }
}
