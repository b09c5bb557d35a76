package net.roamproxy.link;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

/**
 * Per-session threads: platform threads before Java 24; from Java 24 on, platform threads for
 * the first {@link Threads#PLATFORM_THREADS} alive at once and virtual threads beyond; named
 * either way.
 */
class ThreadsTest {
    private static final boolean VIRTUAL_RUNTIME = Runtime.version().feature() >= 24
            && !"platform".equals(System.getProperty("roamproxy.threads"));

    private static boolean isVirtual(Thread t) throws ReflectiveOperationException {
        if (Runtime.version().feature() < 21) {
            return false;
        }
        return (Boolean) Thread.class.getMethod("isVirtual").invoke(t);
    }

    @Test
    void aSessionThreadKeepsItsNameAndNeverKeepsTheJvmAlive() throws Exception {
        AtomicReference<Thread> seen = new AtomicReference<>();
        CountDownLatch ran = new CountDownLatch(1);

        Thread t = Threads.start("test-session-link", () -> {
            seen.set(Thread.currentThread());
            ran.countDown();
        });

        assertTrue(ran.await(5, TimeUnit.SECONDS));
        assertEquals("test-session-link", seen.get().getName());
        assertEquals(VIRTUAL_RUNTIME, Threads.virtual(), "on Java " + Runtime.version());
        assertTrue(t.isDaemon(), "never keeps the JVM alive");
    }

    @Test
    void platformThreadsWhileTheBudgetLastsThenVirtualOnesAndTheBudgetComesBack() throws Exception {
        CountDownLatch release = new CountDownLatch(1);
        List<Thread> held = new ArrayList<>();
        try {
            // Other tests' sessions may hold part of the budget: fill it until a thread is virtual.
            Thread t;
            do {
                t = Threads.start("test-hold-" + held.size(), () -> await(release));
                held.add(t);
            } while (!isVirtual(t) && held.size() <= Threads.PLATFORM_THREADS + 1);
            if (!VIRTUAL_RUNTIME) {
                assertFalse(isVirtual(t), "no virtual threads before Java 24");
                return;
            }
            assertTrue(isVirtual(t), "beyond " + Threads.PLATFORM_THREADS + " platform threads: virtual");
            assertFalse(isVirtual(held.get(0)), "the first ones are platform threads");
            assertTrue(held.size() <= Threads.PLATFORM_THREADS + 1);
        } finally {
            release.countDown();
            for (Thread h : held) {
                h.join(5000);
            }
        }
        Thread again = Threads.factory("test-again-").newThread(() -> { });
        assertFalse(isVirtual(again), "the ended platform threads gave their budget back");
        assertTrue(again.getName().startsWith("test-again-"));
        assertTrue(again.isDaemon());
        again.start();
        again.join(5000);
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
