package net.roamproxy.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import net.roamproxy.metrics.Metrics;

/** sproxy's session limit, claimed before a new session connects to its target. */
@Timeout(20)
class SessionTableTest {

    @Test
    void placesClaimedForStartingSessionsCountAgainstTheLimitUntilReleased() {
        SessionTable t = new SessionTable(Metrics.unshared("sproxy"));
        assertTrue(t.reserve(2));
        assertTrue(t.reserve(2));
        assertFalse(t.reserve(2), "two sessions are starting: a third must wait");
        t.release();
        assertTrue(t.reserve(2), "a released place is free again");
    }

    @Test
    void concurrentClaimsNeverExceedTheLimit() throws Exception {
        SessionTable t = new SessionTable(Metrics.unshared("sproxy"));
        AtomicInteger granted = new AtomicInteger();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            Thread th = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                for (int k = 0; k < 1000; k++) {
                    if (t.reserve(5)) {
                        granted.incrementAndGet();
                    }
                }
            });
            threads.add(th);
            th.start();
        }
        go.countDown();
        for (Thread th : threads) {
            th.join();
        }
        assertEquals(5, granted.get());
    }
}
