package net.roamproxy.testkit;

import java.util.Arrays;

import net.roamproxy.session.Link;
import net.roamproxy.wire.Frame;
import net.roamproxy.wire.FrameProtection;
import net.roamproxy.wire.KeySchedule;
import net.roamproxy.wire.Wire;

/**
 * Fixed link keys for tests that run a session or a link without a handshake: one end takes
 * them as cproxy ({@link #asClient}), the other as sproxy. Stateless.
 */
public final class TestKeys {
    private static final KeySchedule.LinkKeys KEYS = new KeySchedule.LinkKeys(filled(32, 1), filled(12, 2),
            filled(32, 3), filled(12, 4));

    private TestKeys() {
    }

    /** Gives {@code link} the keys of cproxy's end. */
    public static void asClient(Link link) {
        asClient(link, FrameProtection.MAX_FRAMES);
    }

    /** Gives {@code link} the keys of cproxy's end, whose key may seal only {@code maxFrames} frames. */
    public static void asClient(Link link, long maxFrames) {
        link.protect(new FrameProtection.Sealer(KEYS.c2sKey(), KEYS.c2sIv(), maxFrames, FrameProtection.MAX_BYTES),
                FrameProtection.opener(KEYS.s2cKey(), KEYS.s2cIv()));
    }

    /** Gives {@code link} the keys of sproxy's end. */
    public static void asServer(Link link) {
        link.protect(serverSealer(), serverOpener());
    }

    public static FrameProtection.Sealer serverSealer() {
        return FrameProtection.sealer(KEYS.s2cKey(), KEYS.s2cIv());
    }

    public static FrameProtection.Opener serverOpener() {
        return FrameProtection.opener(KEYS.c2sKey(), KEYS.c2sIv());
    }

    /** The bytes of {@code f} sealed by {@code sealer}, as they go on the wire. */
    public static byte[] seal(FrameProtection.Sealer sealer, Frame f) throws FrameProtection.KeyLimitException {
        byte[] b = new byte[Wire.HEADER_SIZE + f.length() + Wire.TAG_SIZE];
        Wire.writeHeader(b, f.type(), f.length(), f.seq(), f.ack());
        System.arraycopy(f.payload(), 0, b, Wire.HEADER_SIZE, f.length());
        return Arrays.copyOf(b, sealer.seal(b, f.length()));
    }

    private static byte[] filled(int n, int value) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) value);
        return b;
    }
}
