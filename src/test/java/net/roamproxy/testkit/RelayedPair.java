package net.roamproxy.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One connection accepted by a {@link FaultyRelay} (the client end) and its connection to the
 * target (the target end), with one pump thread per direction.
 *
 * <p>State machine: FORWARDING → BLACKHOLED → DEAD, or FORWARDING → DEAD. It never goes back
 * to forwarding: once a pair has dropped a byte it must never deliver a later one, or the
 * stream it carries would be silently corrupted rather than broken.
 *
 * <p>Threading: the two pump threads and any test thread; {@link #state} is written under
 * this object's monitor (lock order: the relay's lock, then this monitor).
 */
final class RelayedPair implements FaultyRelay.Connection {
    private static final int CHUNK = 8 * 1024;
    private static final int CONNECT_TIMEOUT_MS = 5_000;

    enum State { FORWARDING, BLACKHOLED, DEAD }

    private final FaultyRelay relay;
    private final int id;
    private final Socket client;
    private final CompletableFuture<Void> clientGone = new CompletableFuture<>();
    private final CompletableFuture<Void> targetGone = new CompletableFuture<>();
    private volatile State state;
    /** Guarded by this. */
    private Socket upstream;
    /** Directions that ended with an orderly EOF while forwarding. Guarded by this. */
    private int halfClosed;

    RelayedPair(FaultyRelay relay, int id, Socket client, State initial) {
        this.relay = relay;
        this.id = id;
        this.client = client;
        this.state = initial;
    }

    @Override
    public int id() {
        return id;
    }

    @Override
    public boolean isForwarding() {
        return state == State.FORWARDING;
    }

    @Override
    public boolean isBlackholed() {
        return state == State.BLACKHOLED;
    }

    @Override
    public CompletableFuture<Void> clientGone() {
        return clientGone.copy();
    }

    @Override
    public CompletableFuture<Void> targetGone() {
        return targetGone.copy();
    }

    @Override
    public String toString() {
        return "connection " + id + " (" + state + ")";
    }

    synchronized void blackhole() {
        if (state == State.FORWARDING) {
            state = State.BLACKHOLED;
        }
    }

    /** Body of the "up" thread: connects the target end, starts the "down" thread, pumps up. */
    void connectAndPumpUp() {
        Socket up = new Socket();
        try {
            client.setTcpNoDelay(true);
            up.setTcpNoDelay(true);
            up.connect(relay.target(), CONNECT_TIMEOUT_MS);
        } catch (IOException e) {
            closeQuietly(up);
            targetGone.complete(null);
            kill();
            return;
        }
        synchronized (this) {
            if (state == State.DEAD) {
                reset(up);
                return;
            }
            upstream = up;
        }
        relay.newThread("c" + id + "-down", () -> pump(up, client, relay.downstreamCounter(), targetGone)).start();
        pump(client, up, relay.upstreamCounter(), clientGone);
    }

    /** Copies {@code from} to {@code to} until EOF, error, or this pair stops forwarding. */
    private void pump(Socket from, Socket to, AtomicLong counter, CompletableFuture<Void> fromGone) {
        byte[] buf = new byte[CHUNK];
        long discarded = 0;
        InputStream in;
        OutputStream out;
        try {
            in = from.getInputStream();
            out = to.getOutputStream();
        } catch (IOException e) {
            fromGone.complete(null);
            kill();
            return;
        }
        while (true) {
            int n;
            try {
                n = in.read(buf);
            } catch (IOException e) {
                fromGone.complete(null);
                if (state == State.FORWARDING) {
                    kill(); // propagate the reset
                } else {
                    maybeRetireBlackholed();
                }
                return;
            }
            if (n < 0) {
                fromGone.complete(null);
                State s = state;
                if (s == State.FORWARDING) {
                    halfClose(to);
                } else if (s == State.BLACKHOLED) {
                    maybeRetireBlackholed();
                }
                return;
            }
            State s = state;
            if (s == State.DEAD) {
                return;
            }
            if (s == State.BLACKHOLED) {
                discarded += n;
                if (discarded >= relay.blackholeSinkBytes()) {
                    return; // stop reading: the sender's buffers fill up and its writes block
                }
                continue;
            }
            FaultyRelay.PendingCut[] owner = new FaultyRelay.PendingCut[1];
            int take = relay.admit(n, owner);
            if (take > 0) {
                try {
                    out.write(buf, 0, take);
                } catch (IOException e) {
                    if (owner[0] != null) {
                        relay.fire(owner[0]);
                    }
                    if (state == State.FORWARDING) {
                        kill();
                    }
                    return;
                }
                counter.addAndGet(take);
            }
            if (owner[0] != null) {
                relay.fire(owner[0]);
                return;
            }
            if (take < n) {
                kill(); // bytes were dropped: this pair must never forward again
                return;
            }
        }
    }

    private void halfClose(Socket to) {
        boolean both;
        synchronized (this) {
            halfClosed++;
            both = halfClosed == 2;
        }
        try {
            to.shutdownOutput();
        } catch (IOException e) {
            kill();
            return;
        }
        if (both) {
            retire();
        }
    }

    /** A black-holed pair whose ends have both given up can be released. */
    private void maybeRetireBlackholed() {
        if (clientGone.isDone() && targetGone.isDone()) {
            retire();
        }
    }

    /** Closes an ended pair quietly and forgets it. */
    private void retire() {
        Socket up;
        synchronized (this) {
            if (state == State.DEAD) {
                return;
            }
            state = State.DEAD;
            up = upstream;
        }
        closeQuietly(client);
        closeQuietly(up);
        relay.forget(this);
    }

    /**
     * Resets both ends (SO_LINGER 0) and forgets the pair.
     *
     * @return false if it was already dead
     */
    boolean kill() {
        Socket up;
        synchronized (this) {
            if (state == State.DEAD) {
                return false;
            }
            state = State.DEAD;
            up = upstream;
        }
        reset(client);
        if (up != null) {
            reset(up);
        }
        clientGone.complete(null);
        targetGone.complete(null);
        relay.forget(this);
        return true;
    }

    /** Closes {@code s} with an RST rather than a FIN. */
    static void reset(Socket s) {
        try {
            s.setSoLinger(true, 0);
        } catch (IOException ignored) {
            // already closed
        }
        closeQuietly(s);
    }

    static void closeQuietly(AutoCloseable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (Exception ignored) {
            // best effort
        }
    }
}
