package net.roamproxy.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Heartbeat and loss detection on explicit clock values. Every timing derives from one
 * interval; the clock starts at an arbitrary origin, because {@link System#nanoTime} may.
 */
class LivenessTest {
    private static final long MS = 1_000_000L;
    private static final long INTERVAL = 1_000 * MS;
    private static final int MISS_LIMIT = 3;
    private static final long T0 = 987_654_321_000L;

    private final Liveness live = new Liveness(INTERVAL, MISS_LIMIT, T0);

    @Test
    void heartbeatBecomesDueExactlyOneIntervalAfterTheLastOneSent() {
        assertFalse(live.heartbeatDue(T0));
        assertFalse(live.heartbeatDue(T0 + INTERVAL - 1));
        assertTrue(live.heartbeatDue(T0 + INTERVAL));
    }

    @Test
    void sendingAHeartbeatStartsTheNextInterval() {
        live.heartbeatSent(T0 + INTERVAL);

        assertFalse(live.heartbeatDue(T0 + 2 * INTERVAL - 1));
        assertTrue(live.heartbeatDue(T0 + 2 * INTERVAL));
    }

    @Test
    void aHeartbeatIsDueSoonFromHalfTheInterval() {
        long soon = INTERVAL / 2;
        assertFalse(live.heartbeatDueSoon(T0 + soon - 1));
        assertTrue(live.heartbeatDueSoon(T0 + soon));
        live.heartbeatSent(T0 + soon);
        assertFalse(live.heartbeatDueSoon(T0 + 2 * soon - 1), "sent early, the next interval starts then");
    }

    @Test
    void receivingFramesDoesNotPostponeOurOwnHeartbeat() {
        live.frameReceived(T0 + INTERVAL / 2);

        assertTrue(live.heartbeatDue(T0 + INTERVAL));
    }

    @Test
    void peerIsLostOnlyAfterMissLimitIntervalsWithoutAFrame() {
        for (int i = 1; i < MISS_LIMIT; i++) {
            live.heartbeatSent(T0 + i * INTERVAL);
            assertFalse(live.peerLost(T0 + i * INTERVAL), "after " + i + " silent intervals");
        }
        assertFalse(live.peerLost(T0 + MISS_LIMIT * INTERVAL - 1));
        assertTrue(live.peerLost(T0 + MISS_LIMIT * INTERVAL));
    }

    @Test
    void ourOwnHeartbeatsDoNotKeepASilentPeerAlive() {
        for (long t = T0; t < T0 + MISS_LIMIT * INTERVAL; t += INTERVAL / 4) {
            live.heartbeatSent(t);
        }

        assertTrue(live.peerLost(T0 + MISS_LIMIT * INTERVAL));
    }

    @Test
    void anyFrameFromThePeerPostponesLoss() {
        long frameAt = T0 + 2 * INTERVAL + 500 * MS;
        live.frameReceived(frameAt);

        assertFalse(live.peerLost(T0 + MISS_LIMIT * INTERVAL));
        assertFalse(live.peerLost(frameAt + MISS_LIMIT * INTERVAL - 1));
        assertTrue(live.peerLost(frameAt + MISS_LIMIT * INTERVAL));
    }

    @Test
    void missLimitOfOneLosesThePeerAfterOneInterval() {
        Liveness strict = new Liveness(INTERVAL, 1, T0);

        assertFalse(strict.peerLost(T0 + INTERVAL - 1));
        assertTrue(strict.peerLost(T0 + INTERVAL));
    }

    @Test
    void resetStartsANewLinkWithFreshDeadlines() {
        long later = T0 + 10 * INTERVAL;

        live.reset(later);

        assertFalse(live.peerLost(later));
        assertFalse(live.heartbeatDue(later));
        assertEquals(0, live.millisSinceLastFrame(later));
        assertTrue(live.heartbeatDue(later + INTERVAL));
    }

    @Test
    void millisSinceLastFrameCountsFromTheLastFrameReceived() {
        live.frameReceived(T0 + 250 * MS);

        assertEquals(1_750, live.millisSinceLastFrame(T0 + 2_000 * MS + 999_999));
    }

    @Test
    void millisUntilNextEventIsTheHeartbeatDeadlineWhenThatIsNearer() {
        assertEquals(1_000, live.millisUntilNextEvent(T0));
        assertEquals(400, live.millisUntilNextEvent(T0 + 600 * MS));
    }

    @Test
    void millisUntilNextEventIsTheLossDeadlineWhenThatIsNearer() {
        live.heartbeatSent(T0 + 2_900 * MS);

        assertEquals(100, live.millisUntilNextEvent(T0 + 2_900 * MS));
    }

    @Test
    void millisUntilNextEventRoundsUpSoTheReaderNeverWakesBeforeTheDeadline() {
        assertEquals(2, live.millisUntilNextEvent(T0 + INTERVAL - 1_500_000));
        assertEquals(1, live.millisUntilNextEvent(T0 + INTERVAL - 1));
    }

    @Test
    void millisUntilNextEventIsNeverBelowOne() {
        assertEquals(1, live.millisUntilNextEvent(T0 + INTERVAL));
        assertEquals(1, live.millisUntilNextEvent(T0 + 100 * INTERVAL));
    }

    @Test
    void aSilentPeerIsDetectedAfterTheRightNumberOfHeartbeatsWhenDrivenLikeTheReaderLoop() {
        long now = T0;
        int heartbeats = 0;
        int wakeups = 0;
        while (!live.peerLost(now)) {
            now += live.millisUntilNextEvent(now) * MS;
            wakeups++;
            if (live.heartbeatDue(now)) {
                live.heartbeatSent(now);
                heartbeats++;
            }
            assertTrue(wakeups < 100, "reader loop spins without reaching the loss deadline");
        }

        assertEquals(T0 + MISS_LIMIT * INTERVAL, now);
        assertEquals(MISS_LIMIT, heartbeats);
    }

    @ParameterizedTest
    @ValueSource(longs = {0L, -5_000_000_000L, Long.MIN_VALUE / 2})
    void deadlinesDoNotDependOnTheClocksOrigin(long origin) {
        Liveness l = new Liveness(INTERVAL, MISS_LIMIT, origin);

        assertEquals(1_000, l.millisUntilNextEvent(origin));
        assertTrue(l.heartbeatDue(origin + INTERVAL));
        assertFalse(l.peerLost(origin + MISS_LIMIT * INTERVAL - 1));
        assertTrue(l.peerLost(origin + MISS_LIMIT * INTERVAL));
    }

    /*
     * System.nanoTime may take any value and its javadoc asks callers to compare times by
     * subtraction because of numerical overflow. Here the heartbeat deadline fits in a long
     * but the loss deadline overflows, so comparing the two deadlines directly picks the
     * wrong one.
     */
    @Test
    void millisUntilNextEventPicksTheNearerDeadlineWhenTheClockIsAboutToOverflow() {
        long origin = Long.MAX_VALUE - 2 * INTERVAL;
        Liveness l = new Liveness(INTERVAL, MISS_LIMIT, origin);

        assertEquals(1_000, l.millisUntilNextEvent(origin));
    }
}
