package net.roamproxy.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

/** Per-session threads: virtual from Java 24 on, platform before; named either way. */
class ThreadsTest {

    private static boolean isVirtual(Thread t) throws ReflectiveOperationException {
        if (Runtime.version().feature() < 21) {
            return false;
        }
        return (Boolean) Thread.class.getMethod("isVirtual").invoke(t);
    }

    @Test
    void sessionThreadsAreVirtualExactlyFromJava24OnAndKeepTheirNames() throws Exception {
        AtomicReference<Thread> seen = new AtomicReference<>();
        CountDownLatch ran = new CountDownLatch(1);

        Thread t = Threads.start("test-session-link", () -> {
            seen.set(Thread.currentThread());
            ran.countDown();
        });

        assertTrue(ran.await(5, TimeUnit.SECONDS));
        assertEquals("test-session-link", seen.get().getName());
        boolean expected = Runtime.version().feature() >= 24 && !"platform".equals(System.getProperty("roamproxy.threads"));
        assertEquals(expected, Threads.virtual());
        assertEquals(expected, isVirtual(t), "on Java " + Runtime.version());
        assertTrue(t.isDaemon(), "never keeps the JVM alive");
    }

    @Test
    void aFactoryNumbersItsThreads() throws Exception {
        Thread a = Threads.factory("pool-x-").newThread(() -> { });
        Thread b = Threads.factory("pool-x-").newThread(() -> { });
        assertTrue(a.getName().startsWith("pool-x-") && b.getName().startsWith("pool-x-"), a + " " + b);
        assertTrue(a.isDaemon());
    }
}
