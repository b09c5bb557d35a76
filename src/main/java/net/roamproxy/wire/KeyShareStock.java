package net.roamproxy.wire;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.IntSupplier;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Key shares made ahead of need. Making an X25519 key pair costs the JDK about as much CPU as
 * the key agreement itself (a quarter of a millisecond), and every handshake makes one on each
 * side: when a thousand sessions resume at once after an address change, those key pairs alone
 * are half a second of CPU that the resumes queue behind. So one background thread keeps up to
 * {@code target} shares ready (one for each live session, say), and works only while no
 * handshake has taken a share for {@link #QUIET_MILLIS} ms, so it never competes with a crowd.
 * A handshake takes a ready share, or makes its own when none is left.
 *
 * <p>This changes nothing on the wire and nothing in what each link's keys are made of: every
 * share is handed out once, used by one handshake and dropped with it, exactly as one made on
 * the spot.
 *
 * <p>Threading: {@link #take()} from any thread; the filler thread is the only other user.
 * Lifecycle: {@link #start} once, {@link #close()} any time.
 */
public final class KeyShareStock implements AutoCloseable {
    /** How long no handshake may have taken a share before the filler makes more. */
    static final long QUIET_MILLIS = 250;
    /** The most shares kept ready, whatever the target: each holds a private key. */
    static final int MAX_READY = 10_000;
    private static final long FULL_LOOK_NANOS = TimeUnit.SECONDS.toNanos(1);

    private final Supplier<KeyShare> maker;
    private final IntSupplier target;
    private final LongSupplier clock;
    private final long quietNanos;
    private final ConcurrentLinkedQueue<KeyShare> ready = new ConcurrentLinkedQueue<>();
    private final AtomicInteger readyCount = new AtomicInteger();
    /** When a handshake last took a share, by {@link #clock}. */
    private final AtomicLong lastTake;
    /** How many times the filler has looked whether to make a share: for tests. */
    private final AtomicLong looks = new AtomicLong();
    private volatile Thread filler;
    private volatile boolean closed;

    /** @param target how many shares to keep ready: read afresh each time, capped at {@value #MAX_READY} */
    public KeyShareStock(IntSupplier target) {
        this(KeyShare::generate, target, System::nanoTime, TimeUnit.MILLISECONDS.toNanos(QUIET_MILLIS));
    }

    KeyShareStock(Supplier<KeyShare> maker, IntSupplier target, LongSupplier clock, long quietNanos) {
        this.maker = maker;
        this.target = target;
        this.clock = clock;
        this.quietNanos = quietNanos;
        this.lastTake = new AtomicLong(clock.getAsLong() - quietNanos);
    }

    /** Starts the filler, a daemon thread named {@code name}. */
    public KeyShareStock start(String name) {
        Thread t = new Thread(this::fill, name);
        t.setDaemon(true);
        t.setPriority(Thread.MIN_PRIORITY);
        filler = t;
        t.start();
        return this;
    }

    /** A fresh key share that no one else has had or will have. */
    public KeyShare take() {
        lastTake.set(clock.getAsLong());
        KeyShare k = ready.poll();
        if (k != null) {
            readyCount.decrementAndGet();
        }
        // Whether this one came ready or not, the filler makes up for it once all is quiet again.
        Thread t = filler;
        if (t != null) {
            LockSupport.unpark(t);
        }
        return k != null ? k : maker.get();
    }

    /** Shares ready now. */
    int ready() {
        return readyCount.get();
    }

    /** Times the filler has looked whether to make a share. */
    long looks() {
        return looks.get();
    }

    private void fill() {
        while (!closed) {
            looks.incrementAndGet();
            long sinceTake = clock.getAsLong() - lastTake.get();
            if (sinceTake < quietNanos) {
                LockSupport.parkNanos(this, quietNanos - sinceTake);
            } else if (readyCount.get() >= Math.min(MAX_READY, target.getAsInt())) {
                // Full until the next take, or a look a second later: a new session's handshake
                // takes its share before the session counts towards the target.
                LockSupport.parkNanos(this, FULL_LOOK_NANOS);
            } else {
                ready.add(maker.get());
                readyCount.incrementAndGet();
            }
        }
    }

    /** Stops the filler and drops the shares it made. */
    @Override
    public void close() {
        closed = true;
        Thread t = filler;
        if (t != null) {
            LockSupport.unpark(t);
        }
        ready.clear();
        readyCount.set(0);
    }

    /** Waits for the filler to end: for tests. */
    void join() throws InterruptedException {
        Thread t = filler;
        if (t != null) {
            t.join();
        }
    }
}
