package net.roamproxy.metrics;

import java.util.Collection;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * What one daemon counts for {@code --metrics}: the single owner of its counters. Sessions,
 * handshakes and dialers add to it as things happen; {@link PrometheusText} reads it when
 * scraped. It is kept whether or not metrics are served: a few adders cost nothing, and the
 * code that counts need not know whether anyone looks.
 *
 * <p>What is true at a moment (live sessions, attached links, buffer memory) is not counted
 * here at all but asked of the daemon's session table at each scrape ({@link Live}): a second
 * tally kept beside the table could drift from it, the table cannot.
 *
 * <p>This package depends on nothing else in roamproxy, so every layer may count into it.
 * Thread-safe: counters are {@link LongAdder}s, written from every session's threads without
 * contention.
 */
public final class Metrics {
    /**
     * Upper bounds of the resume-time buckets, in seconds: from a link replaced at once after a
     * roam (milliseconds) to an outage of several heartbeat intervals.
     */
    static final double[] RESUME_BUCKETS = {0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

    /**
     * The daemon's state at one moment, read from its session table at each scrape.
     *
     * @param sessions     live sessions
     * @param links        sessions with a link attached now
     * @param replayBytes  memory the sessions' replay buffers hold now (sent, not yet acknowledged)
     * @param receiveBytes memory the sessions' receive queues hold now (received, not yet delivered)
     */
    public record Live(int sessions, int links, long replayBytes, long receiveBytes) {
        public static final Live NONE = new Live(0, 0, 0, 0);
    }

    private final String daemon;
    private final Supplier<Live> live;
    private final LongAdder fromApplication = new LongAdder();
    private final LongAdder toApplication = new LongAdder();
    private final Histogram resumeSeconds = new Histogram(RESUME_BUCKETS);
    /** Every reason present from the start, so each series exists (at 0) before its first loss. */
    private final Map<LinkLoss, LongAdder> losses = new EnumMap<>(LinkLoss.class);
    /** Sorted, so that a scrape lists the reasons in a stable order. */
    private final ConcurrentMap<String, LongAdder> refusals = new ConcurrentSkipListMap<>();

    /**
     * @param daemon         "cproxy" or "sproxy", for {@code roamproxy_build_info}
     * @param refusalReasons the refusal statuses there can be, shown at 0 until the first one
     * @param live           asked for the daemon's state at each scrape
     */
    public Metrics(String daemon, Collection<String> refusalReasons, Supplier<Live> live) {
        this.daemon = Objects.requireNonNull(daemon, "daemon");
        this.live = Objects.requireNonNull(live, "live");
        for (LinkLoss l : LinkLoss.values()) {
            losses.put(l, new LongAdder());
        }
        for (String r : refusalReasons) {
            refusals.put(r, new LongAdder());
        }
    }

    /** Counters only, no live state: for a session or handshake tested on its own. */
    public static Metrics unshared(String daemon) {
        return new Metrics(daemon, List.of(), () -> Live.NONE);
    }

    /** {@code n} bytes of the application's stream taken in, to go over the link. */
    public void fromApplication(long n) {
        fromApplication.add(n);
    }

    /** {@code n} bytes of the peer's stream written to the application. */
    public void toApplication(long n) {
        toApplication.add(n);
    }

    /** A session is linked again after {@code nanosAway} without a link. */
    public void resumed(long nanosAway) {
        resumeSeconds.observe(Math.max(0, nanosAway) / (double) TimeUnit.SECONDS.toNanos(1));
    }

    /** A session lost its link for {@code why}. */
    public void linkLost(LinkLoss why) {
        losses.get(why).increment();
    }

    /** A refusal with status {@code reason} (its name, e.g. {@code BUSY}): sent by sproxy, received by cproxy. */
    public void refusal(String reason) {
        refusals.computeIfAbsent(reason, r -> new LongAdder()).increment();
    }

    String daemon() {
        return daemon;
    }

    Live live() {
        return live.get();
    }

    long fromApplication() {
        return fromApplication.sum();
    }

    long toApplication() {
        return toApplication.sum();
    }

    Histogram.Snapshot resumeSeconds() {
        return resumeSeconds.snapshot();
    }

    Map<LinkLoss, Long> losses() {
        Map<LinkLoss, Long> out = new EnumMap<>(LinkLoss.class);
        losses.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }

    Map<String, Long> refusals() {
        Map<String, Long> out = new LinkedHashMap<>();
        refusals.forEach((k, v) -> out.put(k, v.sum()));
        return out;
    }
}
