package net.roamproxy.net;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;


/**
 * The default uncaught-exception handler of a daemon: whatever escapes a thread that does not
 * handle it (a helper thread, a pool thread, a future bug) is logged at ERROR with the
 * thread's name and the stack. Without it the JVM prints to stderr, which a daemon's log may
 * not show, and the thread is gone without a word. Session and accept threads handle their
 * own failures; this is for everything else.
 */
public final class LastResort implements Thread.UncaughtExceptionHandler {
    private static final Logger log = LogManager.getLogger(LastResort.class);

    private LastResort() {
    }

    /** Makes this the JVM's default handler; once at daemon start (again: no change). */
    public static synchronized void install() {
        if (!(Thread.getDefaultUncaughtExceptionHandler() instanceof LastResort)) {
            Thread.setDefaultUncaughtExceptionHandler(new LastResort());
        }
    }

    /** A handler, for tests that install it on one thread only. */
    public static Thread.UncaughtExceptionHandler handler() {
        return new LastResort();
    }

    @Override
    public void uncaughtException(Thread t, Throwable e) {
        try {
            log.error("thread {} ended with an unhandled {}", t.getName(), e.toString(), e);
        } catch (Throwable ignored) {
            // Logging itself failed (out of memory): the handler must not throw; nothing else can be done.
        }
    }
}
