package net.roamproxy.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import net.roamproxy.testkit.Await;

/** A session's send or deliver job on the shared pool: never twice at once, and no request lost. */
@Timeout(20)
class SerialJobTest {
    private final ExecutorService pool = Executors.newCachedThreadPool();

    @AfterEach
    void stopPool() {
        pool.shutdownNow();
    }

    @Test
    void aRequestWhileTheJobRunsMakesItRunOnceMoreAndRequestsInBetweenCoalesce() throws Exception {
        CountDownLatch firstRunStarted = new CountDownLatch(1);
        CountDownLatch releaseFirstRun = new CountDownLatch(1);
        CountDownLatch secondRunDone = new CountDownLatch(1);
        AtomicInteger runs = new AtomicInteger();
        // Submissions to the pool not yet returned. A run that owes another either loops or
        // resubmits before it returns, so at 0 the job is idle: no run is left to come.
        AtomicInteger inPool = new AtomicInteger();
        Executor counted = task -> {
            inPool.incrementAndGet();
            pool.execute(() -> {
                try {
                    task.run();
                } finally {
                    inPool.decrementAndGet();
                }
            });
        };
        SerialJob job = new SerialJob(counted, () -> {
            if (runs.incrementAndGet() == 1) {
                firstRunStarted.countDown();
                await(releaseFirstRun);
            } else {
                secondRunDone.countDown();
            }
        }, SerialJobTest::unexpected);

        job.request();
        assertTrue(firstRunStarted.await(5, TimeUnit.SECONDS));
        for (int i = 0; i < 10; i++) {
            job.request(); // the first run may already be past the work these ask for
        }
        releaseFirstRun.countDown();

        assertTrue(secondRunDone.await(5, TimeUnit.SECONDS), "the requests made during the run were honoured");
        Await.until(Duration.ofSeconds(5), "the job goes idle", () -> inPool.get() == 0);
        assertEquals(2, runs.get(), "ten requests during one run need exactly one more run");
    }

    @Test
    void requestsFromManyThreadsNeverRunTheBodyConcurrentlyAndTheLastIsAlwaysHonoured() throws Exception {
        AtomicInteger inside = new AtomicInteger();
        AtomicInteger mostInside = new AtomicInteger();
        AtomicInteger requested = new AtomicInteger();
        AtomicInteger seenByARun = new AtomicInteger();
        SerialJob job = new SerialJob(pool, () -> {
            mostInside.accumulateAndGet(inside.incrementAndGet(), Math::max);
            seenByARun.set(requested.get()); // what a run starting now covers
            Thread.yield();
            inside.decrementAndGet();
        }, SerialJobTest::unexpected);
        List<Thread> requesters = new ArrayList<>();
        for (int t = 0; t < 4; t++) {
            Thread th = new Thread(() -> {
                for (int i = 0; i < 20_000; i++) {
                    requested.incrementAndGet();
                    job.request();
                }
            });
            requesters.add(th);
            th.start();
        }
        for (Thread th : requesters) {
            th.join();
        }

        Await.until(Duration.ofSeconds(5), () -> "a run started after the last request: it saw " + seenByARun.get(),
                () -> seenByARun.get() == 80_000);
        assertEquals(1, mostInside.get(), "the body never ran twice at once");
    }

    @Test
    void aBodyThatThrowsIsReportedAndTheJobRunsAgainOnTheNextRequest() throws Exception {
        BlockingQueue<Throwable> failures = new LinkedBlockingQueue<>();
        AtomicInteger runs = new AtomicInteger();
        CountDownLatch secondRun = new CountDownLatch(1);
        SerialJob job = new SerialJob(pool, () -> {
            if (runs.incrementAndGet() == 1) {
                throw new IllegalArgumentException("frame length -1 (test)");
            }
            secondRun.countDown();
        }, failures::add);

        job.request();

        Throwable e = failures.poll(5, TimeUnit.SECONDS);
        assertTrue(e instanceof IllegalArgumentException, String.valueOf(e));
        job.request();
        assertTrue(secondRun.await(5, TimeUnit.SECONDS), "the job is not stuck as running");
    }

    @Test
    void aPoolThatRefusesTheJobIsReportedAndALaterRequestTriesAgain() throws Exception {
        BlockingQueue<Throwable> failures = new LinkedBlockingQueue<>();
        AtomicBoolean refuse = new AtomicBoolean(true);
        CountDownLatch ran = new CountDownLatch(1);
        Executor full = job -> {
            if (refuse.get()) {
                throw new RejectedExecutionException("all 16 relay-io threads are busy (test)");
            }
            pool.execute(job);
        };
        SerialJob job = new SerialJob(full, ran::countDown, failures::add);

        job.request();

        assertTrue(failures.poll(5, TimeUnit.SECONDS) instanceof RejectedExecutionException,
                "the refusal reaches the session, which closes");
        refuse.set(false);
        job.request();
        assertTrue(ran.await(5, TimeUnit.SECONDS), "not stuck as running");
    }

    private static void unexpected(Throwable e) {
        throw new AssertionError("unexpected failure", e);
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
