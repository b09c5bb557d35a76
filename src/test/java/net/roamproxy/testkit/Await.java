package net.roamproxy.testkit;

import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Waiting with a deadline, for conditions that have no latch of their own. A deadline is an
 * upper bound, never a synchronisation delay: a condition that holds returns at once.
 *
 * <p>{@link #stalled} waits for the opposite: progress that has stopped moving.
 */
public final class Await {
    private static final long POLL_MS = 2;

    private Await() {
    }

    /** Polls {@code condition} until it holds; fails with {@code what} after {@code timeout}. */
    public static void until(Duration timeout, String what, BooleanSupplier condition) throws InterruptedException {
        until(timeout, () -> what, condition);
    }

    public static void until(Duration timeout, Supplier<String> what, BooleanSupplier condition) throws InterruptedException {
        if (!poll(timeout, condition)) {
            fail("not within " + timeout.toMillis() + " ms: " + what.get());
        }
    }

    /** Polls {@code condition} until it holds or {@code timeout} passes; returns whether it held. */
    public static boolean poll(Duration timeout, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() - deadline > 0) {
                return false;
            }
            Thread.sleep(POLL_MS);
        }
        return true;
    }

    /** Waits for {@code future}; fails with {@code what} after {@code timeout}. */
    public static <T> T done(CompletableFuture<T> future, Duration timeout, String what) throws InterruptedException {
        try {
            return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            return fail("not within " + timeout.toMillis() + " ms: " + what);
        } catch (ExecutionException e) {
            return fail(what + " failed: " + e.getCause(), e.getCause());
        }
    }

    /**
     * Waits until {@code progress} has not changed for {@code quiet}: a writer held back by
     * backpressure. Fails with {@code what} if it keeps changing for {@code timeout}.
     *
     * @return the value it settled at
     */
    public static long stalled(Duration quiet, Duration timeout, String what, LongSupplier progress)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        long value = progress.getAsLong();
        long since = System.nanoTime();
        while (System.nanoTime() - since < quiet.toNanos()) {
            if (System.nanoTime() - deadline > 0) {
                fail("not within " + timeout.toMillis() + " ms: " + what + " (still moving, at " + value + ")");
            }
            Thread.sleep(POLL_MS);
            long now = progress.getAsLong();
            if (now != value) {
                value = now;
                since = System.nanoTime();
            }
        }
        return value;
    }
}
