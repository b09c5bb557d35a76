package net.roamproxy.net;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;

/**
 * Makes the threads that exist per session (the link reader, the application reader, the
 * pooled send, deliver and connect jobs, the handshakes): virtual threads on Java 24 and later,
 * platform threads before. A blocked virtual thread costs a few hundred bytes of heap instead
 * of a platform thread's stack, which is what thousands of mostly idle sessions need; Java 24
 * is the floor because before it (JEP 491) a virtual thread blocking inside a monitor pinned
 * its carrier thread. The design is unchanged either way: one worker per session with blocking
 * sockets and socket timeouts. {@code -Droamproxy.threads=platform} keeps platform threads.
 *
 * <p>Java 17 is this build's target, so the virtual-thread API is reached by reflection.
 * Stateless; thread-safe.
 */
public final class Threads {
    private static final Method OF_VIRTUAL;
    private static final Method NAME;
    private static final Method START;
    private static final Method FACTORY;

    static {
        Method of = null;
        Method name = null;
        Method start = null;
        Method factory = null;
        if (Runtime.version().feature() >= 24 && !"platform".equals(System.getProperty("roamproxy.threads"))) {
            try {
                Class<?> builder = Class.forName("java.lang.Thread$Builder");
                of = Thread.class.getMethod("ofVirtual");
                name = builder.getMethod("name", String.class, long.class);
                start = builder.getMethod("start", Runnable.class);
                factory = builder.getMethod("factory");
            } catch (ReflectiveOperationException e) {
                of = null;
            }
        }
        OF_VIRTUAL = of;
        NAME = name;
        START = start;
        FACTORY = factory;
    }

    /** Starts a named thread; see {@link #interpose}. */
    @FunctionalInterface
    public interface Starter {
        Thread start(String name, Runnable body);
    }

    /** Undoes an {@link #interpose}. */
    public interface Restore extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * What {@link #start} goes through. Only tests replace it: a thread that cannot be made
     * (out of memory, a ulimit on processes) is otherwise impossible to provoke on demand.
     */
    private static volatile Starter starter = Threads::startNew;

    private Threads() {
    }

    /**
     * For tests: {@link #start} goes through {@code wrap} applied to the current starter until
     * the result is closed, e.g. to make the Nth handshake thread fail.
     */
    public static Restore interpose(UnaryOperator<Starter> wrap) {
        Starter before = starter;
        starter = wrap.apply(before);
        return () -> starter = before;
    }

    /** Whether per-session threads are virtual in this runtime. */
    public static boolean virtual() {
        return OF_VIRTUAL != null;
    }

    /**
     * Starts {@code body} on a new daemon thread named {@code name}. Like {@code new Thread},
     * it may throw {@link OutOfMemoryError} when no thread can be made: callers own that path.
     */
    public static Thread start(String name, Runnable body) {
        return starter.start(name, body);
    }

    private static Thread startNew(String name, Runnable body) {
        if (OF_VIRTUAL != null) {
            Object b = invoke(NAME, invoke(OF_VIRTUAL, null), name, 0L);
            Thread t = (Thread) invoke(START, b, body);
            t.setName(name); // name(prefix, start) appends the counter; this thread keeps the plain name
            return t;
        }
        Thread t = new Thread(body, name);
        t.setDaemon(true);
        t.start();
        return t;
    }

    /** A factory of daemon threads named {@code prefix1}, {@code prefix2}, ... */
    public static ThreadFactory factory(String prefix) {
        if (OF_VIRTUAL != null) {
            return (ThreadFactory) invoke(FACTORY, invoke(NAME, invoke(OF_VIRTUAL, null), prefix, 1L));
        }
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
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
