package net.roamproxy.hardening;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import net.roamproxy.protocol.Frame;
import net.roamproxy.protocol.FrameReader;
import net.roamproxy.protocol.FrameType;
import net.roamproxy.protocol.Handshake;
import net.roamproxy.protocol.PresharedKey;
import net.roamproxy.protocol.ProtocolException;
import net.roamproxy.protocol.UnsupportedVersionException;
import net.roamproxy.protocol.Wire;

/**
 * Fuzzes the decoder with random bytes and with valid frames mutated in every field, fed in
 * whole, in random chunks, a byte at a time and with read timeouts in between, through the
 * product's own {@link FrameReader} (and {@link Handshake#decode} for handshakes it lets
 * through). The only failures allowed are {@link ProtocolException} (with its subclass
 * {@link UnsupportedVersionException}) and {@link EOFException}; a decoded frame must be
 * valid; and the decoder must never allocate a payload beyond {@link Wire#MAX_DATA}, observed
 * three ways: the size of the buffer it reads into, the bytes this thread allocates per case,
 * and that an oversized length is refused from the header alone, before any payload is read.
 *
 * <p>A fixed seed makes every run the same; a failure names the case and its input in hex.
 */
class CodecFuzzTest {
    private static final long SEED = 0x5250_0001_F022L;
    private static final int CI_CASES = 50_000;
    private static final int LONG_CASES = 1_000_000;
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    /**
     * Allocation a case may cause beyond its input: the reader's buffer growing to one full
     * frame (at most twice {@link Wire#MAX_FRAME} over its doublings), one payload copy per
     * frame (bounded by the input), exceptions and messages. A reader that trusted a length
     * field would allocate megabytes to gigabytes here.
     */
    private static final long ALLOCATION_SLACK = 3L * Wire.MAX_FRAME + 512 * 1024;

    @Test
    @Timeout(90)
    void fiftyThousandRandomAndMutatedFramesRaiseOnlyProtocolAndEndOfStreamErrors() {
        Stats s = fuzz(SEED, CI_CASES);
        System.out.println("codec fuzz (CI): " + s);
        s.assertEveryPathExercised();
    }

    @Test
    @EnabledIfSystemProperty(named = "roamproxy.long", matches = "true")
    @Timeout(1800)
    void aMillionRandomAndMutatedFramesRaiseOnlyProtocolAndEndOfStreamErrors() {
        Stats s = fuzz(SEED + 1, LONG_CASES);
        System.out.println("codec fuzz (long): " + s);
        s.assertEveryPathExercised();
    }

    static Stream<Arguments> oversizedHeaders() {
        List<Arguments> args = new ArrayList<>();
        for (FrameType type : FrameType.values()) {
            for (long length : new long[] {Wire.MAX_DATA + 1L, 1L << 20, 0x7fff_ffffL, 0x8000_0000L, 0xffff_ffffL}) {
                args.add(Arguments.of(type, length));
            }
        }
        return args.stream();
    }

    @ParameterizedTest(name = "{0} claiming {1} payload bytes")
    @MethodSource("oversizedHeaders")
    @Timeout(10)
    void headerClaimingAnOversizedPayloadIsRefusedBeforeAnyPayloadIsReadOrAllocated(FrameType type, long length)
            throws IOException {
        byte[] header = Arrays.copyOf(Wire.encode(FuzzInputs.validFrame(type, new SplittableRandom(length))),
                Wire.HEADER_SIZE);
        FuzzInputs.putU32(header, FuzzInputs.LENGTH_OFFSET, length);
        // The header and nothing after it; asking for more would mean waiting for the payload.
        Probe in = new Probe(header, Probe.WHOLE, new SplittableRandom(1));
        in.forbidReadsPastEnd = true;
        FrameReader reader = new FrameReader(in);

        long before = THREADS.getCurrentThreadAllocatedBytes();
        ProtocolException e = assertThrows(ProtocolException.class, reader::next);
        long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;

        assertTrue(e.getMessage().toLowerCase(Locale.ROOT).contains("length"),
                "the error names the field: " + e.getMessage());
        assertTrue(allocated < Wire.MAX_DATA, "refusing the header allocated " + allocated
                + " bytes; a payload buffer for it would be at least " + (Wire.MAX_DATA + 1));
        assertTrue(in.maxBufferSeen <= Wire.MAX_FRAME, "read buffer of " + in.maxBufferSeen + " bytes");
    }

