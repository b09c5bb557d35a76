package net.roamproxy.testkit;

import java.time.Duration;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Breaks the link again and again while a transfer runs. Each round waits until cproxy is
 * linked again, then cuts the link: mostly after a random number of forwarded bytes (so the
 * cut falls inside a frame, sometimes inside a handshake or a replay), otherwise after a
 * short random pause. Before chosen rounds it black-holes the link until cproxy dials again,
 * then restores the path. Only cuts that reset a connection count.
 *
 * <p>{@link #pacer} holds stream writers back so that the transfer stays in flight until the
 * last cut: a writer may only be a few rounds ahead of the chaos.
 *
 * <p>Works on any {@link RelayedChain}, such as a {@link Rig}.
 *
 * <p>Threading: runs on its own daemon thread, {@code it-chaos}; the other methods are
 * thread-safe.
 */
public final class Chaos implements AutoCloseable {
    /** Bytes per heartbeat interval below which the link counts as quiet. */
    private static final long QUIET_BYTES = 512;
    private final RelayedChain chain;
    private final FaultyRelay relay;
    private final int targetCuts;
    private final Set<Integer> blackholeBeforeCut;
    private final int linksPerSession;
    private final int maxCutAfterBytes;
    private final long seed;
    private final AtomicInteger cuts = new AtomicInteger();
    private final AtomicInteger blackholes = new AtomicInteger();
    /** Cuts made at once because too few bytes flowed for the chosen offset. */
    private final AtomicInteger quietCuts = new AtomicInteger();
    /** Total time spent waiting for cproxy to be linked again, in ms. */
    private final AtomicLong relinkMillis = new AtomicLong();
    private final CompletableFuture<Void> finished = new CompletableFuture<>();
    private final Thread thread;

    /**
     * @param targetCuts          effective cuts to make
     * @param blackholeBeforeCut  cut numbers before which the link is black-holed once
     * @param links               how many links (sessions) the relay carries
     * @param maxCutAfterBytes    upper bound of the random byte offset of a cut
     */
    public Chaos(RelayedChain chain, long seed, int targetCuts, Set<Integer> blackholeBeforeCut, int links,
          int maxCutAfterBytes) {
        this.chain = chain;
        this.relay = chain.relay();
        this.seed = seed;
        this.targetCuts = targetCuts;
        this.blackholeBeforeCut = Set.copyOf(blackholeBeforeCut);
        this.linksPerSession = links;
        this.maxCutAfterBytes = maxCutAfterBytes;
        this.thread = new Thread(this::run, "it-chaos");
        thread.setDaemon(true);
    }

    public void start() {
        thread.start();
    }

    public int cuts() {
        return cuts.get();
    }

    public int blackholes() {
        return blackholes.get();
    }

    /** Completes when all cuts are made; exceptionally if cproxy stopped coming back. */
    public CompletableFuture<Void> finished() {
        return finished.copy();
    }

    /**
     * A pacer for a writer of {@code total} bytes: the chunk at {@code offset} waits until the
     * chaos has made its share of cuts, less {@code slack} rounds, or has finished.
     */
    public Pacer pacer(int slack) {
        return (offset, total) -> {
            long needed = (long) ((double) offset / total * targetCuts) - slack;
            Await.poll(Duration.ofMinutes(2), () -> finished.isDone() || cuts.get() >= needed);
        };
    }

    private void run() {
        SplittableRandom rnd = new SplittableRandom(seed);
        long pauseBound = Math.max(1, chain.link().heartbeatInterval().toMillis() / 2);
        try {
            int blackholedAt = -1;
            while (cuts.get() < targetCuts) {
                if (blackholeBeforeCut.contains(cuts.get()) && blackholedAt != cuts.get()) {
                    blackholedAt = cuts.get();
                    blackholeUntilRedial();
                }
                long waitStart = System.nanoTime();
                Await.until(chain.relinkDeadline(), () -> "cproxy linked again after cut " + cuts.get()
                        + " (" + relay.connectionsAccepted() + " connections so far)",
                        () -> !relay.forwardingConnections().isEmpty());
                relinkMillis.addAndGet((System.nanoTime() - waitStart) / 1_000_000);
                int reset;
                if (rnd.nextInt(10) < 7) {
                    long bytes = rnd.nextInt(5) == 0 ? 1 + rnd.nextInt(128) : 1 + rnd.nextInt(maxCutAfterBytes);
                    reset = cutAfter(bytes);
                } else {
                    Thread.sleep(rnd.nextLong(pauseBound + 1));
                    reset = relay.cut();
                }
                if (reset > 0) {
                    cuts.incrementAndGet();
                }
            }
            finished.complete(null);
        } catch (Throwable t) {
            finished.completeExceptionally(t);
        }
    }

    /**
     * Cuts after {@code bytes} more bytes, or at once if the link turns quiet first: fewer
     * than {@link #QUIET_BYTES} forwarded in an interval (heartbeats and acks alone stay below).
     */
    private int cutAfter(long bytes) throws Exception {
        CompletableFuture<Integer> fired = relay.cutAfter(bytes);
        long interval = chain.link().heartbeatInterval().toMillis();
        long windowStart = System.nanoTime();
        long windowBytes = relay.bytesForwarded();
        while (true) {
            try {
                return fired.get(Math.max(1, interval / 5), TimeUnit.MILLISECONDS);
            } catch (TimeoutException notYet) {
                if ((System.nanoTime() - windowStart) / 1_000_000 < interval) {
                    continue;
                }
                long now = relay.bytesForwarded();
                if (now - windowBytes >= QUIET_BYTES) {
                    windowStart = System.nanoTime();
                    windowBytes = now;
                    continue;
                }
                if (relay.cancelCutAfter()) {
                    quietCuts.incrementAndGet();
                    return relay.cut();
                }
                return fired.get(chain.flowDeadline().toMillis(), TimeUnit.MILLISECONDS); // fired meanwhile
            }
        }
    }

    /** The address goes away: silence until cproxy gives up on the link and dials again. */
    private void blackholeUntilRedial() throws InterruptedException {
        int before = relay.connectionsAccepted();
        relay.blackhole();
        try {
            Await.until(chain.noticeDeadline(), () -> "cproxy dials again after the link went silent at cut "
                    + cuts.get(), () -> relay.connectionsAccepted() >= before + linksPerSession);
        } finally {
            relay.restore();
        }
        blackholes.incrementAndGet();
    }

    @Override
    public void close() {
        thread.interrupt();
        Threads.join(5_000, thread);
    }

    @Override
    public String toString() {
        return cuts.get() + " cuts (" + quietCuts.get() + " on a quiet link), " + blackholes.get() + " black holes, "
                + relay.connectionsAccepted() + " link connections, " + relay.bytesForwarded()
                + " bytes through the relay, " + relinkMillis.get() + " ms waiting for cproxy to link again";
    }
}
