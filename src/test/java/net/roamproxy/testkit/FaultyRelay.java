package net.roamproxy.testkit;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A fault-injecting TCP relay on loopback, placed between cproxy and sproxy. Each accepted
 * connection (the <em>client end</em>) is paired with a fresh connection to the target (the
 * <em>target end</em>) and bytes are copied both ways, in order and unchanged, until a fault
 * is injected:
 *
 * <ul>
 *   <li>{@link #cut()} resets every forwarding pair at once (SO_LINGER 0, so both ends get an
 *       RST), wherever the streams happen to be, typically in the middle of a frame;
 *       {@link #cutAfter(long)} does the same after exactly so many more forwarded bytes,
 *       which puts the cut at a chosen offset, for example inside a handshake.</li>
 *   <li>{@link #blackhole()} stops forwarding in both directions without closing anything,
 *       which is what removing the client's address looks like: the ends see silence, not an
 *       error. Connections accepted while black-holing are black-holed from the start (the
 *       target end is still connected, so sproxy sees a silent peer).</li>
 *   <li>{@link #restore()} forwards again for <em>new</em> connections. A pair that was
 *       black-holed stays dead for good, just as packets for a removed address never come
 *       back; it is not cut either (nothing tells its ends), so each end must give up on it
 *       by itself.</li>
 * </ul>
 *
 * <p>A black-holed pair keeps reading and discarding (up to {@code blackholeSinkBytes} per
 * direction) only so that the relay can observe when an end gives up on it
 * ({@link Connection#clientGone()}, {@link Connection#targetGone()}); nothing is forwarded,
 * and the close is not propagated. Once the sink is full it stops reading, so a sender that
 * keeps writing eventually blocks, as it would on a real dead path.
 *
 * <p>Orderly shutdowns (FIN) are propagated as half-closes; a reset on one side resets the
 * other. Every socket has TCP_NODELAY. All threads are daemons named
 * {@code it-relay-<port>-...}.
 *
 * <p>Threading: every public method is thread-safe and may be called from any thread, also
 * while bytes are flowing.
 */
public final class FaultyRelay implements AutoCloseable {

    /** Default bytes per direction a black-holed pair reads (and drops) before it stops reading. */
    public static final int DEFAULT_BLACKHOLE_SINK_BYTES = 64 * 1024;
    private static final long CLOSE_JOIN_MS = 5_000;

    /** A relayed connection pair, as seen by tests. */
    public interface Connection {
        /** Sequence number in accept order, starting at 0. */
        int id();

        boolean isForwarding();

        boolean isBlackholed();

        /** Completes when the relay sees the client end finish (FIN or reset) or closes it itself. */
        CompletableFuture<Void> clientGone();

        /** Completes when the relay sees the target end finish (FIN or reset) or closes it itself. */
        CompletableFuture<Void> targetGone();
    }

    private final InetSocketAddress target;
    private final int sinkBytes;
    private final ServerSocket server;
    private final String name;
    private final Thread acceptThread;
    /** Live relay threads: each removes itself when it ends, so a crowd of links costs no scan. */
    private final Set<Thread> threads = ConcurrentHashMap.newKeySet();

    private final Object lock = new Object();
    /** Pairs not yet dead. Guarded by {@link #lock}. */
    private final Set<RelayedPair> pairs = new LinkedHashSet<>();
    /** Guarded by {@link #lock}. */
    private boolean blackholing;
    /** Guarded by {@link #lock}. */
    private boolean closed;
    /** Armed {@link #cutAfter} trigger, or null. Guarded by {@link #lock}. */
    private PendingCut pendingCut;

    private final AtomicInteger accepted = new AtomicInteger();
    private final AtomicInteger pairsCut = new AtomicInteger();
    private final AtomicInteger cutEvents = new AtomicInteger();
    private final AtomicLong bytesUp = new AtomicLong();
    private final AtomicLong bytesDown = new AtomicLong();

    private FaultyRelay(InetSocketAddress target, int sinkBytes) throws IOException {
        this.target = target;
        this.sinkBytes = sinkBytes;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.name = "it-relay-" + server.getLocalPort();
        this.acceptThread = newThread("accept", this::acceptLoop);
    }

    /** Starts a relay on an ephemeral loopback port that forwards to {@code 127.0.0.1:targetPort}. */
    public static FaultyRelay start(int targetPort) throws IOException {
        return start(new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort), DEFAULT_BLACKHOLE_SINK_BYTES);
    }

    public static FaultyRelay start(InetSocketAddress target, int blackholeSinkBytes) throws IOException {
        FaultyRelay relay = new FaultyRelay(target, blackholeSinkBytes);
        relay.acceptThread.start();
        return relay;
    }

    /** The port cproxy should dial. */
    public int port() {
        return server.getLocalPort();
    }

    /** Connections accepted so far, including black-holed and cut ones. */
    public int connectionsAccepted() {
        return accepted.get();
    }

    /** Bytes delivered client end to target end, over all connections. */
    public long bytesForwardedUpstream() {
        return bytesUp.get();
    }

    /** Bytes delivered target end to client end, over all connections. */
    public long bytesForwardedDownstream() {
        return bytesDown.get();
    }

    public long bytesForwarded() {
        return bytesUp.get() + bytesDown.get();
    }

    /** Connection pairs reset by {@link #cut()} or {@link #cutAfter}, over all cuts. */
    public int connectionsCut() {
        return pairsCut.get();
    }

    /** Cuts that reset at least one pair. */
    public int cuts() {
        return cutEvents.get();
    }

    /** Snapshot of the pairs that are still forwarding. */
    public List<Connection> forwardingConnections() {
        synchronized (lock) {
            List<Connection> out = new ArrayList<>();
            for (RelayedPair p : pairs) {
                if (p.isForwarding()) {
                    out.add(p);
                }
            }
            return out;
        }
    }

    /** Snapshot of every pair not yet closed: forwarding and black-holed. */
    public List<Connection> openConnections() {
        synchronized (lock) {
            return new ArrayList<>(pairs);
        }
    }

    /**
     * Resets every forwarding pair now: both ends get an RST. Black-holed pairs are left
     * alone (their path is gone, nothing would reach the ends).
     *
     * @return how many pairs were reset
     */
    public int cut() {
        List<RelayedPair> victims = new ArrayList<>();
        synchronized (lock) {
            for (RelayedPair p : pairs) {
                if (p.isForwarding()) {
                    victims.add(p);
                }
            }
        }
        int n = 0;
        for (RelayedPair p : victims) {
            if (p.kill()) {
                n++;
            }
        }
        if (n > 0) {
            pairsCut.addAndGet(n);
            cutEvents.incrementAndGet();
        }
        return n;
    }

    /**
     * Arms a cut that fires once exactly {@code bytes} more bytes have been forwarded (both
     * directions and all pairs together): the byte that reaches the count is delivered, the
     * rest of its chunk is not, and then every forwarding pair is reset as by {@link #cut()}.
     * ("Forwarded" means handed to the kernel: as on a real network, an RST may still
     * overtake bytes the receiver has not yet been sent.)
     *
     * @return completes with the number of pairs reset when the cut fires; cancelled by
     *         {@link #cancelCutAfter()} or {@link #close()}
     * @throws IllegalStateException if a cut is already armed
     */
    public CompletableFuture<Integer> cutAfter(long bytes) {
        if (bytes < 1) {
            throw new IllegalArgumentException("bytes must be at least 1, got " + bytes);
        }
        synchronized (lock) {
            if (closed) {
                throw new IllegalStateException(name + " is closed");
            }
            if (pendingCut != null) {
                throw new IllegalStateException("a cut is already armed");
            }
            pendingCut = new PendingCut(bytes);
            return pendingCut.fired.copy();
        }
    }

    /**
     * Disarms a pending {@link #cutAfter}.
     *
     * @return true if it was disarmed before firing; false if none was armed or it already fired
     */
    public boolean cancelCutAfter() {
        PendingCut p;
        synchronized (lock) {
            p = pendingCut;
            if (p == null || p.firing) {
                return false;
            }
            pendingCut = null;
        }
        p.fired.cancel(false);
        return true;
    }

    /** Stops forwarding on every pair, present and future, without closing anything. */
    public void blackhole() {
        synchronized (lock) {
            blackholing = true;
            for (RelayedPair p : pairs) {
                p.blackhole();
            }
        }
    }

    /** New connections are forwarded again; pairs black-holed so far stay black-holed. */
    public void restore() {
        synchronized (lock) {
            blackholing = false;
        }
    }

    public boolean isBlackholing() {
        synchronized (lock) {
            return blackholing;
        }
    }

    /** Stops accepting, resets every pair and waits (bounded) for the relay's threads. */
    @Override
    public void close() {
        List<RelayedPair> all;
        PendingCut pc;
        synchronized (lock) {
            if (closed) {
                return;
            }
            closed = true;
            all = new ArrayList<>(pairs);
            pc = pendingCut;
            pendingCut = null;
        }
        if (pc != null) {
            pc.fired.cancel(false);
        }
        RelayedPair.closeQuietly(server);
        for (RelayedPair p : all) {
            p.kill();
        }
        Threads.join(CLOSE_JOIN_MS, threads.toArray(new Thread[0]));
    }

    /** Relay threads still alive (for leak checks). */
    public List<String> liveThreads() {
        List<String> out = new ArrayList<>();
        for (Thread t : threads) {
            if (t.isAlive()) {
                out.add(t.getName());
            }
        }
        return out;
    }

    @Override
    public String toString() {
        return name + " -> " + target;
    }

    private void acceptLoop() {
        while (true) {
            Socket s;
            try {
                s = server.accept();
            } catch (IOException e) {
                return; // closed
            }
            int id = accepted.getAndIncrement();
            RelayedPair p;
            synchronized (lock) {
                if (closed) {
                    RelayedPair.reset(s);
                    return;
                }
                p = new RelayedPair(this, id, s, blackholing ? RelayedPair.State.BLACKHOLED : RelayedPair.State.FORWARDING);
                pairs.add(p);
            }
            newThread("c" + id + "-up", p::connectAndPumpUp).start();
        }
    }

    /** A daemon thread named after this relay, remembered for {@link #close()}. */
    Thread newThread(String suffix, Runnable body) {
        Thread[] self = new Thread[1];
        Thread t = new Thread(() -> {
            try {
                body.run();
            } finally {
                threads.remove(self[0]);
            }
        }, name + "-" + suffix);
        self[0] = t;
        t.setDaemon(true);
        threads.add(t);
        return t;
    }

    /**
     * How many of {@code n} read bytes a pump may forward, given a possibly armed cut.
     * Sets {@code owner[0]} when this pump delivers the byte that fires the cut.
     */
    int admit(int n, PendingCut[] owner) {
        synchronized (lock) {
            PendingCut pc = pendingCut;
            if (pc == null) {
                return n;
            }
            if (pc.firing) {
                return 0; // the cut is under way; this chunk is lost with the pair
            }
            int take = (int) Math.min(n, pc.remaining);
            pc.remaining -= take;
            if (pc.remaining == 0) {
                pc.firing = true;
                owner[0] = pc;
            }
            return take;
        }
    }

    void fire(PendingCut pc) {
        int n = cut();
        synchronized (lock) {
            if (pendingCut == pc) {
                pendingCut = null;
            }
        }
        pc.fired.complete(n);
    }

    InetSocketAddress target() {
        return target;
    }

    int blackholeSinkBytes() {
        return sinkBytes;
    }

    AtomicLong upstreamCounter() {
        return bytesUp;
    }

    AtomicLong downstreamCounter() {
        return bytesDown;
    }

    void forget(RelayedPair p) {
        synchronized (lock) {
            pairs.remove(p);
        }
    }

    /** An armed {@link #cutAfter}. Guarded by the relay's lock. */
    static final class PendingCut {
        long remaining;
        boolean firing;
        final CompletableFuture<Integer> fired = new CompletableFuture<>();

        PendingCut(long remaining) {
            this.remaining = remaining;
        }
    }
}
