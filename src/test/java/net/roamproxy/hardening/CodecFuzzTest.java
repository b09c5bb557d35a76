package net.roamproxy.hardening;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.EOFException;
import java.io.IOException;
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

import net.roamproxy.wire.Frame;
import net.roamproxy.wire.FrameReader;
import net.roamproxy.wire.FrameType;
import net.roamproxy.wire.ProtocolException;
import net.roamproxy.wire.Wire;

/**
 * Fuzzes the product's {@link FrameReader} two ways, with input fed whole, in random chunks, a
 * byte at a time and with read timeouts in between. Without keys, as during a handshake
 * ({@link FuzzInputs}): only clear frames ever come out, every sealed type is refused, and a
 * decoded handshake payload is safe to use ({@link HandshakePayloads}). With keys
 * ({@link SealedMutations}): the frames before the first altered one come out exactly as
 * sealed, and an altered frame fails, or, if its header was rewritten to a clear type, comes
 * out as that clear frame, which the reader leaves to its caller (the session refuses it, as
 * it would a clear frame inserted whole). Whatever comes out sealed is the sender's next
 * frame, unaltered: no sealed frame is ever altered, replayed, reordered or forged through.
 * Either way the only failures are {@link ProtocolException} and {@link EOFException}, and
 * the reader never allocates for a length it has not validated: observed as the size of the
 * buffer it reads into, the bytes this thread allocates per case, and an oversized length
 * refused from the header alone. A fixed seed makes every run the same; a failure names the
 * case and its input in hex.
 */
