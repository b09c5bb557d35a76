package net.roamproxy.server;

import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.Logger;

/**
 * The log lines of one limit. The first time it is reached: one WARN that names the limit, the
 * source and the option that sets it. After that: a count, at most once a minute while the
 * limit keeps being reached, so that an attack cannot flood the log (nor hide in it).
 * Thread-safe.
 */
final class LimitReport {
    private static final long EVERY_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final Logger log;
    /** WARN for a limit; ERROR for what only a misconfiguration causes. */
    private final Level level;
    private final String limit;
    private boolean reachedBefore;
    private long reportedAt;
    private int since;

    /** @param limit what the limit is, for the count lines ("the handshake limit (--max-handshakes)") */
    LimitReport(Logger log, String limit) {
        this(log, Level.WARN, limit);
    }

    LimitReport(Logger log, Level level, String limit) {
        this.log = log;
        this.level = level;
        this.limit = limit;
    }

    /** The limit turned a connection or session away; {@code first} says how, for the first line. */
    synchronized void reached(Supplier<String> first, String latestSource) {
        long now = System.nanoTime();
        if (!reachedBefore) {
            reachedBefore = true;
            reportedAt = now;
            log.log(level, "{}; further ones are counted", first.get());
            return;
        }
        since++;
        if (now - reportedAt >= EVERY_NANOS) {
            log.log(level, "{} turned away {} more in the last {} s, the latest from {}", limit, since,
                    TimeUnit.NANOSECONDS.toSeconds(now - reportedAt), latestSource);
            reportedAt = now;
            since = 0;
        }
    }
}
