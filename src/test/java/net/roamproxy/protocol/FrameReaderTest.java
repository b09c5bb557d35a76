package net.roamproxy.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.Test;

/** Reassembling frames from reads that split them anywhere, time out anywhere, or end anywhere. */
class FrameReaderTest {

    private static Frame data(long seq, int size, int seed) {
        byte[] p = new byte[size];
        new Random(seed).nextBytes(p);
        return new Frame(FrameType.DATA, seq, seq / 2, p);
    }

    private static byte[] concat(List<Frame> frames) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (Frame f : frames) {
            out.writeBytes(Wire.encode(f));
        }
        return out.toByteArray();
    }

    private static List<Frame> mixedFrames() {
        List<Frame> frames = new ArrayList<>();
        frames.add(new Frame(FrameType.HELLO, 0, 0,
                Handshake.hello(Handshake.Mode.NEW, 0, new byte[Handshake.SECRET_SIZE], 4096).encode()));
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
        byte[] wire = concat(frames);
        ScriptedInputStream in = new ScriptedInputStream();
        for (byte b : wire) {
            in.bytes(new byte[] {b});
        }

        assertReadsExactly(frames, new FrameReader(in));
    }

    @Test
    void framesSplitAcrossManyReadsOfRandomSizeComeOutIntact() throws IOException {
        List<Frame> frames = mixedFrames();
        byte[] wire = concat(frames);
        Random random = new Random(20240607);
        ScriptedInputStream in = new ScriptedInputStream();
        for (int at = 0; at < wire.length; ) {
            int n = Math.min(wire.length - at, 1 + random.nextInt(random.nextBoolean() ? 30 : 9000));
            in.bytes(wire, at, at + n);
            at += n;
        }

        assertReadsExactly(frames, new FrameReader(in));
    }

    @Test
    void manyLargestFramesInARowDoNotOverrunTheReadersBuffer() throws IOException {
        List<Frame> frames = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            frames.add(data((long) i * Wire.MAX_DATA, Wire.MAX_DATA, 10 + i));
        }
        byte[] wire = concat(frames);
        ScriptedInputStream in = new ScriptedInputStream();
        for (int at = 0; at < wire.length; at += 7001) {
            in.bytes(wire, at, Math.min(wire.length, at + 7001));
        }

        assertReadsExactly(frames, new FrameReader(in));
    }

    @Test
    void severalFramesArrivingInOneReadAreReturnedWithoutReadingAgain() throws IOException {
        List<Frame> frames = List.of(data(0, 10, 1), Frame.control(FrameType.ACK, 10, 4), data(10, 20, 2));
        ScriptedInputStream in = new ScriptedInputStream().bytes(concat(frames)).thenNoMoreReads();
        FrameReader reader = new FrameReader(in);

        for (Frame f : frames) {
            assertEquals(f, reader.next());
        }
        assertEquals(1, in.reads());
    }

    @Test
    void timeoutInTheMiddleOfTheHeaderKeepsThePartialFrame() throws IOException {
        Frame frame = data(1000, 50, 7);
        byte[] wire = Wire.encode(frame);
        ScriptedInputStream in = new ScriptedInputStream()
                .bytes(wire, 0, 11)
                .timeout()
                .bytes(wire, 11, wire.length);
        FrameReader reader = new FrameReader(in);

        assertThrows(SocketTimeoutException.class, reader::next);
        assertEquals(frame, reader.next());
        assertThrows(EOFException.class, reader::next);
    }

    @Test
    void timeoutsInTheMiddleOfThePayloadKeepThePartialFrame() throws IOException {
        Frame frame = data(5, 4000, 8);
        Frame after = Frame.control(FrameType.HEARTBEAT, 4005, 1);
        byte[] wire = concat(List.of(frame, after));
        ScriptedInputStream in = new ScriptedInputStream()
                .bytes(wire, 0, Wire.HEADER_SIZE + 100)
                .timeout()
                .bytes(wire, Wire.HEADER_SIZE + 100, Wire.HEADER_SIZE + 2500)
                .timeout()
                .timeout()
                .bytes(wire, Wire.HEADER_SIZE + 2500, wire.length);
        FrameReader reader = new FrameReader(in);

        assertThrows(SocketTimeoutException.class, reader::next);
        assertThrows(SocketTimeoutException.class, reader::next);
        assertThrows(SocketTimeoutException.class, reader::next);
        assertEquals(frame, reader.next());
        assertEquals(after, reader.next());
    }

    @Test
    void timeoutBetweenFramesLosesNothing() throws IOException {
        Frame first = data(0, 9, 1);
        Frame second = data(9, 9, 2);
        ScriptedInputStream in = new ScriptedInputStream()
                .timeout()
                .bytes(Wire.encode(first))
                .timeout()
                .bytes(Wire.encode(second));
        FrameReader reader = new FrameReader(in);

        assertThrows(SocketTimeoutException.class, reader::next);
        assertEquals(first, reader.next());
        assertThrows(SocketTimeoutException.class, reader::next);
        assertEquals(second, reader.next());
    }

    @Test
    void endOfStreamBetweenFramesIsEofException() throws IOException {
        Frame frame = Frame.control(FrameType.HEARTBEAT, 0, 0);
        FrameReader reader = new FrameReader(new ScriptedInputStream().bytes(Wire.encode(frame)));

        assertEquals(frame, reader.next());
        EOFException e = assertThrows(EOFException.class, reader::next);
        assertTrue(e.getMessage().contains("closed"), e.getMessage());
    }

    @Test
    void endOfStreamMidHeaderIsEofExceptionSayingMidFrame() {
        byte[] wire = Wire.encode(data(0, 10, 1));
        FrameReader reader = new FrameReader(new ScriptedInputStream().bytes(wire, 0, 5));

        EOFException e = assertThrows(EOFException.class, reader::next);
        assertTrue(e.getMessage().contains("mid-frame"), e.getMessage());
    }

    @Test
    void endOfStreamMidPayloadIsEofExceptionSayingMidFrame() {
        byte[] wire = Wire.encode(data(0, 10, 1));
        FrameReader reader = new FrameReader(new ScriptedInputStream().bytes(wire, 0, wire.length - 1));

        EOFException e = assertThrows(EOFException.class, reader::next);
        assertTrue(e.getMessage().contains("mid-frame"), e.getMessage());
    }

    @Test
    void oversizedLengthIsRejectedFromTheHeaderAloneWithoutWaitingForThePayload() {
        byte[] header = WireTest.validHeader(FrameType.DATA.code(), 0xFFFF_FFFFL);
        ScriptedInputStream in = new ScriptedInputStream().bytes(header).thenNoMoreReads();

        ProtocolException e = assertThrows(ProtocolException.class, () -> new FrameReader(in).next());
        assertTrue(e.getMessage().contains("4294967295"), e.getMessage());
    }

    @Test
    void unknownVersionSurfacesAsUnsupportedVersionException() {
        byte[] header = WireTest.header(0x5250, 9, FrameType.HEARTBEAT.code(), 0, 0, 0);
        FrameReader reader = new FrameReader(new ScriptedInputStream().bytes(header));

        UnsupportedVersionException e = assertThrows(UnsupportedVersionException.class, reader::next);
        assertEquals(9, e.version());
    }

    @Test
    void returnedPayloadIsACopyThatLaterReadsDoNotOverwrite() throws IOException {
        Frame first = data(0, 16, 1);
        Frame second = data(16, 16, 2);
        FrameReader reader = new FrameReader(new ScriptedInputStream().bytes(concat(List.of(first, second))));

        byte[] payload = reader.next().payload();
        reader.next();

        assertArrayEquals(first.payload(), payload);
    }

    @Test
    void inPlaceReadsLeaveThePayloadInTheReadersBuffer() throws IOException {
        Frame big = data(0, Wire.MAX_DATA, 5);
        Frame small = data(Wire.MAX_DATA, 3, 6);
        FrameReader reader = new FrameReader(new ScriptedInputStream().bytes(concat(List.of(big, small))));

        Wire.Header h = reader.nextInPlace();
        assertEquals(FrameType.DATA, h.type());
        assertEquals(Wire.MAX_DATA, h.length());
        assertArrayEquals(big.payload(), java.util.Arrays.copyOfRange(reader.payloadArray(), reader.payloadOffset(),
                reader.payloadOffset() + h.length()));
        h = reader.nextInPlace();
        assertEquals(Wire.MAX_DATA, h.seq());
        assertArrayEquals(small.payload(), java.util.Arrays.copyOfRange(reader.payloadArray(), reader.payloadOffset(),
                reader.payloadOffset() + 3));
    }

    @Test
    void anIdleTimeoutAfterBulkFramesGivesTheBigBufferBackButNeverMidFrame() throws IOException {
        Frame big = data(0, Wire.MAX_DATA, 7);
        byte[] next = Wire.encode(data(Wire.MAX_DATA, 100, 8));
        FrameReader reader = new FrameReader(new ScriptedInputStream()
                .bytes(Wire.encode(big))
                .timeout()
                .bytes(next, 0, 10)
                .timeout()
                .bytes(next, 10, next.length));

        assertEquals(big, reader.next());
        assertTrue(reader.allocated() >= Wire.MAX_FRAME);
        assertThrows(SocketTimeoutException.class, reader::next);
        assertEquals(FrameReader.INITIAL_SIZE, reader.allocated(), "idle between frames: shrunk");
        assertThrows(SocketTimeoutException.class, reader::next);
        assertEquals(Wire.MAX_DATA, reader.next().seq(), "a partial frame survives the timeout");
    }
}
