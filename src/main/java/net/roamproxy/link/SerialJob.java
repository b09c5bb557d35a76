package net.roamproxy.link;

import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One session's job (send what is owed; deliver what is queued) run on a shared pool: never
 * twice at once, and once more if it is requested while running, so no request is lost.
 * An idle session therefore holds no thread for the job, while a job that blocks (a stuck
 * write) holds only its own pool thread and delays no other session.
 */
final class SerialJob {
    private final Executor pool;
    private final Runnable body;
    private final AtomicBoolean pending = new AtomicBoolean();
    private final AtomicBoolean running = new AtomicBoolean();

    SerialJob(Executor pool, Runnable body) {
        this.pool = pool;
        this.body = body;
    }

    /** Makes sure the body runs (again) after this call. Cheap when it is already running. */
    void request() {
        pending.set(true);
        if (running.compareAndSet(false, true)) {
            pool.execute(this::run);
        }
    }

    private void run() {
        try {
            while (pending.getAndSet(false)) {
                body.run();
            }
        } finally {
            running.set(false);
            // A request that came between the last check and the line above found us running.
            if (pending.get() && running.compareAndSet(false, true)) {
                pool.execute(this::run);
            }
        }
    }
}
