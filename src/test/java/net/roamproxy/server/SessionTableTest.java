package net.roamproxy.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import net.roamproxy.metrics.Metrics;
import net.roamproxy.stream.MemoryBudget;
import net.roamproxy.testkit.Crowd;
import net.roamproxy.wire.Handshake;

/** sproxy's session limit, claimed before a new session connects to its target. */
@Timeout(20)
class SessionTableTest {

    private static final InetAddress A = address(192, 0, 2, 1);
    private static final InetAddress B = address(198, 51, 100, 7);

    private static InetAddress address(int... b) {
        try {
            return InetAddress.getByAddress(new byte[] {(byte) b[0], (byte) b[1], (byte) b[2], (byte) b[3]});
        } catch (java.net.UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void everyIdOfAnInstanceCarriesItsNumberInTheFirstByteAndTheRestIsRandom() {
        SessionTable t = new SessionTable(Metrics.unshared("sproxy"), MemoryBudget.unlimited(), new Instance(42));
        long low = 0;
        for (int i = 0; i < 64; i++) {
            long id = t.newId();
            assertEquals(42, Handshake.instanceOf(id));
            low |= id & 0x00ff_ffff_ffff_ffffL;
        }
        assertEquals(0x00ff_ffff_ffff_ffffL, low, "every bit below the instance byte varies");
    }

    @Test
    void aSingleSproxysIdsCarryZeroThere() {
        SessionTable t = new SessionTable(Metrics.unshared("sproxy"));
        for (int i = 0; i < 64; i++) {
            long id = t.newId();
            assertEquals(0, Handshake.instanceOf(id));
            assertTrue(id != 0);
        }
    }

    @Test
    void onlyAnInstanceCallsAnotherInstancesIdsElsewhere() {
        long ofFive = Handshake.withInstance(12345, 5);
        assertFalse(new Instance(Instance.SINGLE).elsewhere(ofFive, "test"), "a single sproxy answers as before");
        assertFalse(new Instance(5).elsewhere(ofFive, "test"));
        assertTrue(new Instance(6).elsewhere(ofFive, "test"));
        assertTrue(new Instance(6).elsewhere(12345, "test"), "an id of a single sproxy is no instance's");
    }

    @Test
    void placesClaimedForStartingSessionsCountAgainstTheLimitUntilReleased() {
        SessionTable t = new SessionTable(Metrics.unshared("sproxy"));
        assertTrue(t.reserve(2, A, 0));
        assertTrue(t.reserve(2, B, 0));
        assertFalse(t.reserve(2, B, 0), "two sessions are starting: a third must wait");
        t.release(A);
        assertTrue(t.reserve(2, B, 0), "a released place is free again");
    }

    @Test
    void aSourceAtItsShareIsRefusedWhileOthersAreNot() {
        SessionTable t = new SessionTable(Metrics.unshared("sproxy"));
        assertTrue(t.reserve(10, A, 2));
        assertTrue(t.reserve(10, A, 2));
        assertFalse(t.reserve(10, A, 2), "A has its two");
        assertTrue(t.reserve(10, B, 2), "B is not A");
        t.release(A);
        assertTrue(t.reserve(10, A, 2), "A gave one back");
    }

    @Test
    void concurrentClaimsNeverExceedTheLimit() throws Exception {
        SessionTable t = new SessionTable(Metrics.unshared("sproxy"));
        AtomicInteger granted = new AtomicInteger();
        Crowd.run(16, () -> {
            for (int k = 0; k < 1000; k++) {
                if (t.reserve(5, A, 0)) {
                    granted.incrementAndGet();
                }
            }
        });
        assertEquals(5, granted.get());
    }
}
