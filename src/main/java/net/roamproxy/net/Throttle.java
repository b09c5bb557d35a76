package net.roamproxy.net;

import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Counts something that can happen in a storm (connections refused at a limit, accepts
 * failing for want of descriptors or threads) so that it is logged once when it starts, then
 * at most once a period with how many times it happened meanwhile: one line per event would
 * flood the journal exactly when the operator needs it, and hide everything else.
 *
 * <p>Thread-safe: several accept threads may share one.
 */
public final class Throttle {
    /** How often a continuing storm is reported. */
    public static final long PERIOD_NANOS = TimeUnit.SECONDS.toNanos(5);

    private final long periodNanos;
    private final LongSupplier clock;
    private boolean reported;
    private long lastReport;
    private int since;

    public Throttle() {
        this(PERIOD_NANOS, System::nanoTime);
    }

    /** With an injected clock, for tests. */
    public Throttle(long periodNanos, LongSupplier clock) {
        this.periodNanos = periodNanos;
        this.clock = clock;
    }

    /**
     * Counts one occurrence.
     *
     * @return 0 if nothing is to be logged now; otherwise how many occurrences the line to log
     *         now covers (this one and those since the last line)
     */
    public synchronized int occurred() {
        since++;
        long now = clock.getAsLong();
        if (reported && now - lastReport < periodNanos) {
            return 0;
        }
        reported = true;
        lastReport = now;
        int n = since;
        since = 0;
        return n;
    }
}
