package net.roamproxy.wire;

import static net.roamproxy.wire.Sealing.data;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.EOFException;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * Reassembling frames from reads that split them anywhere, time out anywhere, or end anywhere,
 * on a link that has its keys: sealed frames as a peer's {@link FrameProtection.Sealer} puts
 * them on the wire, and the handshake's clear frames among them. That the keys' rules hold is
 * {@link FrameReaderSealingTest}'s part.
 */
class FrameReaderTest {

    /** A reader of {@code in} with the keys that open what {@link Sealing#sealer()} seals. */
    private static FrameReader keyed(ScriptedInputStream in) {
        FrameReader r = new FrameReader(in);
        r.protect(Sealing.opener());
        return r;
    }

    private static byte[] wire(List<Frame> frames) {
        return Sealing.wire(Sealing.sealer(), frames);
    }

    private static List<Frame> mixedFrames() {
        List<Frame> frames = new ArrayList<>();
        frames.add(new Frame(FrameType.HELLO, 0, 0, Hello.forNew(new byte[Handshake.KEY_SIZE], 4096, "ssh").encode()));
        frames.add(data(0, 1, 1));
        frames.add(Frame.control(FrameType.HEARTBEAT, 1, 0));
        frames.add(data(1, Wire.MAX_DATA, 2));
        frames.add(Frame.control(FrameType.ACK, Wire.MAX_DATA + 1L, 77));
        frames.add(data(Wire.MAX_DATA + 1L, 1000, 3));
        frames.add(data(Wire.MAX_DATA + 1001L, Wire.MAX_DATA, 4));
        frames.add(Frame.control(FrameType.END, 2L * Wire.MAX_DATA + 1001, 78));
        return frames;
    }

    private static void assertReadsExactly(List<Frame> expected, FrameReader reader) throws IOException {
        for (Frame f : expected) {
            assertEquals(f, reader.next());
        }
        assertThrows(EOFException.class, reader::next);
    }

    @Test
    void framesDeliveredOneByteAtATimeComeOutIntact() throws IOException {
        List<Frame> frames = List.of(data(0, 5, 1), Frame.control(FrameType.HEARTBEAT, 5, 3), data(5, 300, 2));
        ScriptedInputStream in = new ScriptedInputStream();
        for (byte b : wire(frames)) {
            in.bytes(new byte[] {b});
        }

        assertReadsExactly(frames, keyed(in));
    }

    @Test
    void framesSplitAcrossManyReadsOfRandomSizeComeOutIntact() throws IOException {
        List<Frame> frames = mixedFrames();
        byte[] wire = wire(frames);
        Random random = new Random(20240607);
        ScriptedInputStream in = new ScriptedInputStream();
        for (int at = 0; at < wire.length; ) {
            int n = Math.min(wire.length - at, 1 + random.nextInt(random.nextBoolean() ? 30 : 9000));
            in.bytes(wire, at, at + n);
            at += n;
        }

        assertReadsExactly(frames, keyed(in));
    }

    @Test
    void manyLargestFramesInARowWithTheirTagsDoNotOverrunTheReadersBuffer() throws IOException {
        List<Frame> frames = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            frames.add(data((long) i * Wire.MAX_DATA, Wire.MAX_DATA, 10 + i));
        }
        byte[] wire = wire(frames);
        ScriptedInputStream in = new ScriptedInputStream();
        for (int at = 0; at < wire.length; at += 7001) {
            in.bytes(wire, at, Math.min(wire.length, at + 7001));
        }
        FrameReader reader = keyed(in);