    // ------------------------------------------------------------------ the fuzzer

    private static Stats fuzz(long seed, int cases) {
        Stats stats = new Stats();
        for (int i = 0; i < cases; i++) {
            long caseSeed = seed * 0x9E37_79B9_7F4A_7C15L + i;
            SplittableRandom rnd = new SplittableRandom(caseSeed);
            FuzzInputs.Kind[] kind = new FuzzInputs.Kind[1];
            byte[] input = FuzzInputs.generate(rnd, kind);
            stats.count(kind[0]);
            int feeding = rnd.nextInt(4);
            try {
                runCase(input, feeding, rnd, stats);
            } catch (Throwable t) {
                throw new AssertionError("case " + i + " (seed " + seed + ", case seed " + caseSeed + ", feeding "
                        + feeding + "): " + t + "\ninput (" + input.length + " bytes): " + hex(input), t);
            }
        }
        return stats;
    }

    private static void runCase(byte[] input, int feeding, SplittableRandom rnd, Stats stats) throws IOException {
        Probe in = new Probe(input, feeding, rnd);
        long before = THREADS.getCurrentThreadAllocatedBytes();
        FrameReader reader = new FrameReader(in);
        int timeouts = 0;
        while (true) {
            Frame f;
            try {
                f = reader.next();
            } catch (SocketTimeoutException e) {
                if (++timeouts > input.length + 16) {
                    fail("the reader made no progress over " + timeouts + " read timeouts");
                }
                continue; // as the link's worker does: the partial frame is kept, call again
            } catch (UnsupportedVersionException e) {
                stats.versionErrors++;
                break;
            } catch (ProtocolException e) {
                stats.protocolErrors++;
                stats.note(e.getMessage());
                break;
            } catch (EOFException e) {
                stats.endsOfStream++;
                break;
            }
            checkFrame(f, stats);
        }
        long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
        stats.maxAllocated = Math.max(stats.maxAllocated, allocated);
        stats.maxBuffer = Math.max(stats.maxBuffer, in.maxBufferSeen);
        assertTrue(in.maxBufferSeen <= Wire.MAX_FRAME, "the reader read into a buffer of " + in.maxBufferSeen
                + " bytes, more than the largest frame (" + Wire.MAX_FRAME + ")");
        assertTrue(allocated <= input.length + ALLOCATION_SLACK, "decoding " + input.length + " bytes allocated "
                + allocated + " bytes");
    }

    /** A frame the reader let through must be one the protocol allows. */
    private static void checkFrame(Frame f, Stats stats) {
        stats.frames++;
        assertTrue(f.type() != null, "frame without a type");
        assertTrue(f.length() <= Wire.MAX_DATA, "payload of " + f.length() + " bytes: " + f);
        assertTrue(f.seq() >= 0 && f.ack() >= 0, "negative seq or ack: " + f);
        switch (f.type()) {
            case DATA -> assertTrue(f.length() >= 1, "empty DATA frame: " + f);
            case HEARTBEAT, ACK, END, ABORT, STOPPING -> assertEquals(0, f.length(), "payload on a control frame: " + f);
            case CHALLENGE -> assertEquals(PresharedKey.CHALLENGE_SIZE, f.length(), f.toString());
            case PROOF -> assertEquals(PresharedKey.PROOF_SIZE, f.length(), f.toString());
            case HELLO, WELCOME -> {
                assertEquals(Handshake.SIZE, f.length(), f.toString());
                try {
                    Handshake h = Handshake.decode(f);
                    // Every accessor of a decoded handshake must be safe to call.
                    Object code = f.type() == FrameType.HELLO ? h.mode() : h.status();
                    assertTrue(code != null && h.window() > 0 && h.secret().length == Handshake.SECRET_SIZE
                            && h.nonce().length == Handshake.NONCE_SIZE, "decoded " + h);
                    stats.handshakes++;
                } catch (ProtocolException e) {
                    stats.handshakeErrors++;
                }
            }
            default -> {
                // a type added later: the length checks above still apply
            }
        }
    }

