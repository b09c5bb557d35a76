package net.roamproxy.stream;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs a call that is expected to block on a stream's monitor, and lets the test prove that it
 * is parked there (thread state {@code WAITING}) before releasing it. No sleeps: the state is
 * polled against a deadline, and the outcome is collected with a bounded join.
 */
final class Blocking<T> {
    static final long DEADLINE_MS = 5_000;

    private final Thread thread;
    private final AtomicReference<T> result = new AtomicReference<>();
    private final AtomicReference<Throwable> failure = new AtomicReference<>();
    private volatile boolean returned;

    private Blocking(String name, Callable<T> call) {
        thread = new Thread(() -> {
            try {
                result.set(call.call());
                returned = true;
            } catch (Throwable t) {
                failure.set(t);
            }
        }, name);
        thread.setDaemon(true);
    }

    static <T> Blocking<T> start(String name, Callable<T> call) {
        Blocking<T> b = new Blocking<>(name, call);
        b.thread.start();
        return b;
    }

    /** Fails unless the thread parks in {@code Object.wait()} (state WAITING) before the deadline. */
    Blocking<T> assertParked() {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(DEADLINE_MS);
        while (thread.getState() != Thread.State.WAITING) {
            if (!thread.isAlive()) {
                fail(thread.getName() + " did not block: it finished with "
                        + (failure.get() != null ? failure.get() : "result " + result.get()));
            }
            if (System.nanoTime() - deadline > 0) {
                fail(thread.getName() + " did not block within " + DEADLINE_MS + " ms; state " + thread.getState());
            }
            Thread.onSpinWait();
        }
        assertFalse(returned, thread.getName() + " returned although it should block");
        return this;
    }

    /** Joins with a deadline and returns what the call returned, failing if it threw. */
    T awaitResult() throws InterruptedException {
        join();
        if (failure.get() != null) {
            throw new AssertionError(thread.getName() + " failed", failure.get());
        }
        return result.get();
    }

    /** Joins with a deadline and returns what the call threw, failing if it returned. */
    Throwable awaitFailure() throws InterruptedException {
        join();
        if (failure.get() == null) {
            fail(thread.getName() + " returned " + result.get() + " instead of failing");
        }
        return failure.get();
    }

    private void join() throws InterruptedException {
        thread.join(DEADLINE_MS);
        if (thread.isAlive()) {
            fail(thread.getName() + " still blocked after " + DEADLINE_MS + " ms; state " + thread.getState());
        }
    }
}