class CodecFuzzTest {
    private static final long SEED = 0x5250_0003_F022L;
    private static final int CI_CASES = 50_000;
    private static final int LONG_CASES = 1_000_000;
    private static final com.sun.management.ThreadMXBean THREADS =
            (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    /**
     * Allocation a case may cause beyond its input: the reader's buffer growing to one full
     * frame (at most twice {@link Wire#MAX_FRAME} over its doublings), exceptions and messages.
     * Per frame, one payload copy and AES-GCM's own buffering of the ciphertext until the tag
     * checks out: both bounded by the input, hence the factor on it. A reader that trusted a
     * length field would allocate megabytes to gigabytes here.
     */
    private static final long ALLOCATION_SLACK = 3L * Wire.MAX_FRAME + 512 * 1024;
    private static final int ALLOCATION_PER_INPUT_BYTE = 3;

    @Test
    @Timeout(120)
    void withoutKeysFiftyThousandRandomAndMutatedInputsYieldOnlyClearFramesAndRefuseEverySealedType() {
        FuzzStats s = fuzzWithoutKeys(SEED, CI_CASES);
        System.out.println("codec fuzz without keys: " + s);
        assertWithoutKeysReachedEveryOutcome(s);
    }

    @Test
    @Timeout(120)
    void withKeysFiftyThousandAlteredSealedStreamsYieldTheirIntactPrefixAndNoAlteredSealedFrame() {
        FuzzStats s = fuzzWithKeys(SEED, CI_CASES);
        System.out.println("codec fuzz with keys: " + s);
        assertWithKeysReachedEveryOutcome(s);
    }

    @Test
    @EnabledIfSystemProperty(named = "roamproxy.long", matches = "true")
    @Timeout(3600)
    void aMillionInputsEachWayHoldTheSameRules() {
        FuzzStats without = fuzzWithoutKeys(SEED + 1, LONG_CASES);
        FuzzStats with = fuzzWithKeys(SEED + 1, LONG_CASES);
        System.out.println("codec fuzz (long) without keys: " + without + "\nwith keys: " + with);
        assertWithoutKeysReachedEveryOutcome(without);
        assertWithKeysReachedEveryOutcome(with);
    }

    static Stream<Arguments> oversizedHeaders() {
        List<Arguments> args = new ArrayList<>();
        for (FrameType type : FrameType.values()) {
            for (long length : new long[] {Wire.MAX_DATA + Wire.TAG_SIZE + 1L, 1L << 20, 0x7fff_ffffL, 0x8000_0000L,
                0xffff_ffffL}) {
                args.add(Arguments.of(type, length, false));
                args.add(Arguments.of(type, length, true));
            }
        }
        return args.stream();
    }

    @ParameterizedTest(name = "{0} claiming {1} bytes, keys: {2}")
    @MethodSource("oversizedHeaders")
    @Timeout(10)
    void aHeaderClaimingAnOversizedPayloadIsRefusedBeforeAnyPayloadIsReadOrAllocated(FrameType type, long length,
                                                                                      boolean keys) {
        byte[] header = Arrays.copyOf(FuzzInputs.wire(FuzzInputs.sealer(),
                FuzzInputs.validFrame(type, new SplittableRandom(length))), Wire.HEADER_SIZE);
        Hostile.putU32(header, Hostile.LENGTH_OFFSET, length);
        // The header and nothing after it; asking for more would mean waiting for the payload.
        FuzzStream in = new FuzzStream(header, FuzzStream.WHOLE, new SplittableRandom(1));
        in.forbidReadsPastEnd = true;
        FrameReader reader = new FrameReader(in);
        if (keys) {
            reader.protect(FuzzInputs.opener());
        }

        long before = THREADS.getCurrentThreadAllocatedBytes();
        ProtocolException e = assertThrows(ProtocolException.class, reader::next);
        long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;

        assertTrue(e.getMessage().toLowerCase(Locale.ROOT).contains("length"), "names the field: " + e.getMessage());
        assertTrue(allocated < Wire.MAX_DATA, "refusing the header allocated " + allocated
                + " bytes; a payload buffer for it would be at least " + (Wire.MAX_DATA + 1));
        assertTrue(in.maxBufferSeen <= Wire.MAX_FRAME, "read buffer of " + in.maxBufferSeen + " bytes");
    }

    // ------------------------------------------------------------------ without keys

    private static FuzzStats fuzzWithoutKeys(long seed, int cases) {
        FuzzStats stats = new FuzzStats();
        for (int i = 0; i < cases; i++) {
            long caseSeed = seed * 0x9E37_79B9_7F4A_7C15L + i;
            SplittableRandom rnd = new SplittableRandom(caseSeed);
            FuzzInputs.Kind[] kind = new FuzzInputs.Kind[1];
            byte[] input = FuzzInputs.generate(rnd, kind);
            stats.countInput(kind[0].name());
            int feeding = rnd.nextInt(FuzzStream.FEEDINGS);
            try {
                FuzzStream in = new FuzzStream(input, feeding, rnd);
                runUnchecked(new FrameReader(in), in, input.length, stats, (index, f) -> {
                    assertFalse(f.type().isSealed(), "a sealed frame came out of a reader without keys: " + f);
                    HandshakePayloads.check(f, stats);
                });
            } catch (Throwable t) {
                throw failure(i, seed, caseSeed, feeding, input, "", t);
            }
        }
        return stats;
    }

    private static void assertWithoutKeysReachedEveryOutcome(FuzzStats s) {
        s.assertInputsIncluded(List.of("RANDOM", "HEADER_ONLY", "MUTATED"));
        s.assertReached("magic", "length", "type", "seq", "ack", "keys");
        s.assertEverySealedTypeRefusedBeforeKeys();
        assertTrue(s.frames > 0 && s.handshakes > 0 && s.handshakeErrors > 0 && s.versionErrors > 0,
                "the fuzz must reach every outcome: " + s);
    }

    // ------------------------------------------------------------------ with keys

    private static FuzzStats fuzzWithKeys(long seed, int cases) {
        // The JDK's first AES-GCM use loads and sets up its provider, which this thread's
        // allocation counter would charge to the first case.
        runWithKeys(SealedMutations.generate(new SplittableRandom(seed)), FuzzStream.WHOLE, new SplittableRandom(0),
                new FuzzStats());
        FuzzStats stats = new FuzzStats();
        for (int i = 0; i < cases; i++) {
            long caseSeed = seed * 0xBF58_476D_1CE4_E5B9L + i;
            SplittableRandom rnd = new SplittableRandom(caseSeed);
            SealedMutations.Case c = SealedMutations.generate(rnd);
            int feeding = rnd.nextInt(FuzzStream.FEEDINGS);
            try {
                runWithKeys(c, feeding, rnd, stats);
            } catch (Throwable t) {
                throw failure(i, seed, caseSeed, feeding, c.stream(), " (" + c.what() + ", intact " + c.intact()
                        + ")", t);
            }
        }
        return stats;
    }

    private static void runWithKeys(SealedMutations.Case c, int feeding, SplittableRandom rnd, FuzzStats stats) {
        for (String m : c.what().split(" ")) {
            stats.countInput(m);
        }
        FuzzStream in = new FuzzStream(c.stream(), feeding, rnd);
        FrameReader reader = new FrameReader(in);
        reader.protect(FuzzInputs.opener());
        int[] seen = {0};
        int[] sealed = {0};
        IOException end = runUnchecked(reader, in, c.stream().length, stats, (index, f) -> {
            seen[0]++;
            if (index >= c.intact()) {
                assertTrue(c.mutated(), "a frame beyond those sent: " + f);
            }
            if (!f.type().isSealed()) {
                // Not one the sender sealed: a header rewritten to a clear type, left to the caller.
                assertTrue(index >= c.intact(), "a clear frame where an intact sealed one was: " + f);
                stats.clearFramesAfterAMutation++;
                return;
            }
            // Whatever came before it, a frame opens only if it is the sender's next one, unaltered.
            assertTrue(sealed[0] < c.plain().size(), "more sealed frames than were sent: " + f);
            assertEquals(c.plain().get(sealed[0]++), f, "sealed frame " + index);
            if (index >= c.intact()) {
                stats.sealedFramesAfterAClearOne++;
            }
        });
        assertTrue(seen[0] >= c.intact(), "only " + seen[0] + " of the " + c.intact() + " intact frames came out");
        if (!c.mutated()) {
            assertInstanceOf(EOFException.class, end);
            assertFalse(end.getMessage().contains("mid-frame"), "an unaltered stream ends cleanly: " + end);
        }
    }

    private static void assertWithKeysReachedEveryOutcome(FuzzStats s) {
        s.assertInputsIncluded(List.of("bit-flip", "byte-set", "length", "type", "version", "seq-ack", "truncation",
                "replay", "reorder", "drop", "forged"));
        s.assertReached("authentication", "length", "type", "seq", "ack");
        assertTrue(s.frames > 0 && s.versionErrors > 0 && s.cleanEnds > 0 && s.endsOfStream > s.cleanEnds
                        && s.clearFramesAfterAMutation > 0,
                "the fuzz must reach every outcome: " + s);
    }

    // ------------------------------------------------------------------ the loop

    /** What a test checks of each frame the reader yields. */
    private interface FrameCheck {
        void accept(int index, Frame f);
    }

    /**
     * Reads until the reader fails, as the link's worker does (a timeout keeps the partial frame:
     * call again), checking each frame and the allocation of the whole case.
     *
     * @return the exception that ended the stream: only a {@link ProtocolException} or an EOF
     */
    private static IOException run(FrameReader reader, FuzzStream in, int inputLength, FuzzStats stats,
                                   FrameCheck check) throws IOException {
        long before = THREADS.getCurrentThreadAllocatedBytes();
        int timeouts = 0;
        int index = 0;
        IOException end;
        while (true) {
            Frame f;
            try {
                f = reader.next();
            } catch (SocketTimeoutException e) {
                if (++timeouts > inputLength + 16) {
                    fail("the reader made no progress over " + timeouts + " read timeouts");
                }
                continue;
            } catch (ProtocolException | EOFException e) {
                end = e;
                break;
            }
            stats.frames++;
            assertTrue(f.length() <= Wire.MAX_DATA && f.seq() >= 0 && f.ack() >= 0, "out of bounds: " + f);
            check.accept(index++, f);
        }
        long allocated = THREADS.getCurrentThreadAllocatedBytes() - before;
        stats.ended(end);
        stats.allocated(allocated, in.maxBufferSeen);
        assertTrue(in.maxBufferSeen <= Wire.MAX_FRAME, "the reader read into a buffer of " + in.maxBufferSeen
                + " bytes, more than the largest frame (" + Wire.MAX_FRAME + ")");
        assertTrue(allocated <= (long) ALLOCATION_PER_INPUT_BYTE * inputLength + ALLOCATION_SLACK, "decoding "
                + inputLength + " bytes allocated " + allocated + " bytes");
        return end;
    }

    /** {@link #run}, for a reader whose only exceptions other than those it returns are the test's failure. */
    private static IOException runUnchecked(FrameReader reader, FuzzStream in, int inputLength, FuzzStats stats,
                                            FrameCheck check) {
        try {
            return run(reader, in, inputLength, stats, check);
        } catch (IOException e) {
            throw new AssertionError("the reader failed with neither a protocol error nor an EOF: " + e, e);
        }
    }

    private static AssertionError failure(int i, long seed, long caseSeed, int feeding, byte[] input, String what,
                                          Throwable t) {
        String hex = HexFormat.of().formatHex(input, 0, Math.min(input.length, 256)) + (input.length > 256 ? "..." : "");
        return new AssertionError("case " + i + " (seed " + seed + ", case seed " + caseSeed + ", feeding " + feeding
                + what + "): " + t + "\ninput (" + input.length + " bytes): " + hex, t);
    }
}
