package net.roamproxy.client;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import net.roamproxy.net.ElasticPool;
import net.roamproxy.net.Sockets;

/**
 * Connects one session to the first of sproxy's addresses that answers, in the spirit of
 * RFC 8305 (Happy Eyeballs): attempts start one after another, a short stagger apart, and a
 * failed attempt starts the next one at once. An attempt that hangs (its SYN left by a route
 * that black-holes it) never holds up the next: after every address has had a try, new
 * attempts keep starting at a growing interval, at most {@value #MAX_PENDING} in flight per
 * session, the oldest abandoned to make room.
 *
 * <p>{@link #wake()} (the host's addresses changed) abandons the race at once: every pending
 * connect is closed and {@link #race} throws {@link Woken}, so the caller starts over with
 * the addresses the host has now.
 *
 * <p>Each connect blocks a thread of a cached pool shared by every session of the process
 * ({@code dial-io-N}, ended after 3 s idle, as the relay's {@code relay-io-N}) for at most its
 * timeout, or until it is abandoned: closing a socket is what unblocks its connect. The pool
 * is bounded by cproxy's session limit; a connect it refuses fails this dial, which the
 * session retries as any failed dial.
 *
 * <p>Threading: {@link #race} and {@link #pause} by the session's worker only; {@link #wake}
 * from any thread.
 */
final class ConnectRace {
    /**
     * Delay before the next address gets its try while the previous attempt is still pending.
     * RFC 8305 recommends 250 ms; sproxy is usually one LAN or WAN round trip away, and an
     * attempt that cannot succeed mostly fails at once (no route), so a shorter one is safe.
     */
    static final long STAGGER_MILLIS = 100;
    /** Connects in flight per session: with thousands of sessions, each costs a descriptor and a thread. */
    static final int MAX_PENDING = 2;
    private static final Object WAKE = new Object();
    /**
     * One more thread per session than the connects it keeps in flight: an abandoned connect
     * holds its thread until the closed socket unblocks it.
     */
    private static final ElasticPool CONNECTS = new ElasticPool("dial-io-", MAX_PENDING + 1);

    /** The race woke up because the host's addresses changed: start over now. */
    static final class Woken extends IOException {
        private static final long serialVersionUID = 1L;

        Woken() {
            super("this host's addresses changed");
        }
    }

    private final Supplier<Socket> sockets;
    private final Executor executor;
    private final long staggerMillis;
    /** Attempt outcomes and wake-ups, in the order they happened. */
    private final BlockingQueue<Object> events = new LinkedBlockingQueue<>();
    /** Worker only: numbers races, so an outcome of an abandoned one is recognised. */
    private int round;

    ConnectRace() {
        this(Socket::new, CONNECTS, STAGGER_MILLIS);
    }

    /** Room in the shared connect pool for cproxy's {@code maxSessions} sessions, until closed. */
    static ElasticPool.Reservation reserveThreads(int maxSessions) {
        return CONNECTS.reserve(maxSessions);
    }

    /** For tests: fake sockets, a chosen executor and stagger. */
    ConnectRace(Supplier<Socket> sockets, Executor executor, long staggerMillis) {
        this.sockets = sockets;
        this.executor = executor;
        this.staggerMillis = staggerMillis;
    }

    /** Ends the current race or pause at once (any thread). */
    void wake() {
        events.add(WAKE);
    }

