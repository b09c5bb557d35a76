package net.roamproxy.session;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Reports, for the whole process, links that looked silent only because this process fell
 * behind (a GC pause, a starved CPU): the peer's frames were waiting in the socket when the
 * link's reader finally looked. With thousands of sessions one pause touches thousands of
 * links, so the report is one INFO line at most every {@value #REPORT_EVERY_SECONDS} s with
 * a count, not a line per link. Thread-safe.
 */
final class LocalStalls {
    private static final Logger log = LogManager.getLogger(LocalStalls.class);
    private static final long REPORT_EVERY_SECONDS = 10;
    private static final AtomicLong SINCE_REPORT = new AtomicLong();
    private static final AtomicLong WORST_MILLIS = new AtomicLong();
    private static final AtomicLong LAST_REPORT = new AtomicLong(System.nanoTime()
            - TimeUnit.SECONDS.toNanos(REPORT_EVERY_SECONDS));

    private LocalStalls() {
    }

    /** A link whose reader saw no frame for {@code silentMillis} found frames waiting after all. */
    static void record(String session, String peer, long silentMillis) {
        SINCE_REPORT.incrementAndGet();
        WORST_MILLIS.accumulateAndGet(silentMillis, Math::max);
        long now = System.nanoTime();
        long last = LAST_REPORT.get();
        if (now - last >= TimeUnit.SECONDS.toNanos(REPORT_EVERY_SECONDS) && LAST_REPORT.compareAndSet(last, now)) {
            long n = SINCE_REPORT.getAndSet(0);
            long worst = WORST_MILLIS.getAndSet(0);
            log.info("this process fell behind (a GC pause or a starved CPU): {} link(s) read nothing for up to {} ms "
                    + "although their peer's frames were waiting (latest: {}, link {}); not counted as lost",
                    n, worst, session, peer);
        }
    }
}
