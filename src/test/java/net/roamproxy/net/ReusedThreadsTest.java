package net.roamproxy.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import net.roamproxy.testkit.Await;

@Timeout(30)
class ReusedThreadsTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    /** Pools whose idle threads would otherwise outlive the test by their keep time. */
    private final List<ReusedThreads> pools = new ArrayList<>();

    @AfterEach
    void closePools() {
        pools.forEach(ReusedThreads::close);
    }

    private ReusedThreads pool(String prefix, long keepMillis) {
        ReusedThreads p = new ReusedThreads(prefix, keepMillis);
        pools.add(p);
        return p;
    }

    /** Runs one job on {@code pool} and returns its thread once it is back waiting for the next. */
    private static Thread idleAfterOneJob(ReusedThreads pool) throws InterruptedException {
        BlockingQueue<Thread> ran = new LinkedBlockingQueue<>();
        pool.execute(() -> ran.add(Thread.currentThread()));
        Thread t = ran.poll(10, TimeUnit.SECONDS);
        // Back waiting once it is parked in its hand-off poll.
        Await.until(WAIT, "the thread to wait for another job", () -> t.getState() == Thread.State.TIMED_WAITING);
        return t;
    }

    @Test
    void aThreadThatFinishedItsJobRunsTheNextInsteadOfANewThread() throws Exception {
        ReusedThreads pool = pool("test-reused-", 60_000);
        Thread first = idleAfterOneJob(pool);
        BlockingQueue<Thread> ran = new LinkedBlockingQueue<>();
        pool.execute(() -> ran.add(Thread.currentThread()));
        assertSame(first, ran.poll(10, TimeUnit.SECONDS));
        assertEquals(1, pool.made());
    }

    @Test
    void jobsThatOverlapGetThreadsOfTheirOwn() throws Exception {
        ReusedThreads pool = pool("test-reused-", 60_000);
        CountDownLatch both = new CountDownLatch(2);
        CountDownLatch release = new CountDownLatch(1);
        AtomicReference<Thread> a = new AtomicReference<>();
        AtomicReference<Thread> b = new AtomicReference<>();
        pool.execute(() -> hold(a, both, release));
        pool.execute(() -> hold(b, both, release));
        assertTrue(both.await(10, TimeUnit.SECONDS), "both jobs run at once");
        release.countDown();
        assertNotSame(a.get(), b.get());
        assertEquals(2, pool.made());
    }

    @Test
    void anIdleThreadEndsAfterItsKeepTimeAndAJobStartsInterruptFree() throws Exception {
        ReusedThreads pool = new ReusedThreads("test-reused-", 50);
        AtomicReference<Thread> t = new AtomicReference<>();
        CountDownLatch done = new CountDownLatch(1);
        pool.execute(() -> {
            t.set(Thread.currentThread());
            Thread.currentThread().interrupt(); // left behind by a job: ends the thread, not the next job
            done.countDown();
        });
        assertTrue(done.await(10, TimeUnit.SECONDS));
        t.get().join(10_000);
        assertFalse(t.get().isAlive(), "the idle thread ended");
        AtomicReference<Boolean> interrupted = new AtomicReference<>();
        CountDownLatch second = new CountDownLatch(1);
        pool.execute(() -> {
            interrupted.set(Thread.currentThread().isInterrupted());
            second.countDown();
        });
        assertTrue(second.await(10, TimeUnit.SECONDS));
        assertFalse(interrupted.get());
    }

    @Test
    void closingEndsTheIdleThreads() throws Exception {
        ReusedThreads pool = new ReusedThreads("test-reused-", 60_000);
        Thread t = idleAfterOneJob(pool);
        pool.close();
        t.join(10_000);
        assertFalse(t.isAlive(), "the idle thread ended at once, not after its minute");
    }

    @Test
    void aThreadThatCannotBeMadeIsThrownToTheCaller() {
        ReusedThreads pool = new ReusedThreads("test-failing-", 60_000);
        try (Threads.Restore r = Threads.interpose(next -> (name, body) -> {
            throw new OutOfMemoryError("unable to create native thread (test)");
        })) {
            assertThrows(OutOfMemoryError.class, () -> pool.execute(() -> { }));
        }
    }

    private static void hold(AtomicReference<Thread> self, CountDownLatch both, CountDownLatch release) {
        self.set(Thread.currentThread());
        both.countDown();
        try {
            release.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
