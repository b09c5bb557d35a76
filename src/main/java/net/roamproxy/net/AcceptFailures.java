package net.roamproxy.net;

import java.io.IOException;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.Logger;

/**
 * What an accept loop does when an accept, or what follows it, fails in a way it did not plan
 * for: out of file descriptors ({@link IOException}), out of threads ({@link OutOfMemoryError}
 * from starting one), or our own bug. The loop is the daemon's only way in, so it must go on:
 * the failure is logged (once, then every few seconds with a count, so a storm does not flood
 * the log; the stack at DEBUG), and the loop pauses briefly, so that a failure that repeats at
 * once cannot spin a core while the cause (a full descriptor table, memory) persists.
 *
 * <p>Thread-safe: the accept threads of one proxy may share one.
 */
public final class AcceptFailures {
    /** The pause after a failure. */
    static final long PAUSE_MILLIS = 100;

    private final Logger log;
    private final String what;
    private final Throttle throttle = new Throttle();

    /**
     * @param log  the proxy's logger
     * @param what what the loop accepts, for the log line: "links", "local connections"
     */
    public AcceptFailures(Logger log, String what) {
        this.log = log;
        this.what = what;
    }

    /**
     * Logs {@code e} as the throttle allows, then pauses.
     *
     * @return false if interrupted during the pause: the loop should end
     */
    public boolean failed(Throwable e) {
        int n = throttle.occurred();
        // Descriptors running out is an operating condition; anything else is a bug or memory.
        Level level = e instanceof IOException ? Level.WARN : Level.ERROR;
        if (n > 0) {
            log.log(level, "accepting {} failed{}: {}; still accepting", what,
                    n > 1 ? " " + n + " times since the last such line" : "", e.toString());
        }
        log.debug("accepting {} failed", what, e);
        try {
            Thread.sleep(PAUSE_MILLIS);
            return true;
        } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