    private static String hex(byte[] b) {
        String h = HexFormat.of().formatHex(b, 0, Math.min(b.length, 256));
        return b.length > 256 ? h + "..." : h;
    }

    // ------------------------------------------------------------------ the stream

    /**
     * Plays {@code data} the way a socket would: whole, in random chunks, a byte at a time,
     * or in random chunks with {@link SocketTimeoutException}s in between (a socket with
     * {@code SO_TIMEOUT}). Records the largest buffer the reader offered.
     */
    private static final class Probe extends InputStream {
        static final int WHOLE = 0;
        static final int CHUNKS = 1;
        static final int BYTES = 2;
        static final int TIMEOUTS = 3;
        /** One instance, so that the allocations measured are the reader's, not this probe's stack traces. */
        private static final SocketTimeoutException TIMEOUT = new SocketTimeoutException("injected read timeout");

        private final byte[] data;
        private final int feeding;
        private final SplittableRandom rnd;
        private int pos;
        int maxBufferSeen;
        boolean forbidReadsPastEnd;

        Probe(byte[] data, int feeding, SplittableRandom rnd) {
            this.data = data;
            this.feeding = feeding;
            this.rnd = rnd;
        }

        @Override
        public int read() throws IOException {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            maxBufferSeen = Math.max(maxBufferSeen, b.length);
            if (pos >= data.length) {
                if (forbidReadsPastEnd) {
                    throw new AssertionError("the reader asked for bytes past a header it should have refused");
                }
                return -1;
            }
            if (len == 0) {
                return 0;
            }
            if (feeding == TIMEOUTS && rnd.nextInt(3) == 0) {
                throw TIMEOUT;
            }
            int n = switch (feeding) {
                case WHOLE -> len;
                case BYTES -> 1;
                default -> 1 + rnd.nextInt(Math.max(1, Math.min(len, 97)));
            };
            n = Math.min(n, Math.min(len, data.length - pos));
            System.arraycopy(data, pos, b, off, n);
            pos += n;
            return n;
        }
    }

    /** What the fuzz run went through, so the test can prove it exercised every outcome. */
    private static final class Stats {
        int randomInputs;
        int headerOnlyInputs;
        int mutatedInputs;
        long frames;
        long handshakes;
        long handshakeErrors;
        long protocolErrors;
        long versionErrors;
        long endsOfStream;
        long maxAllocated;
        int maxBuffer;
        final java.util.Map<String, Integer> reasons = new java.util.TreeMap<>();

        void count(FuzzInputs.Kind kind) {
            switch (kind) {
                case RANDOM -> randomInputs++;
                case HEADER_ONLY -> headerOnlyInputs++;
                default -> mutatedInputs++;
            }
        }

        void note(String message) {
            String m = message.toLowerCase(Locale.ROOT);
            String key = m.contains("magic") ? "magic" : m.contains("length") ? "length"
                    : m.contains("type") ? "type" : m.contains("seq") ? "seq" : m.contains("ack") ? "ack" : "other";
            reasons.merge(key, 1, Integer::sum);
        }

        void assertEveryPathExercised() {
            assertTrue(frames > 0 && handshakes > 0 && handshakeErrors > 0 && protocolErrors > 0 && versionErrors > 0
                    && endsOfStream > 0, "the fuzz must reach every outcome: " + this);
            for (String r : List.of("magic", "length", "type", "seq", "ack")) {
                assertTrue(reasons.getOrDefault(r, 0) > 0, "no input was refused for its " + r + ": " + this);
            }
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%d random, %d header-only, %d mutated inputs -> %d frames (%d handshakes"
                            + " decoded, %d refused), %d protocol errors %s, %d version errors, %d ends of stream;"
                            + " largest read buffer %d bytes, most allocated by one case %d bytes",
                    randomInputs, headerOnlyInputs, mutatedInputs, frames, handshakes, handshakeErrors, protocolErrors,
                    reasons, versionErrors, endsOfStream, maxBuffer, maxAllocated);
        }
    }
}