    /**
     * Waits {@code millis}, or less if {@link #wake()} is called meanwhile.
     *
     * @return true if woken
     */
    boolean pause(long millis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                return false;
            }
            Object e = events.poll(left, TimeUnit.NANOSECONDS);
            if (e == WAKE) {
                return true;
            }
            discard(e);
        }
    }

    /** {@link #race(List, int, long, long, Semaphore)} with as many repeat connects as the black holes call for. */
    Socket race(List<InetSocketAddress> targets, int attemptMillis, long intervalCapMillis, long limitMillis)
            throws IOException, InterruptedException {
        return race(targets, attemptMillis, intervalCapMillis, limitMillis, new Semaphore(MAX_PENDING));
    }

    /**
     * Races connects to {@code targets}, tried in this order.
     *
     * @param attemptMillis how long one connect may take
     * @param intervalCapMillis the longest interval between attempt starts once every target
     *                          has had a try
     * @param limitMillis how long the whole race may take
     * @param spare       the caller's dial places: the race holds one already, and takes one more
     *                    (without waiting, until it ends) for each repeat connect beyond it. Every
     *                    connect that reaches sproxy holds one of this host's handshake places
     *                    there until sproxy has read it closed, which a busy CPU delays; so when
     *                    every dial place is taken (a crowd of resumes) a dial keeps to one
     *                    connect at a time, and the crowd to the places cproxy paces it by
     * @return the first connected socket; every other attempt is abandoned
     * @throws Woken if {@link #wake()} was called during the race
     * @throws IOException if every target failed, or nothing connected within the limit
     */
    Socket race(List<InetSocketAddress> targets, int attemptMillis, long intervalCapMillis, long limitMillis,
                Semaphore spare) throws IOException, InterruptedException {
        // What was queued before this race is about earlier links and races.
        for (Object e; (e = events.poll()) != null; ) {
            discard(e);
        }
        round++;
        Deque<Attempt> pending = new ArrayDeque<>();
        long start = System.nanoTime();
        long deadline = start + TimeUnit.MILLISECONDS.toNanos(limitMillis);
        long interval = TimeUnit.MILLISECONDS.toNanos(staggerMillis);
        long nextStart = start;
        int started = 0;
        // Connects this race may keep in flight once every target has had its try: the
        // caller's place, and those taken from spare.
        int places = 1;
        IOException firstFailure = null;
        try {
            while (true) {
                long now = System.nanoTime();
                if (now - deadline >= 0) {
                    throw new SocketTimeoutException("no answer from " + describe(targets) + " in " + limitMillis
                            + " ms");
                }
                if (now - nextStart >= 0) {
                    boolean full = pending.size() == MAX_PENDING;
                    boolean placeNeeded = started >= targets.size() && pending.size() - (full ? 1 : 0) >= places;
                    if (placeNeeded && !spare.tryAcquire()) {
                        nextStart = now + interval; // none to spare: the pending connects run on
                        continue;
                    }
                    places += placeNeeded ? 1 : 0;
                    if (full) {
                        pending.removeFirst().abandon();
                    }
                    Attempt a = new Attempt(round, targets.get(started % targets.size()), attemptMillis);
                    try {
                        executor.execute(a);
                    } catch (RejectedExecutionException e) {
                        a.abandon();
                        throw new IOException("no thread free to connect to " + describe(targets) + ": "
                                + e.getMessage(), e);
                    }
                    pending.addLast(a);
                    started++;
                    if (started % targets.size() == 0) {
                        // Every target had a try: later rounds are for black holes, so slow down.
                        interval = Math.min(interval * 2, TimeUnit.MILLISECONDS.toNanos(intervalCapMillis));
                    }
                    nextStart = now + interval;
                }
                Object e = events.poll(Math.max(0, Math.min(nextStart, deadline) - now), TimeUnit.NANOSECONDS);
                if (e == WAKE) {
                    throw new Woken();
                }
                if (!(e instanceof Outcome o) || o.attempt.round != round || !pending.remove(o.attempt)) {
                    discard(e);
                    continue;
                }
                if (o.failure == null) {
                    return o.attempt.socket;
                }
                if (firstFailure == null) {
                    firstFailure = o.failure;
                }
                if (pending.isEmpty() && started >= targets.size()) {
                    throw new IOException(describe(targets) + ": " + firstFailure.getMessage(), firstFailure);
                }
                if (started < targets.size()) {
                    // The first pass: a failure hands over to the next target at once. Later
                    // starts keep to the interval, so targets that fail at once cannot spin.
                    nextStart = Math.min(nextStart, System.nanoTime());
                }
            }
        } finally {
            for (Attempt a : pending) {
                a.abandon();
            }
            spare.release(places - 1);
        }
    }

    /** Drops an event of an earlier race: closes whatever it connected. */
    private static void discard(Object e) {
        if (e instanceof Outcome o) {
            o.attempt.abandon();
        }
    }

    private static String describe(List<InetSocketAddress> targets) {
        if (targets.size() == 1) {
            return Sockets.describe(targets.get(0));
        }
        StringBuilder b = new StringBuilder();
        for (InetSocketAddress t : targets) {
            b.append(b.length() == 0 ? "" : ", ").append(Sockets.describe(t));
        }
        return b.toString();
    }

    /** What one connect ended with: {@code failure} is {@code null} if it connected. */
    private record Outcome(Attempt attempt, IOException failure) {
    }

    /** One connect, run on a pool thread. */
    private final class Attempt implements Runnable {
        final int round;
        final InetSocketAddress target;
        final int timeoutMillis;
        final Socket socket = sockets.get();

        Attempt(int round, InetSocketAddress target, int timeoutMillis) {
            this.round = round;
            this.target = target;
            this.timeoutMillis = timeoutMillis;
        }

        @Override
        public void run() {
            IOException failure = null;
            boolean returned = false;
            try {
                socket.connect(target, timeoutMillis);
                returned = true;
            } catch (IOException e) {
                failure = e;
            } catch (RuntimeException e) {
                // e.g. an address the socket cannot use: a failed attempt, not a race that
                // waits for an outcome that never comes
                failure = new IOException(e.toString(), e);
            } finally {
                // Also after an Error, which then goes on to the default handler: the race
                // hears of every attempt.
                events.add(new Outcome(this, failure == null && !returned
                        ? new IOException("the connect failed with an internal error") : failure));
            }
        }

        /** Closes the socket: unblocks a pending connect, or releases a connected one nobody took. */
        void abandon() {
            Sockets.closeQuietly(socket);
        }
    }
}
