package net.roamproxy.net;

import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * A pool shared by every session of the process that makes a thread whenever none is idle, so
 * that a job blocked in a write or a connect never delays another session's job, and ends
 * threads idle for 3 s. Its bound follows the session limits: each running proxy
 * {@linkplain #reserve reserves} room for its most sessions, {@code perSession} threads each
 * (the most jobs one session can have in flight at once), plus a few spare for jobs of
 * sessions that just closed. Within the limits it therefore never refuses a job; beyond them
 * (only a bug could get there) it refuses with {@link RejectedExecutionException} rather
 * than make threads without end, and the caller closes the one session concerned.
 *
 * <p>Thread-safe.
 */
public final class ElasticPool implements Executor {
    /** Threads for jobs of sessions that just closed, and for jobs outside any reservation. */
    static final int SPARE = 16;

    private final String prefix;
    private final int perSession;
    private final ThreadPoolExecutor pool;
    /** Guarded by {@code this}: the sessions all reservations together allow. */
    private long sessions;

    /**
     * @param prefix     the threads' name prefix, e.g. {@code relay-io-}
     * @param perSession the most jobs one session can have in flight at once
     */
    public ElasticPool(String prefix, int perSession) {
        this.prefix = prefix;
        this.perSession = perSession;
        this.pool = new ThreadPoolExecutor(0, SPARE, 3, TimeUnit.SECONDS, new SynchronousQueue<>(),
                Threads.factory(prefix), (job, p) -> {
                    throw new RejectedExecutionException("all " + p.getMaximumPoolSize() + " "
                            + prefix.replaceAll("-$", "") + " threads are busy");
                });
    }

    @Override
    public void execute(Runnable job) {
        pool.execute(job);
    }

    /** Room for {@code maxSessions} more sessions, until the reservation is closed. */
    public Reservation reserve(int maxSessions) {
        Reservation r = new Reservation();
        r.resize(maxSessions);
        return r;
    }

    /** The most threads the pool makes now. */
    public int maxThreads() {
        return pool.getMaximumPoolSize();
    }

    private synchronized void add(long delta) {
        sessions += delta;
        long max = Math.min(Integer.MAX_VALUE, SPARE + sessions * perSession);
        // Lowering it lets running jobs finish; only new threads beyond it are refused.
        pool.setMaximumPoolSize((int) max);
    }

    @Override
    public String toString() {
        return prefix + "pool (at most " + maxThreads() + " threads)";
    }

    /** One proxy's share of the pool: resized on reload, closed when the proxy stops. */
    public final class Reservation implements AutoCloseable {
        /** Guarded by the pool. */
        private long held;

        private Reservation() {
        }

        /** Now room for {@code maxSessions} (a reload changed the limit). */
        public void resize(int maxSessions) {
            synchronized (ElasticPool.this) {
                add(maxSessions - held);
                held = maxSessions;
            }
        }

        @Override
        public void close() {
            resize(0);
        }
    }
}
