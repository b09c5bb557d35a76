package net.roamproxy.server;

import java.net.InetAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.Logger;

/**
 * The log lines of connections that failed during their handshake: dropped (no HELLO in time,
 * not done in time, a protocol error) or refused (another protocol version, an unknown service
 * or session, a proof that failed). Any stranger can cause these at will. Each source's first
 * {@value #PER_SOURCE} in a minute are logged one by one, so that a mistake or a probe is seen
 * with its reason; beyond that they are counted and told in one line a minute, so that a flood
 * can neither fill the log nor hide in it. The sources are forgotten every minute, so the table
 * stays small whatever a flood's addresses.
 *
 * <p>Thread-safe: every handshake thread reports here.
 */
final class DropLog {
    static final int PER_SOURCE = 20;
    private static final long MINUTE_NANOS = TimeUnit.MINUTES.toNanos(1);

    private final Logger log;
    private final Map<InetAddress, Integer> bySource = new HashMap<>();
    private long minuteStart = System.nanoTime();
    private int unlogged;
    private InetAddress mostUnlogged;
    private int mostUnloggedCount;

    DropLog(Logger log) {
        this.log = log;
    }

    /** A connection dropped during its handshake for {@code why}. */
    void dropped(InetAddress source, String peer, String why) {
        report(source, Level.WARN, () -> "dropped connection from " + peer + " during its handshake: " + why);
    }

    /**
     * A handshake from {@code source} that failed: {@code line} is logged at {@code level}
     * within the source's share, at DEBUG beyond it.
     */
    void report(InetAddress source, Level level, Supplier<String> line) {
        boolean logIt;
        synchronized (this) {
            long now = System.nanoTime();
            if (now - minuteStart >= MINUTE_NANOS) {
                if (unlogged > 0) {
                    log.warn("{} more connections failed their handshake (dropped or refused) in the last {} s without "
                            + "a line each, the most from {} ({})", unlogged, TimeUnit.NANOSECONDS.toSeconds(now - minuteStart),
                            Source.describe(mostUnlogged), mostUnloggedCount);
                }
                bySource.clear();
                minuteStart = now;
                unlogged = 0;
                mostUnloggedCount = 0;
            }
            int n = bySource.merge(source, 1, Integer::sum);
            logIt = n <= PER_SOURCE;
            if (!logIt) {
                unlogged++;
                if (n - PER_SOURCE > mostUnloggedCount) {
                    mostUnloggedCount = n - PER_SOURCE;
                    mostUnlogged = source;
                }
            }
            if (n == PER_SOURCE + 1) {
                log.warn("{} connections from {} failed their handshake (dropped or refused) within a minute; more are "
                        + "counted", PER_SOURCE, Source.describe(source));
            }
        }
        if (logIt) {
            log.log(level, line.get());
        } else if (log.isDebugEnabled()) {
            log.debug(line.get());
        }
    }
}
