package net.roamproxy.testkit;

import java.util.Arrays;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/** Bounded joins for cleanup code, and thread inspection for leak checks. Stateless. */
public final class Threads {
    private Threads() {
    }

    /**
     * Waits up to {@code millis} in total for {@code threads} (nulls ignored) to end. An
     * interrupt stops the wait and is kept on the calling thread.
     */
    public static void join(long millis, Thread... threads) {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        for (Thread t : threads) {
            if (t == null) {
                continue;
            }
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left <= 0) {
                return;
            }
            try {
                t.join(left);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * Whether {@code t} is an idle thread of a shared pool, parked waiting for its next job.
     * Such threads outlive the sessions that used them by design (they end a few seconds after
     * their last job); one still running a job counts as busy.
     */
    public static boolean idleInPool(Thread t) {
        return Arrays.stream(t.getStackTrace()).anyMatch(f -> f.getClassName().equals(ThreadPoolExecutor.class.getName())
                && f.getMethodName().equals("getTask"));
    }
}