        assertReadsExactly(frames, reader);
        assertTrue(reader.allocated() <= Wire.MAX_FRAME, "a buffer of " + reader.allocated() + " bytes, more than "
                + "the largest frame");
    }

    @Test
    void severalFramesArrivingInOneReadAreReturnedWithoutReadingAgain() throws IOException {
        List<Frame> frames = List.of(data(0, 10, 1), Frame.control(FrameType.ACK, 10, 4), data(10, 20, 2));
        ScriptedInputStream in = new ScriptedInputStream().bytes(wire(frames)).thenNoMoreReads();
        FrameReader reader = keyed(in);

        for (Frame f : frames) {
            assertEquals(f, reader.next());
        }
        assertEquals(1, in.reads());
    }

    @Test
    void aTimeoutInTheMiddleOfTheHeaderKeepsThePartialFrame() throws IOException {
        Frame frame = data(1000, 50, 7);
        byte[] wire = wire(List.of(frame));
        FrameReader reader = keyed(new ScriptedInputStream().bytes(wire, 0, 11).timeout()
                .bytes(wire, 11, wire.length));

        assertThrows(SocketTimeoutException.class, reader::next);
        assertEquals(frame, reader.next());
        assertThrows(EOFException.class, reader::next);
    }

    @Test
    void timeoutsInTheMiddleOfThePayloadAndTagKeepThePartialFrameAndOpenItOnce() throws IOException {
        Frame frame = data(5, 4000, 8);
        Frame after = Frame.control(FrameType.HEARTBEAT, 4005, 1);
        byte[] wire = wire(List.of(frame, after));
        int tagAt = Wire.HEADER_SIZE + 4000;
        FrameReader reader = keyed(new ScriptedInputStream()
                .bytes(wire, 0, Wire.HEADER_SIZE + 100)
                .timeout()
                .bytes(wire, Wire.HEADER_SIZE + 100, tagAt + 3)
                .timeout()
                .timeout()
                .bytes(wire, tagAt + 3, wire.length));

        assertThrows(SocketTimeoutException.class, reader::next);
        assertThrows(SocketTimeoutException.class, reader::next);
        assertThrows(SocketTimeoutException.class, reader::next);
        assertEquals(frame, reader.next());
        // The second frame opens only if the first was opened exactly once: each takes the next nonce.
        assertEquals(after, reader.next());
    }

    @Test
    void aTimeoutBetweenFramesLosesNothing() throws IOException {
        Frame first = data(0, 9, 1);
        Frame second = data(9, 9, 2);
        FrameProtection.Sealer sealer = Sealing.sealer();
        FrameReader reader = keyed(new ScriptedInputStream().timeout().bytes(Sealing.wire(sealer, first))
                .timeout().bytes(Sealing.wire(sealer, second)));

        assertThrows(SocketTimeoutException.class, reader::next);
        assertEquals(first, reader.next());
        assertThrows(SocketTimeoutException.class, reader::next);
        assertEquals(second, reader.next());
    }

    @Test
    void theEndOfTheStreamBetweenFramesIsAnEofSayingClosed() throws IOException {
        Frame frame = Frame.control(FrameType.HEARTBEAT, 0, 0);
        FrameReader reader = keyed(new ScriptedInputStream().bytes(wire(List.of(frame))));

        assertEquals(frame, reader.next());
        assertTrue(assertThrows(EOFException.class, reader::next).getMessage().contains("closed"));
    }

    @Test
    void theEndOfTheStreamMidHeaderMidPayloadOrMidTagIsAnEofSayingMidFrame() {
        byte[] wire = wire(List.of(data(0, 10, 1)));
        for (int cut : new int[] {5, Wire.HEADER_SIZE + 4, wire.length - 1}) {
            FrameReader reader = keyed(new ScriptedInputStream().bytes(wire, 0, cut));

            EOFException e = assertThrows(EOFException.class, reader::next, "cut at " + cut);
            assertTrue(e.getMessage().contains("mid-frame"), e.getMessage());
        }
    }

    @Test
    void anOversizedLengthIsRefusedFromTheHeaderAloneWithoutWaitingForThePayload() {
        byte[] header = WireTest.validHeader(FrameType.DATA.code(), 0xFFFF_FFFFL);
        FrameReader reader = keyed(new ScriptedInputStream().bytes(header).thenNoMoreReads());

        assertTrue(assertThrows(ProtocolException.class, reader::next).getMessage().contains("4294967295"));
        assertEquals(FrameReader.INITIAL_SIZE, reader.allocated(), "no buffer grown for the claimed payload");
    }

    @Test
    void aProtocolTwoPeerSurfacesAsUnsupportedVersion() {
        byte[] header = WireTest.header(Wire.MAGIC, 2, FrameType.HEARTBEAT.code(), 0, 0, 0);
        FrameReader reader = keyed(new ScriptedInputStream().bytes(header));

        assertEquals(2, assertThrows(UnsupportedVersionException.class, reader::next).version());
    }

    @Test
    void aReturnedPayloadIsACopyThatLaterReadsDoNotOverwrite() throws IOException {
        Frame first = data(0, 16, 1);
        FrameReader reader = keyed(new ScriptedInputStream().bytes(wire(List.of(first, data(16, 16, 2)))));

        byte[] payload = reader.next().payload();
        reader.next();

        assertArrayEquals(first.payload(), payload);
    }

    @Test
    void inPlaceReadsLeaveThePlaintextInTheReadersBufferWithItsPlainLength() throws IOException {
        Frame big = data(0, Wire.MAX_DATA, 5);
        Frame small = data(Wire.MAX_DATA, 3, 6);
        FrameReader reader = keyed(new ScriptedInputStream().bytes(wire(List.of(big, small))));

        Wire.Header h = reader.nextInPlace();
        assertEquals(new Wire.Header(FrameType.DATA, Wire.MAX_DATA, 0, 0), h);
        assertArrayEquals(big.payload(), inPlacePayload(reader, h));
        h = reader.nextInPlace();
        assertEquals(new Wire.Header(FrameType.DATA, 3, Wire.MAX_DATA, Wire.MAX_DATA / 2), h);
        assertArrayEquals(small.payload(), inPlacePayload(reader, h));
    }

    static byte[] inPlacePayload(FrameReader reader, Wire.Header h) {
        return Arrays.copyOfRange(reader.payloadArray(), reader.payloadOffset(), reader.payloadOffset() + h.length());
    }

    @Test
    void anIdleTimeoutAfterBulkFramesGivesTheBigBufferBackButNeverMidFrame() throws IOException {
        Frame big = data(0, Wire.MAX_DATA, 7);
        FrameProtection.Sealer sealer = Sealing.sealer();
        byte[] first = Sealing.wire(sealer, big);
        byte[] next = Sealing.wire(sealer, data(Wire.MAX_DATA, 100, 8));
        FrameReader reader = keyed(new ScriptedInputStream().bytes(first).timeout().bytes(next, 0, 10).timeout()
                .bytes(next, 10, next.length));

        assertEquals(big, reader.next());
        assertTrue(reader.allocated() >= Wire.MAX_FRAME);
        assertThrows(SocketTimeoutException.class, reader::next);
        assertEquals(FrameReader.INITIAL_SIZE, reader.allocated(), "idle between frames: shrunk");
        assertThrows(SocketTimeoutException.class, reader::next);
        assertEquals(Wire.MAX_DATA, reader.next().seq(), "a partial frame survives the timeout");
    }

    /** A target that takes what fits in its array from {@link #at}, and counts what it was offered. */
    private static final class Target implements FrameReader.DataTarget {
        final byte[] array = new byte[Wire.MAX_DATA + 100];
        final int at = 7;
        final List<Long> offered = new ArrayList<>();
        boolean taking = true;

        @Override
        public boolean reserve(long seq, int len) {
            offered.add(seq);
            return taking && at + len <= array.length;
        }

        @Override
        public byte[] array() {
            return array;
        }

        @Override
        public int offset() {
            return at;
        }
    }

    @Test
    void dataFramesAreOpenedIntoATargetThatTakesThemAndOtherFramesInPlace() throws IOException {
        Frame big = data(0, Wire.MAX_DATA, 8);
        Frame heartbeat = Frame.control(FrameType.HEARTBEAT, 5, 9);
        FrameReader reader = keyed(new ScriptedInputStream().bytes(wire(List.of(big, heartbeat))));
        Target target = new Target();
        reader.openDataInto(target);

        Wire.Header h = reader.nextInPlace();

        assertEquals(new Wire.Header(FrameType.DATA, Wire.MAX_DATA, 0, 0), h, "the header as in place");
        assertTrue(reader.openedToTarget());
        assertArrayEquals(big.payload(), Arrays.copyOfRange(target.array, target.at, target.at + Wire.MAX_DATA),
                "the plaintext where the target said");
        assertEquals(FrameType.HEARTBEAT, reader.nextInPlace().type());
        assertFalse(reader.openedToTarget(), "only DATA goes to the target");
        assertEquals(List.of(0L), target.offered);
    }

    @Test
    void aDataFrameTheTargetRefusesIsOpenedInPlace() throws IOException {
        Frame small = data(40, 10, 3);
        FrameReader reader = keyed(new ScriptedInputStream().bytes(wire(List.of(small))));
        Target target = new Target();
        target.taking = false;
        reader.openDataInto(target);

        Wire.Header h = reader.nextInPlace();

        assertFalse(reader.openedToTarget());
        assertEquals(List.of(40L), target.offered, "offered with its offset");
        assertArrayEquals(small.payload(), inPlacePayload(reader, h));
    }

    @Test
    void aForgedDataFrameOpenedTowardsATargetFailsAsInPlace() {
        byte[] sealed = wire(List.of(data(0, 100, 4)));
        sealed[Wire.HEADER_SIZE + 50] ^= 1; // one bit of the ciphertext
        FrameReader reader = keyed(new ScriptedInputStream().bytes(sealed));
        reader.openDataInto(new Target());

        ProtocolException e = assertThrows(ProtocolException.class, reader::nextInPlace);
        assertTrue(e.getMessage().contains("failed authentication"), e.getMessage());
        assertFalse(reader.openedToTarget(), "nothing of it counts as opened");
    }
}
