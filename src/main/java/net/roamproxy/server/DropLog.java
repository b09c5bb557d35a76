package net.roamproxy.server;

import java.net.InetAddress;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.apache.logging.log4j.Logger;

/**
 * The log lines of connections dropped during their handshake (no HELLO in time, not done in
 * time, a protocol error). Each source's first {@value #PER_SOURCE} in a minute are logged one
 * by one, so that a mistake or a probe is seen with its reason; beyond that a flood is counted
 * and told in one line a minute, so that it can neither fill the log nor hide in it. The
 * sources are forgotten every minute, so the table stays small whatever a flood's addresses.
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

    void dropped(InetAddress source, String peer, String why) {
        boolean logIt;
        synchronized (this) {
            long now = System.nanoTime();
            if (now - minuteStart >= MINUTE_NANOS) {
                if (unlogged > 0) {
                    log.warn("dropped {} more connections during their handshake in the last {} s without a line each, "
                            + "the most from {} ({})", unlogged, TimeUnit.NANOSECONDS.toSeconds(now - minuteStart),
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
                log.warn("{} connections from {} dropped during their handshake within a minute; more are counted",
                        PER_SOURCE, Source.describe(source));
            }
        }
        if (logIt) {
            log.warn("dropped connection from {} during its handshake: {}", peer, why);
        } else {
            log.debug("dropped connection from {} during its handshake: {}", peer, why);
        }
    }
}
