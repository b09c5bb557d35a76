package net.roamproxy.stream;

import static java.nio.charset.StandardCharsets.US_ASCII;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import net.roamproxy.wire.ProtocolException;

/** The receive queue: in-order delivery, replay trimming, protocol checks, non-blocking poll, acks, memory. */
/* A separate thread, so a test stuck entering a monitor still times out. */
@Timeout(value = 20, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ReceiveQueueTest {

    private static byte[] ascii(String s) {
        return s.getBytes(US_ASCII);
    }

    /** Takes everything queued right now (the caller knows it is non-empty or finished). */
    private static String takeQueued(ReceiveQueue in) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        byte[] buf = new byte[3];
        while (in.queued() > 0) {
            out.write(buf, 0, poll(in, buf));
        }
        return out.toString(US_ASCII);
    }

    /**
     * What the deliver job does, into {@code dst}: copies up to {@code dst.length} of the oldest
     * queued bytes from where {@link ReceiveQueue#peek} shows them, and takes them out as delivered.
     *
     * @return bytes taken, or what {@code peek} returned if none
     */
    private static int poll(ReceiveQueue in, byte[] dst) throws SessionClosedException {
        ReceiveQueue.Segment seg = new ReceiveQueue.Segment();
        int taken = 0;
        while (taken < dst.length) {
            int n = in.peek(seg);
            if (n <= 0) {
                return taken > 0 ? taken : n;
            }
            n = Math.min(n, dst.length - taken);
            System.arraycopy(seg.array(), seg.offset(), dst, taken, n);
            in.delivered(n);
            taken += n;
        }
        return taken;
    }

    @Test
    void framesAcceptedInOrderAreTakenInOrder() throws Exception {
        ReceiveQueue in = new ReceiveQueue(64);

        assertEquals(5, in.accept(0, ascii("hello")));
        assertEquals(6, in.accept(5, ascii(" world")));

        assertEquals(11, in.received());
        assertEquals("hello world", takeQueued(in));
        assertEquals(11, in.delivered());
    }

    @Test
    void replayedFrameThatWasAlreadyReceivedIsDroppedWhole() throws Exception {
        ReceiveQueue in = new ReceiveQueue(64);
        in.accept(0, ascii("abc"));

        assertEquals(0, in.accept(0, ascii("abc")));

        assertEquals(3, in.received());
        assertEquals("abc", takeQueued(in));
    }

    @Test
    void replayedFrameAlreadyTakenByTheApplicationIsNotDeliveredAgain() throws Exception {
        ReceiveQueue in = new ReceiveQueue(64);
        in.accept(0, ascii("abcdef"));
        assertEquals("abcdef", takeQueued(in));

        assertEquals(0, in.accept(2, ascii("cd")));

        assertEquals(0, in.queued());
    }

    @Test
    void replayedFrameOverlappingNewBytesQueuesOnlyTheNewPart() throws Exception {
        ReceiveQueue in = new ReceiveQueue(64);
        in.accept(0, ascii("abcd"));

        assertEquals(3, in.accept(2, ascii("cdefg")));

        assertEquals(7, in.received());
        assertEquals("abcdefg", takeQueued(in));
    }

    @Test
    void frameLeavingAGapIsAProtocolErrorNamingTheOffsets() {
        ReceiveQueue in = new ReceiveQueue(64);

        ProtocolException e = assertThrows(ProtocolException.class, () -> in.accept(5, ascii("x")));

        assertTrue(e.getMessage().contains("5"), e.getMessage());
        assertEquals(0, in.received());
        assertEquals(0, in.queued());
    }

    @Test
    void frameOverflowingTheWindowIsAProtocolErrorAndQueuesNothing() throws Exception {
        ReceiveQueue in = new ReceiveQueue(8);
        in.accept(0, ascii("12345678"));

        assertThrows(ProtocolException.class, () -> in.accept(8, ascii("9")));

        assertEquals(8, in.received());
        assertEquals("12345678", takeQueued(in));
    }

    @Test
    void singleFrameLargerThanTheWindowIsAProtocolError() {
        ReceiveQueue in = new ReceiveQueue(8);

        ProtocolException e = assertThrows(ProtocolException.class, () -> in.accept(0, new byte[9]));

        assertTrue(e.getMessage().contains("window"), e.getMessage());
    }

    @Test
    void polledBytesFreeWindowSpaceForMore() throws Exception {
        ReceiveQueue in = new ReceiveQueue(8);
        in.accept(0, ascii("12345678"));
        byte[] buf = new byte[5];
        assertEquals(5, poll(in, buf));

        assertEquals(5, in.accept(8, ascii("9abcd")));

        assertEquals(8, in.queued());
    }

    @Test
    void peekedBytesStayQueuedAndKeepTheirRoomUntilDelivered() throws Exception {
        ReceiveQueue in = new ReceiveQueue(8);
        in.accept(0, ascii("12345678"));
        ReceiveQueue.Segment seg = new ReceiveQueue.Segment();

        assertEquals(8, in.peek(seg));
        assertEquals(8, in.peek(seg), "peeking again shows the same bytes");
        assertThrows(ProtocolException.class, () -> in.accept(8, ascii("9")), "the window is still full");
        assertEquals(0, in.delivered());

        in.delivered(5);

        assertEquals(5, in.delivered());
        assertEquals(5, in.accept(8, ascii("9abcd")));
        assertEquals("6789abcd", takeQueued(in));
    }

    @Test
    void peekShowsTheOldestBytesInOnePieceUpToTheEndOfTheArray() throws Exception {
        ReceiveQueue in = new ReceiveQueue(ByteRing.INITIAL_SIZE);
        byte[] data = new byte[ByteRing.INITIAL_SIZE + 2000];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i * 7);
        }
        in.accept(0, data, 0, 4000);
        in.delivered(3000);
        in.accept(4000, data, 4000, 2000); // wraps around the array's end
        ReceiveQueue.Segment seg = new ReceiveQueue.Segment();

        int first = in.peek(seg);

        assertEquals(ByteRing.INITIAL_SIZE - 3000, first);
        assertArrayEquals(Arrays.copyOfRange(data, 3000, 3000 + first),
                Arrays.copyOfRange(seg.array(), seg.offset(), seg.offset() + first));
        in.delivered(first);
        int second = in.peek(seg);
        assertEquals(3000 - first, second, "the rest, from the array's start");
        assertArrayEquals(Arrays.copyOfRange(data, 3000 + first, 6000),
                Arrays.copyOfRange(seg.array(), seg.offset(), seg.offset() + second));
    }

    @Test
    void bytesBeingWrittenFromThePeekedArrayStayIntactWhenTheQueueGrows() throws Exception {
        ReceiveQueue in = new ReceiveQueue(1 << 16);
        byte[] first = new byte[ByteRing.INITIAL_SIZE];
        Arrays.fill(first, (byte) 'a');
        in.accept(0, first);
        ReceiveQueue.Segment seg = new ReceiveQueue.Segment();
        assertEquals(first.length, in.peek(seg));
        byte[] shown = seg.array();
        int at = seg.offset();

        byte[] more = new byte[3 * ByteRing.INITIAL_SIZE];
        Arrays.fill(more, (byte) 'b');
        in.accept(first.length, more); // the queue moves to a bigger array meanwhile

        assertArrayEquals(first, Arrays.copyOfRange(shown, at, at + first.length));
        in.delivered(first.length);
        assertEquals(more.length, in.peek(seg));
        assertEquals('b', seg.array()[seg.offset()]);
    }

    @Test
    void peerFinishedAtAnOffsetOtherThanWhatWasReceivedIsAProtocolError() throws Exception {
        ReceiveQueue in = new ReceiveQueue(64);
        in.accept(0, ascii("abc"));

        assertThrows(ProtocolException.class, () -> in.peerFinished(2));
        ProtocolException e = assertThrows(ProtocolException.class, () -> in.peerFinished(4));

        assertTrue(e.getMessage().contains("4"), e.getMessage());
        assertFalse(in.peerHasFinished());
    }

    @Test
    void pollReturnsMinusOneOnceThePeerFinishedAndEverythingWasTaken() throws Exception {
        ReceiveQueue in = new ReceiveQueue(64);
        in.accept(0, ascii("ab"));
        in.peerFinished(2);

        byte[] buf = new byte[10];
        assertEquals(2, poll(in, buf));
        assertEquals(-1, poll(in, buf));
        assertEquals(-1, poll(in, buf), "the end stays the end");
    }

    @Test
    void newDataAfterThePeersCloseIsAProtocolErrorButAReplayOfOldDataIsNot() throws Exception {
        ReceiveQueue in = new ReceiveQueue(64);
        in.accept(0, ascii("ab"));
        in.peerFinished(2);

        assertEquals(0, in.accept(0, ascii("ab")));
        assertThrows(ProtocolException.class, () -> in.accept(2, ascii("c")));
    }

    @Test
    void pollOnAnEmptyQueueReturnsZeroAtOnceUntilThePeerFinishes() throws Exception {
        ReceiveQueue in = new ReceiveQueue(64);
        byte[] buf = new byte[16];

        assertEquals(0, poll(in, buf));
        in.accept(0, ascii("late"));
        assertEquals(4, poll(in, buf));
        assertEquals("late", new String(buf, 0, 4, US_ASCII));
        assertEquals(0, poll(in, buf));

        in.peerFinished(4);
        assertEquals(-1, poll(in, buf));
    }

    @Test
    void pollAfterCloseFailsWithSessionClosed() throws Exception {
        ReceiveQueue in = new ReceiveQueue(64);
        in.close();

        assertThrows(SessionClosedException.class, () -> poll(in, new byte[4]));
    }

    @Test
    void pollOnAClosedStreamFailsEvenWithBytesQueued() throws Exception {
        ReceiveQueue in = new ReceiveQueue(64);
        in.accept(0, ascii("x"));
        in.close();

        assertThrows(SessionClosedException.class, () -> poll(in, new byte[4]));
    }

    @Test
    void pollMovesNoMoreThanTheDestinationHolds() throws Exception {
        ReceiveQueue in = new ReceiveQueue(64);
        in.accept(0, ascii("abcdef"));

        byte[] buf = new byte[4];
        assertEquals(4, poll(in, buf));

        assertEquals(2, in.queued());
    }

    @Test
    void ackBecomesDueWhenHalfTheWindowWasDeliveredSinceTheLastAck() throws Exception {
        ReceiveQueue in = new ReceiveQueue(100);
        in.accept(0, new byte[50]);

        in.delivered(49);
        assertFalse(in.ackDue());
        in.delivered(1);
        assertTrue(in.ackDue());
    }

    @Test
    void ackToSendReportsDeliveredBytesAndResetsTheDueCount() throws Exception {
        ReceiveQueue in = new ReceiveQueue(100);
        in.accept(0, new byte[60]);
        in.delivered(60);

        assertEquals(60, in.ackToSend());

        assertFalse(in.ackDue());
        in.accept(60, new byte[50]);
        in.delivered(49);
        assertFalse(in.ackDue());
        in.delivered(1);
        assertTrue(in.ackDue());
        assertEquals(110, in.ackToSend());
    }

    @Test
    void ackCountsDeliveredBytesNotMerelyReceivedOnes() throws Exception {
        ReceiveQueue in = new ReceiveQueue(100);
        in.accept(0, new byte[80]);

        assertFalse(in.ackDue(), "nothing reached the application yet");
        assertEquals(0, in.ackToSend());
    }

    @Test
    void aQueueGrownByBulkDataShrinksOnceIdleButNotWhileBusy() throws Exception {
        ReceiveQueue in = new ReceiveQueue(1 << 20);
        assertEquals(0, in.allocated(), "no array before the first byte");
        int small = ByteRing.INITIAL_SIZE;
        byte[] bulk = new byte[256 * 1024];
        in.accept(0, bulk, 0, bulk.length);
        byte[] buf = new byte[bulk.length];
        assertEquals(bulk.length, poll(in, buf));
        assertTrue(in.allocated() >= bulk.length, "grew to hold the burst");

        in.shrinkIfIdle();
        assertTrue(in.allocated() >= bulk.length, "busy in the last period: keeps its array");

        in.accept(bulk.length, ascii("keystroke"), 0, 9);
        in.shrinkIfIdle();
        assertEquals(small, in.allocated(), "only small amounts in the last period: back to the initial size");
        assertEquals(9, poll(in, buf), "and nothing queued was lost");
        assertEquals("keystroke", new String(buf, 0, 9, US_ASCII));
    }

    // ------------------------------------------------------------------ END

    @Test
    void thePeersEndCountsAsOneDeliveredByteOnceTheApplicationWasToldAndIsAckedAtOnce() throws Exception {
        ReceiveQueue in = new ReceiveQueue(64);
        in.accept(0, "abc".getBytes(US_ASCII));
        assertTrue(in.peerFinished(3));
        byte[] buf = new byte[16];
        assertEquals(3, poll(in, buf));
        in.ackToSend();
        assertEquals(-1, poll(in, buf), "everything taken: the caller now tells the application");

        in.endDelivered();

        assertEquals(4, in.delivered());
        assertTrue(in.endWasDelivered());
        assertTrue(in.ackDue(), "the peer waits for this ack to end its direction");
        assertEquals(4, in.ackToSend());
        assertFalse(in.ackDue());
        assertEquals(0, poll(in, buf), "the end is delivered once");
    }

    @Test
    void aReplayedEndIsRecognisedAndNotAnError() throws Exception {
        ReceiveQueue in = new ReceiveQueue(64);
        in.accept(0, "ab".getBytes(US_ASCII));

        assertTrue(in.peerFinished(2));
        assertFalse(in.peerFinished(2), "the same END again, after a resume");
        assertEquals(0, in.accept(0, "ab".getBytes(US_ASCII)), "replayed bytes before it are dropped");
        assertThrows(ProtocolException.class, () -> in.accept(2, "c".getBytes(US_ASCII)), "no data after the end");
    }

    // ------------------------------------------------------------------ opening straight into the queue

    /** What the link reader does: reserve, write where told (the cipher's output), commit. */
    private static int openInto(ReceiveQueue in, long seq, byte[] plain) throws ProtocolException {
        ReceiveQueue.Segment place = new ReceiveQueue.Segment();
        if (!in.reserve(seq, plain.length, place)) {
            return -1;
        }
        System.arraycopy(plain, 0, place.array(), place.offset(), plain.length);
        return in.commit(seq, plain.length);
    }

    @Test
    void bytesOpenedIntoTheQueueAreDeliveredLikeAcceptedOnes() throws Exception {
        ReceiveQueue in = new ReceiveQueue(64);
        in.accept(0, ascii("ab"));

        assertEquals(3, openInto(in, 2, ascii("cde")));
        assertEquals(1, in.accept(5, ascii("f")));

        assertEquals(6, in.received());
        assertEquals("abcdef", takeQueued(in));
    }

    @Test
    void onlyTheNextBytesExpectedThatFitTheWindowAreOfferedRoom() throws Exception {
        ReceiveQueue in = new ReceiveQueue(8);
        in.accept(0, ascii("abcd"));
        ReceiveQueue.Segment place = new ReceiveQueue.Segment();

        assertFalse(in.reserve(2, 4, place), "a replay overlapping what arrived: accept trims it");
        assertFalse(in.reserve(5, 1, place), "a gap: accept refuses it");
        assertFalse(in.reserve(4, 5, place), "more than the window left: accept refuses it");
        assertTrue(in.reserve(4, 4, place));
        in.peerFinished(4);
        assertFalse(in.reserve(4, 1, place), "nothing after the peer's END");
    }

    @Test
    void aReservationNeverCommittedLeavesTheQueueAsItWas() throws Exception {
        ReceiveQueue in = new ReceiveQueue(16);
        in.accept(0, ascii("ab"));
        ReceiveQueue.Segment place = new ReceiveQueue.Segment();
        assertTrue(in.reserve(2, 3, place));
        System.arraycopy(ascii("XYZ"), 0, place.array(), place.offset(), 3); // a frame that then failed to open

        assertEquals(2, in.received());
        assertEquals(2, in.queued());
        assertEquals(3, in.accept(2, ascii("cde")), "the same offset is taken by the next frame");
        assertEquals("abcde", takeQueued(in));
    }

    @Test
    void bytesThatWouldWrapAroundTheArrayAreNotOfferedRoom() throws Exception {
        ReceiveQueue in = new ReceiveQueue(16);
        assertEquals(12, openInto(in, 0, ascii("abcdefghijkl")));
        byte[] some = new byte[10];
        assertEquals(10, poll(in, some)); // free space now: 4 at the end of the array, 10 at its start

        assertEquals(-1, openInto(in, 12, ascii("mnopqr")), "6 bytes would wrap");
        assertEquals(6, in.accept(12, ascii("mnopqr")), "so they are copied, in two pieces");
        assertEquals(2, openInto(in, 18, ascii("st")), "room in one piece, after the wrap");
        assertEquals("klmnopqrst", takeQueued(in));
    }

    @Test
    void aCommitAfterThePeersEndIsAProtocolError() throws Exception {
        ReceiveQueue in = new ReceiveQueue(16);
        ReceiveQueue.Segment place = new ReceiveQueue.Segment();
        assertTrue(in.reserve(0, 2, place));
        in.peerFinished(0);

        assertThrows(ProtocolException.class, () -> in.commit(0, 2));
        assertEquals(0, in.received());
    }
}
