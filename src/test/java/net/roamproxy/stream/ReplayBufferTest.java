package net.roamproxy.stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import net.roamproxy.wire.ProtocolException;

/** The replay buffer: append, send, ack-trim, rewind for replay, backpressure and the end of the stream. */
/* A separate thread, so a test stuck entering a monitor still times out. */
@Timeout(value = 20, threadMode = Timeout.ThreadMode.SEPARATE_THREAD)
class ReplayBufferTest {

    /** Stream bytes that differ at every offset of interest, so a replay from the wrong offset shows. */
    private static byte[] stream(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 7 + 3 + (i >> 8));
        }
        return b;
    }

    private static byte[] drain(ReplayBuffer out, int max) {
        byte[] dst = new byte[max + 4];
        int n = out.drainTo(dst, 2, max);
        return Arrays.copyOfRange(dst, 2, 2 + n);
    }

    private static byte[] drainAll(ReplayBuffer out) {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        byte[] chunk;
        while ((chunk = drain(out, 7)).length > 0) {
            all.writeBytes(chunk);
        }
        return all.toByteArray();
    }

    // ------------------------------------------------------------------ append, send, ack

    @Test
    void appendedBytesAreDrainedInOrderAndAdvanceTheSendCursor() throws Exception {
        ReplayBuffer out = new ReplayBuffer(64);
        byte[] data = stream(40);
        out.append(data, 0, 25);
        out.append(data, 25, 15);

        assertArrayEquals(Arrays.copyOfRange(data, 0, 10), drain(out, 10));
        assertEquals(10, out.sendCursor());
        assertArrayEquals(Arrays.copyOfRange(data, 10, 40), drain(out, 100));
        assertEquals(40, out.sendCursor());
        assertEquals(40, out.end());
        assertEquals(0, out.drainTo(new byte[10], 0, 10), "nothing left to send");
    }

    @Test
    void ackDropsAcknowledgedBytesAndFreesTheirSpace() throws Exception {
        ReplayBuffer out = new ReplayBuffer(64);
        out.append(stream(30), 0, 30);
        drain(out, 30);

        out.ack(12);

        assertEquals(12, out.acked());
        assertEquals(18, out.buffered());
        assertEquals(30, out.end());
        assertEquals(30, out.sendCursor());
    }

    @Test
    void ackOfBytesNeverSentIsAProtocolError() throws Exception {
        ReplayBuffer out = new ReplayBuffer(64);
        out.append(stream(10), 0, 10);
        drain(out, 5);

        ProtocolException e = assertThrows(ProtocolException.class, () -> out.ack(6));

        assertTrue(e.getMessage().contains("6"), e.getMessage());
        assertEquals(0, out.acked());
        assertEquals(10, out.buffered());
    }

    @Test
    void staleAckBelowWhatWasAlreadyAckedChangesNothing() throws Exception {
        ReplayBuffer out = new ReplayBuffer(64);
        out.append(stream(10), 0, 10);
        drain(out, 10);
        out.ack(8);

        out.ack(3);

        assertEquals(8, out.acked());
        assertEquals(2, out.buffered());
    }

    // ------------------------------------------------------------------ rewind / replay

    @Test
    void rewindReplaysExactlyTheBytesAfterThePeersAck() throws Exception {
        ReplayBuffer out = new ReplayBuffer(256);
        byte[] data = stream(100);
        out.append(data, 0, 100);
        drain(out, 100);
        out.ack(30);

        long resend = out.rewind(60, 256).resend();

        assertEquals(40, resend);
        assertEquals(60, out.acked());
        assertEquals(60, out.sendCursor());
        assertArrayEquals(Arrays.copyOfRange(data, 60, 100), drainAll(out));
        assertEquals(100, out.sendCursor());
    }

    @Test
    void rewindToTheAckedOffsetReplaysEverythingUnacknowledged() throws Exception {
        ReplayBuffer out = new ReplayBuffer(256);
        byte[] data = stream(50);
        out.append(data, 0, 50);
        drain(out, 20);
        out.ack(20);
        drain(out, 20);

        assertEquals(30, out.rewind(20, 256).resend());

        assertArrayEquals(Arrays.copyOfRange(data, 20, 50), drainAll(out));
    }

    @Test
    void rewindAcceptsAPeerAckBeyondThisLinksCursorWhenAnEarlierLinkSentThoseBytes() throws Exception {
        ReplayBuffer out = new ReplayBuffer(256);
        byte[] data = stream(100);
        out.append(data, 0, 100);
        drain(out, 100);
        out.rewind(40, 256);
        drain(out, 10);

        long resend = out.rewind(90, 256).resend();

        assertEquals(10, resend);
        assertEquals(90, out.acked());
        assertArrayEquals(Arrays.copyOfRange(data, 90, 100), drainAll(out));
    }

    @Test
    void rewindBelowWhatWasAlreadyAckedIsAProtocolError() throws Exception {
        ReplayBuffer out = new ReplayBuffer(64);
        out.append(stream(20), 0, 20);
        drain(out, 20);
        out.ack(10);

        ProtocolException e = assertThrows(ProtocolException.class, () -> out.rewind(9, 64));

        assertTrue(e.getMessage().contains("9"), e.getMessage());
        assertEquals(20, out.sendCursor(), "a refused rewind leaves the cursor alone");
    }

    @Test
    void rewindBeyondTheEndOfTheStreamIsAProtocolError() throws Exception {
        ReplayBuffer out = new ReplayBuffer(64);
        out.append(stream(20), 0, 20);

        ProtocolException e = assertThrows(ProtocolException.class, () -> out.rewind(21, 64));

        assertTrue(e.getMessage().contains("21"), e.getMessage());
        assertEquals(0, out.acked());
    }

    // ------------------------------------------------------------------ backpressure

    @Test
    void appendBlocksWhileTheCapacityIsFullAndAnAckReleasesIt() throws Exception {
        ReplayBuffer out = new ReplayBuffer(16);
        byte[] data = stream(20);
        out.append(data, 0, 16);
        drain(out, 16);

        Blocking<Void> appender = Blocking.<Void>start("appender", () -> {
            out.append(data, 16, 4);
            return null;
        }).assertParked();
        assertEquals(16, out.end(), "nothing appended while blocked");

        out.ack(4);
        appender.awaitResult();

        assertEquals(20, out.end());
        assertEquals(16, out.buffered());
        assertArrayEquals(Arrays.copyOfRange(data, 16, 20), drainAll(out));
    }

    @Test
    void appendBlocksAtThePeersWindowWhenItIsSmallerThanTheCapacity() throws Exception {
        ReplayBuffer out = new ReplayBuffer(64);
        out.rewind(0, 16);
        out.append(stream(16), 0, 16);

        Blocking<Void> appender = Blocking.<Void>start("appender", () -> {
            out.append(new byte[1], 0, 1);
            return null;
        }).assertParked();
        assertEquals(16, out.buffered());

        drain(out, 16);
        out.ack(1);
        appender.awaitResult();
        assertEquals(17, out.end());
    }

    @Test
    void appendLargerThanTheWindowGoesInPiecesAsAcksArrive() throws Exception {
        ReplayBuffer out = new ReplayBuffer(8);
        byte[] data = stream(50);
        Blocking<Void> appender = Blocking.<Void>start("appender", () -> {
            out.append(data, 0, 50);
            return null;
        });
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        long deadline = System.nanoTime() + 5_000_000_000L;
        while (sent.size() < 50) {
            assertTrue(System.nanoTime() - deadline < 0, "only " + sent.size() + " of 50 bytes came through");
            byte[] chunk = drain(out, 3);
            sent.writeBytes(chunk);
            out.ack(out.sendCursor());
            Thread.onSpinWait();
        }
        appender.awaitResult();

        assertArrayEquals(data, sent.toByteArray());
    }

    @Test
    void closeFailsABlockedAppendWithSessionClosed() throws Exception {
        ReplayBuffer out = new ReplayBuffer(4);
        out.append(stream(4), 0, 4);
        Blocking<Void> appender = Blocking.<Void>start("appender", () -> {
            out.append(new byte[1], 0, 1);
            return null;
        }).assertParked();

        out.close();

        assertInstanceOf(SessionClosedException.class, appender.awaitFailure());
        assertEquals(4, out.end());
    }

    @Test
    void appendAfterCloseFails() {
        ReplayBuffer out = new ReplayBuffer(16);
        out.close();

        assertThrows(SessionClosedException.class, () -> out.append(new byte[1], 0, 1));
    }

    /*
     * Flow control: the peer's receive queue holds only its window, so at most that many bytes
     * may be unacknowledged on the link. Bytes appended before the first link told us the
     * peer's window (the application reader starts before the first handshake completes)
     * must not all be released at once when the window turns out smaller.
     */
    @Test
    void drainNeverPutsMoreThanThePeersWindowInFlightAfterRewindLowersIt() throws Exception {
        ReplayBuffer out = new ReplayBuffer(64);
        out.append(stream(64), 0, 64);

        out.rewind(0, 16);
        int sent = drainAll(out).length;

        assertTrue(out.sendCursor() - out.acked() <= 16,
                "sent " + sent + " unacknowledged bytes to a peer whose window is 16");
    }

    @Test
    void bytesHeldBackByASmallerPeerWindowAreReleasedAsAcksArrive() throws Exception {
        ReplayBuffer out = new ReplayBuffer(64);
        byte[] data = stream(64);
        out.append(data, 0, 64);
        out.finish();
        out.rewind(0, 16);

        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        for (int round = 0; round < 4; round++) {
            byte[] chunk = drainAll(out);
            assertEquals(16, chunk.length, "round " + round + " sends one window");
            if (round < 3) {
                assertFalse(out.takeEndDue(), "END waits for the held-back bytes");
            }
            sent.writeBytes(chunk);
            out.ack(out.sendCursor());
        }

        assertArrayEquals(data, sent.toByteArray());
        assertTrue(out.takeEndDue());
    }

    // ------------------------------------------------------------------ end of stream

    @Test
    void endBecomesDueOnlyOnceTheWholeFinishedStreamIsSentAndOnlyOnce() throws Exception {
        ReplayBuffer out = new ReplayBuffer(64);
        out.append(stream(10), 0, 10);
        out.finish();

        assertTrue(out.finished());
        assertFalse(out.takeEndDue(), "bytes still unsent");
        drain(out, 6);
        assertFalse(out.takeEndDue(), "bytes still unsent");
        drain(out, 6);
        assertTrue(out.takeEndDue());
        assertFalse(out.takeEndDue(), "END is due once per link");
    }

    @Test
    void rewindMakesTheEndDueAgainOnceAfterTheReplay() throws Exception {
        ReplayBuffer out = tenBytesAndTheirEndSent();

        out.rewind(4, 64);

        assertFalse(out.takeEndDue(), "the replay comes before the END");
        drain(out, 10);
        assertTrue(out.takeEndDue());
        assertFalse(out.takeEndDue());
    }

    @Test
    void finishedEmptyStreamHasItsEndDueAtOnce() {
        ReplayBuffer out = new ReplayBuffer(8);

        out.finish();

        assertTrue(out.takeEndDue());
        assertFalse(out.takeEndDue());
    }

    @Test
    void appendAfterFinishFailsAndLeavesTheStreamAlone() throws Exception {
        ReplayBuffer out = new ReplayBuffer(8);
        out.append(stream(3), 0, 3);
        out.finish();

        assertThrows(SessionClosedException.class, () -> out.append(new byte[2], 0, 2));

        assertEquals(3, out.end());
        drain(out, 8);
        assertTrue(out.takeEndDue(), "the final length is still 3");
    }

    @Test
    void finishingTwiceKeepsTheFirstFinalLength() throws Exception {
        ReplayBuffer out = new ReplayBuffer(8);
        out.append(stream(3), 0, 3);
        out.finish();
        out.finish();

        drain(out, 8);

        assertTrue(out.takeEndDue());
        assertEquals(3, out.sendCursor());
    }

    @Test
    void ackBeyondTheRewoundCursorButWithinWhatWasSentSkipsResendingThoseBytes() throws Exception {
        ReplayBuffer out = new ReplayBuffer(1024);
        out.append(new byte[100], 0, 100);
        byte[] frame = new byte[100];
        assertEquals(100, out.drainTo(frame, 0, 100));

        out.rewind(40, 1024);    // a new link: the peer's handshake said 40 delivered
        out.ack(60);             // meanwhile it delivered 20 more it had queued

        assertEquals(60, out.sendCursor());
        assertEquals(40, out.drainTo(frame, 0, 100));
        assertEquals(60, out.lastDrainOffset());
        assertThrows(ProtocolException.class, () -> out.ack(101), "nothing beyond 100 was ever sent");
    }

    @Test
    void aReplayBufferShrinksAfterAnIdlePeriodAndStillReplaysWhatIsUnacknowledged() throws Exception {
        ReplayBuffer out = new ReplayBuffer(1 << 20);
        assertEquals(0, out.allocated(), "no array before the first byte");
        int small = ByteRing.INITIAL_SIZE;
        byte[] bulk = stream(300_000);
        out.append(bulk, 0, bulk.length);
        assertArrayEquals(bulk, drainAll(out));
        out.ack(bulk.length);
        assertTrue(out.allocated() >= bulk.length, "grew to hold the burst");

        out.shrinkIfIdle(); // the last period held 300 KB: keeps its array
        assertTrue(out.allocated() >= bulk.length);
        byte[] typed = Arrays.copyOfRange(stream(bulk.length + 100), bulk.length, bulk.length + 100);
        out.append(typed, 0, typed.length);
        assertArrayEquals(typed, drainAll(out)); // sent, not yet acknowledged
        out.shrinkIfIdle();

        assertEquals(small, out.allocated(), "idle again: back to the initial size");
        assertEquals(typed.length, out.rewind(bulk.length, 1 << 20).resend(), "a new link resends the unacknowledged bytes");
        assertArrayEquals(typed, drainAll(out));
    }

    // ------------------------------------------------------------------ END in the sequence space

    /** A buffer whose application gave 10 bytes and ended its stream: the bytes sent, then the END. */
    private static ReplayBuffer tenBytesAndTheirEndSent() throws Exception {
        ReplayBuffer out = new ReplayBuffer(64);
        out.append(stream(10), 0, 10);
        out.finish();
        drain(out, 10);
        assertTrue(out.takeEndDue(), "the END is due once the bytes before it are sent");
        return out;
    }

    @Test
    void theEndTakesOneSequenceNumberAndIsAcknowledgedAtFinalLengthPlusOne() throws Exception {
        ReplayBuffer out = tenBytesAndTheirEndSent();

        assertFalse(out.ack(10), "the bytes arrived, the END not yet");
        assertFalse(out.endAcked());
        assertTrue(out.ack(11), "this ack is the END's");

        assertTrue(out.endAcked());
        assertTrue(out.allAcked());
        assertFalse(out.takeEndDue(), "an acknowledged END is never sent again");
    }

    @Test
    void anUnacknowledgedEndIsReplayedOnTheNextLink() throws Exception {
        ReplayBuffer out = tenBytesAndTheirEndSent();

        assertFalse(out.rewind(10, 64).endAcked()); // the peer has the bytes but not the END

        assertTrue(out.takeEndDue(), "replayed");
        assertFalse(out.endAcked());
    }

    @Test
    void aResumeAckingTheEndFinishesTheDirection() throws Exception {
        ReplayBuffer out = tenBytesAndTheirEndSent();

        ReplayBuffer.Rewound r = out.rewind(11, 64);

        assertEquals(0, r.resend(), "nothing to resend");
        assertTrue(r.endAcked(), "the resume's ack is the END's");
        assertTrue(out.endAcked());
        assertFalse(out.takeEndDue());
    }

    /**
     * The END's ack may reach us twice: in a frame on the old link and again in the next link's
     * handshake, or in frames on both links. Whichever comes first finishes the direction; the
     * rest must say nothing, or the session would hear that our direction ended twice.
     */
    @Test
    void theEndIsReportedAcknowledgedOnceHoweverOftenItsAckArrives() throws Exception {
        ReplayBuffer out = tenBytesAndTheirEndSent();

        assertTrue(out.ack(11), "the first ack of the END says so");
        assertFalse(out.ack(11), "the same ack again, a frame later");
        assertFalse(out.rewind(11, 64).endAcked(), "and in the next link's handshake");
        assertFalse(out.ack(11));
        assertTrue(out.endAcked());
    }

    @Test
    void acksFromTwoThreadsAtOnceReportTheEndOnce() throws Exception {
        for (int round = 0; round < 200; round++) {
            ReplayBuffer out = tenBytesAndTheirEndSent();
            AtomicInteger reported = new AtomicInteger();
            CyclicBarrier start = new CyclicBarrier(2);
            Runnable acker = () -> {
                try {
                    start.await();
                    if (out.ack(11)) {
                        reported.incrementAndGet();
                    }
                } catch (Exception e) {
                    throw new AssertionError(e);
                }
            };
            Thread a = new Thread(acker);
            Thread b = new Thread(acker);
            a.start();
            b.start();
            a.join();
            b.join();
            assertEquals(1, reported.get(), "round " + round);
        }
    }

    @Test
    void anAckOfAnEndNeverSentIsAProtocolError() throws Exception {
        ReplayBuffer out = new ReplayBuffer(64);
        out.append(stream(10), 0, 10);
        out.finish();
        drain(out, 10);

        ProtocolException e = assertThrows(ProtocolException.class, () -> out.ack(11));
        assertTrue(e.getMessage().contains("11"), e.getMessage());
        assertThrows(ProtocolException.class, () -> out.rewind(11, 64));
    }
}
