package net.roamproxy.server;

import net.roamproxy.wire.Wire;

/**
 * "Another protocol version" in the formats of versions 1 and 2, so that an old cproxy says
 * so and stops instead of retrying: each one's WELCOME with its VERSION_MISMATCH status and a
 * window of 1, every other field zero. Nothing here is authenticated (those versions had no
 * way to); a cproxy of version 3 never acts on either.
 */
final class LegacyRefusal {
    private static final int WELCOME = 2;

    private LegacyRefusal() {
    }

    /** The answer for a peer of {@code version}, or {@code null} if it has none we know. */
    static byte[] versionMismatch(int version) {
        return switch (version) {
            // version 1: status 3 = VERSION_MISMATCH at 0, window at 25; 45 bytes
            case 1 -> frame(1, 45, 3, 25);
            // version 2: status 4 = VERSION_MISMATCH at 0, window at 41; 77 bytes
            case 2 -> frame(2, 77, 4, 41);
            default -> null;
        };
    }

    private static byte[] frame(int version, int payload, int status, int windowAt) {
        byte[] b = new byte[Wire.HEADER_SIZE + payload];
        Wire.putShort(b, 0, Wire.MAGIC);
        b[2] = (byte) version;
        b[3] = (byte) WELCOME;
        Wire.putInt(b, 4, payload);
        b[Wire.HEADER_SIZE] = (byte) status;
        Wire.putInt(b, Wire.HEADER_SIZE + windowAt, 1);
        return b;
    }
}
