package net.roamproxy.session;

import java.util.concurrent.RejectedExecutionException;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import net.roamproxy.net.Throttle;

/**
 * What a session's thread or job does with a failure its own code does not handle: a
 * RuntimeException (our bug: a frame writer given a bad length, say) or an Error (out of
 * memory, no thread could be made). Left alone, such a failure would end one thread and leave
 * the session open but broken: an application waiting forever for bytes that no thread will
 * move. Instead it closes that session, and only that one, with a reason the operator sees:
 * one ERROR line without the stack (a log line, not a core dump), the stack at DEBUG.
 *
 * <p>A job refused by a full shared pool is not a bug but a limit reached: it closes the
 * session with that reason, logged at WARN once, then as a count.
 *
 * <p>Stateless apart from the throttle; any thread.
 */
final class SessionFailure {
    private static final Logger log = LogManager.getLogger(SessionFailure.class);
    private static final Throttle POOL_FULL = new Throttle();

    private SessionFailure() {
    }

    /** Closes {@code s} because {@code e} escaped {@code where} ("its send job", ...). */
    static void close(Session s, String where, Throwable e) {
        if (e instanceof RejectedExecutionException) {
            if (s.closeWith("no thread free for " + where + ": " + e.getMessage(), false)) {
                int n = POOL_FULL.occurred();
                if (n > 0) {
                    log.warn("{}: closed: no thread free for {} ({}){}", s.name(), where, e.getMessage(),
                            n > 1 ? "; " + n + " sessions closed so since the last such line" : "");
                }
            }
            return;
        }
        if (s.closeWith("internal error: " + e, false)) {
            log.error("{}: closed after an internal error in {} on thread {}: {}", s.name(), where,
                    Thread.currentThread().getName(), e.toString());
        }
        log.debug("{}: internal error in {}", s.name(), where, e);
    }
}
