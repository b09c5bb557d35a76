package net.roamproxy.metrics;

import java.util.Arrays;

/**
 * A histogram with fixed bucket bounds, as Prometheus draws one: a count per bucket, the sum
 * and the count of every observation. Observations are rare (one per resume), so a lock is
 * cheap, and it makes every snapshot consistent: the last bucket always equals the count, which
 * a set of independent counters read one after another could not promise.
 */
final class Histogram {
    /** The upper bounds, ascending; the implicit last bucket is +Inf. */
    private final double[] bounds;
    /** Guarded by {@code this}: observations per bucket, not cumulative; the last is above every bound. */
    private final long[] counts;
    private double sum;
    private long count;

    Histogram(double... bounds) {
        for (int i = 1; i < bounds.length; i++) {
            if (!(bounds[i] > bounds[i - 1])) {
                throw new IllegalArgumentException("bucket bounds must ascend: " + Arrays.toString(bounds));
            }
        }
        this.bounds = bounds.clone();
        this.counts = new long[bounds.length + 1];
    }

    synchronized void observe(double value) {
        int i = 0;
        while (i < bounds.length && value > bounds[i]) {
            i++;
        }
        counts[i]++;
        sum += value;
        count++;
    }

    /** Everything at one moment, with the buckets cumulative as the exposition format wants them. */
    synchronized Snapshot snapshot() {
        long[] cumulative = new long[counts.length];
        long running = 0;
        for (int i = 0; i < counts.length; i++) {
            running += counts[i];
            cumulative[i] = running;
        }
        return new Snapshot(bounds.clone(), cumulative, sum, count);
    }

    /**
     * @param bounds     the upper bounds, without +Inf
     * @param cumulative observations at or below each bound, then the total (the +Inf bucket)
     */
    record Snapshot(double[] bounds, long[] cumulative, double sum, long count) {
    }
}
