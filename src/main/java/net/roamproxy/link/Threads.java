package net.roamproxy.link;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Makes the threads that exist per session (the link reader, the application reader, the
 * pooled send, deliver and connect jobs, the handshakes): on Java 24 and later the first
 * {@link #PLATFORM_THREADS} of them that are alive at once are platform threads and the rest
 * virtual threads; before Java 24 all are platform threads.
 *
 * <p>Why both: a blocked virtual thread costs a few KiB of heap instead of a platform thread's
 * stack and a kernel task, which is what thousands of mostly idle sessions need; but waking one
 * takes a hop through the JDK's poller and its scheduler, which roughly doubles a keystroke's
 * round trip (measured in bench/). So the first sessions, which are all most hosts ever have,
 * get the fast kind and only a crowd gets the small kind. Java 24 is the floor for virtual
 * threads because before it (JEP 491) one blocking inside a monitor pinned its carrier thread.
 * The design is the same either way: one worker per session with blocking sockets and socket
 * timeouts. {@code -Droamproxy.threads=platform} keeps to platform threads.
 *
 * <p>Java 17 is this build's target, so the virtual-thread API is reached by reflection.
 * Stateless; thread-safe.
 */
public final class Threads {
    /** Platform threads alive at once, at most, on a runtime with virtual threads: 64 sessions' worth. */
    public static final int PLATFORM_THREADS = 128;
    private static final AtomicInteger PLATFORM_LIVE = new AtomicInteger();
    private static final Method OF_VIRTUAL;
    private static final Method UNSTARTED;

    static {
        Method of = null;
        Method unstarted = null;
        if (Runtime.version().feature() >= 24 && !"platform".equals(System.getProperty("roamproxy.threads"))) {
            try {
                of = Thread.class.getMethod("ofVirtual");
                unstarted = Class.forName("java.lang.Thread$Builder").getMethod("unstarted", Runnable.class);
            } catch (ReflectiveOperationException e) {
                of = null;
            }
        }
        OF_VIRTUAL = of;
        UNSTARTED = unstarted;
    }

    private Threads() {
    }

    /** Whether per-session threads beyond the first {@link #PLATFORM_THREADS} are virtual in this runtime. */
    public static boolean virtual() {
        return OF_VIRTUAL != null;
    }

    /** Starts {@code body} on a new daemon thread named {@code name}: platform while the budget lasts. */
    public static Thread start(String name, Runnable body) {
        Thread t = newThread(name, body);
        t.start();
        return t;
    }

    /**
     * A factory of daemon threads named {@code prefix1}, {@code prefix2}, ..., platform while
     * the budget lasts. A pool using it keeps its idle platform threads, so it should let them
     * end after a few idle seconds.
     */
    public static ThreadFactory factory(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> newThread(prefix + n.incrementAndGet(), r);
    }

    /** An unstarted daemon thread: platform if the budget allows, else virtual. */
    private static Thread newThread(String name, Runnable body) {
        if (OF_VIRTUAL == null) {
            Thread t = new Thread(body, name);
            t.setDaemon(true);
            return t;
        }
        if (PLATFORM_LIVE.incrementAndGet() <= PLATFORM_THREADS) {
            Thread t = new Thread(() -> {
                try {
                    body.run();
                } finally {
                    PLATFORM_LIVE.decrementAndGet();
                }
            }, name);
            t.setDaemon(true);
            return t;
        }
        PLATFORM_LIVE.decrementAndGet();
        Thread t = (Thread) invoke(UNSTARTED, invoke(OF_VIRTUAL, null), body);
        t.setName(name);
        return t;
    }

    private static Object invoke(Method m, Object target, Object... args) {
        try {
            return m.invoke(target, args);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException(e);
        } catch (InvocationTargetException e) {
            Throwable c = e.getCause();
            if (c instanceof RuntimeException r) {
                throw r;
            }
            if (c instanceof Error err) {
                throw err;
            }
            throw new IllegalStateException(c);
        }
    }
}
