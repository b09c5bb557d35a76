package net.roamproxy.net;

import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * One session's job (send what is owed; deliver what is queued) run on a shared pool: never
 * twice at once, and once more if it is requested while running, so no request is lost.
 * An idle session therefore holds no thread for the job, while a job that blocks (a stuck
 * write) holds only its own pool thread and delays no other session.
 *
 * <p>A failure the body does not handle, or a pool that refuses the job (full, or unable to
 * make a thread), goes to {@code onFailure}, which closes the session: the job must never end
 * silently, leaving {@code running} set and the session waiting for a run that never comes.
 */
public final class SerialJob {
    private final Executor pool;
    private final Runnable body;
    private final Consumer<Throwable> onFailure;
    private final AtomicBoolean pending = new AtomicBoolean();
    private final AtomicBoolean running = new AtomicBoolean();

    public SerialJob(Executor pool, Runnable body, Consumer<Throwable> onFailure) {
        this.pool = pool;
        this.body = body;
        this.onFailure = onFailure;
    }

    /** Makes sure the body runs (again) after this call. Cheap when it is already running. */
    public void request() {
        pending.set(true);
        if (running.compareAndSet(false, true)) {
            submit();
        }
    }

    /** Hands the job to the pool; the caller set {@code running}. */
    private void submit() {
        try {
            pool.execute(this::run);
        } catch (RuntimeException | Error e) {
            running.set(false); // not running after all: a later request may try again
            onFailure.accept(e);
        }
    }

    private void run() {
        try {
            while (pending.getAndSet(false)) {
                body.run();
            }
        } catch (RuntimeException | Error e) {
            onFailure.accept(e);
        } finally {
            running.set(false);
            // A request that came between the last check and the line above found us running.
            if (pending.get() && running.compareAndSet(false, true)) {
                submit();
            }
        }
    }
}
