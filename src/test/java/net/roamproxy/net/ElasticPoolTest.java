package net.roamproxy.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The shared pools: bounded by what the running proxies' session limits allow, never more. */
@Timeout(20)
class ElasticPoolTest {

    @Test
    void theBoundFollowsTheReservationsOfTheRunningProxies() {
        ElasticPool pool = new ElasticPool("test-io-", 2);
        assertEquals(ElasticPool.SPARE, pool.maxThreads(), "only the spare threads while no proxy runs");

        ElasticPool.Reservation sproxy = pool.reserve(1024);
        ElasticPool.Reservation cproxy = pool.reserve(10);
        assertEquals(ElasticPool.SPARE + 2 * 1034, pool.maxThreads(), "two threads per session of each");

        sproxy.resize(100); // a reload lowered --max-sessions
        assertEquals(ElasticPool.SPARE + 2 * 110, pool.maxThreads());
        sproxy.close();
        cproxy.close();
        cproxy.close();
        assertEquals(ElasticPool.SPARE, pool.maxThreads(), "closing twice gives back once");
    }

    @Test
    void aJobBeyondTheBoundIsRefusedNamingThePoolAndAcceptedOnceThereIsRoom() throws Exception {
        ElasticPool pool = new ElasticPool("test-io-", 1);
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch started = new CountDownLatch(ElasticPool.SPARE);
        try {
            for (int i = 0; i < ElasticPool.SPARE; i++) {
                pool.execute(() -> {
                    started.countDown();
                    await(release);
                });
            }
            assertTrue(started.await(10, TimeUnit.SECONDS), "every thread up to the bound is made");

            RejectedExecutionException e = assertThrows(RejectedExecutionException.class, () -> pool.execute(() -> { }));
            assertEquals("all " + ElasticPool.SPARE + " test-io threads are busy", e.getMessage());

            CountDownLatch ran = new CountDownLatch(1);
            try (ElasticPool.Reservation r = pool.reserve(1)) {
                pool.execute(ran::countDown);
                assertTrue(ran.await(10, TimeUnit.SECONDS), "room for one more session: one more thread");
            }
        } finally {
            release.countDown();
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
