package net.roamproxy.net;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Runs each job at once on a thread of its own, as {@link Threads#start} does, but a thread that
 * finished its job waits a while for the next before it ends. When every session of a cproxy
 * resumes at once after an address change, sproxy runs a thousand handshakes in a few seconds:
 * making and ending a platform thread for each costs more than the handshake's crypto, and the
 * JVM's work per thread start and end grows with the number of threads alive. Unbounded by
 * itself: the caller bounds the jobs in flight (sproxy's handshake places).
 *
 * <p>A new thread is made through {@link Threads#start}, so it may throw {@link OutOfMemoryError}
 * like {@code new Thread}: {@link #execute} then throws it and the job has not run. Thread-safe.
 */
public final class ReusedThreads implements Executor {
    private final String prefix;
    private final long keepMillis;
    private final AtomicInteger made = new AtomicInteger();
    /** Hands a job straight to a thread waiting in {@link #next}; holds nothing. */
    private final SynchronousQueue<Runnable> handOff = new SynchronousQueue<>();
    /** Threads waiting for a job: the ones {@link #close()} ends at once. */
    private final Set<Thread> idle = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    /**
     * @param prefix     the threads' names: {@code prefix1}, {@code prefix2}, ...
     * @param keepMillis how long an idle thread waits for another job
     */
    public ReusedThreads(String prefix, long keepMillis) {
        this.prefix = prefix;
        this.keepMillis = keepMillis;
    }

    @Override
    public void execute(Runnable job) {
        if (!handOff.offer(job)) {
            Threads.start(prefix + made.incrementAndGet(), () -> runFrom(job));
        }
    }

    /**
     * Ends the idle threads now and every other one after its job, which is left to finish;
     * jobs executed after this still run, each on a thread of its own. Idempotent.
     */
    public void close() {
        closed = true;
        idle.forEach(Thread::interrupt);
    }

    /** Threads made so far (tests). */
    int made() {
        return made.get();
    }

    private void runFrom(Runnable first) {
        for (Runnable job = first; job != null; job = next()) {
            Thread.interrupted(); // a job starts as on a fresh thread
            job.run(); // the jobs catch what they throw; anything else reaches LastResort and ends this thread
        }
    }

    private Runnable next() {
        Thread self = Thread.currentThread();
        idle.add(self);
        try {
            // Checked after joining the idle set: a close() from now on interrupts the wait.
            return closed ? null : handOff.poll(keepMillis, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            self.interrupt();
            return null;
        } finally {
            idle.remove(self);
        }
    }
}
