package net.roamproxy.session;

/**
 * Heartbeat bookkeeping for one link, on a caller-supplied clock (nanoseconds), so its logic
 * is tested without sleeping. Any frame from the peer counts as a heartbeat; the link is lost
 * when none arrived for {@code missLimit} intervals. Not thread-safe: owned by the link reader.
 */
public final class Liveness {
    private final long intervalNanos;
    private final int missLimit;
    private long lastReceived;
    private long lastSent;

    public Liveness(long intervalNanos, int missLimit, long now) {
        this.intervalNanos = intervalNanos;
        this.missLimit = missLimit;
        reset(now);
    }

    /** A new link starts now. */
    public void reset(long now) {
        lastReceived = now;
        lastSent = now;
    }

    public void frameReceived(long now) {
        lastReceived = now;
    }

    public void heartbeatSent(long now) {
        lastSent = now;
    }

    public boolean heartbeatDue(long now) {
        return now - lastSent >= intervalNanos;
    }

    /**
     * Whether our heartbeat is due within half an interval: on the peer's heartbeat, sending it
     * early costs nothing, while waiting costs the reader another wake-up. On an idle link,
     * whichever side's heartbeat falls due first then times the other's, so only one side's
     * reader ever wakes by its timer (half an interval: whatever the two sides' phases, one of
     * them is within it of the other).
     */
    public boolean heartbeatDueSoon(long now) {
        return now - lastSent >= intervalNanos / 2;
    }

    public boolean peerLost(long now) {
        return now - lastReceived >= intervalNanos * missLimit;
    }

    public long millisSinceLastFrame(long now) {
        return (now - lastReceived) / 1_000_000;
    }

    /** How long the reader may block before a heartbeat is due or the peer counts as lost; at least 1. */
    public int millisUntilNextEvent(long now) {
        // Differences, not absolute deadlines: nanoTime values may wrap around.
        long untilHeartbeat = intervalNanos - (now - lastSent);
        long untilLost = intervalNanos * missLimit - (now - lastReceived);
        long ms = (Math.min(untilHeartbeat, untilLost) + 999_999) / 1_000_000;
        return (int) Math.max(1, Math.min(ms, Integer.MAX_VALUE));
    }
}
