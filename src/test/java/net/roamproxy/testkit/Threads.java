package net.roamproxy.testkit;

import java.util.concurrent.TimeUnit;

/** Bounded joins for cleanup code. Stateless. */
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
}
