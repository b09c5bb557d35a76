package net.roamproxy.testkit;

import static org.junit.jupiter.api.Assertions.fail;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.SplittableRandom;

/** Deterministic test streams and byte-exact comparison by SHA-256. Stateless, thread-safe. */
public final class Streams {
    private Streams() {
    }

    /** The same {@code n} pseudo-random bytes for the same seed, on every run. */
    public static byte[] pseudoRandom(long seed, int n) {
        byte[] b = new byte[n];
        new SplittableRandom(seed).nextBytes(b);
        return b;
    }

    public static String sha256(byte[] b) {
        return sha256(b, 0, b.length);
    }

    public static String sha256(byte[] b, int off, int len) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(b, off, len);
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    /**
     * Fails unless {@code actual} is byte for byte {@code expected}, compared by SHA-256; the
     * message names the lengths and the first differing offset.
     */
    public static void assertSameStream(String what, byte[] expected, byte[] actual) {
        String want = sha256(expected);
        String got = sha256(actual);
        if (!want.equals(got)) {
            int at = Arrays.mismatch(expected, actual);
            fail(what + ": SHA-256 " + got + " of " + actual.length + " received bytes differs from "
                    + want + " of " + expected.length + " sent bytes; first difference at offset " + at);
        }
    }
}
