package net.roamproxy.session;

import net.roamproxy.net.ElasticPool;
import net.roamproxy.wire.Wire;

/**
 * The threads that send frames and deliver bytes to applications for every session of the
 * process. A thread is made whenever no idle one is free, so a job blocked in a write never
 * delays another session's job; threads idle for 3 s end. With thousands of mostly idle
 * sessions this needs a handful of threads instead of two per session: each Java thread
 * costs tens of KiB of stack even when it only waits. Bounded by the session limits: a
 * session has at most two jobs in flight, its send and its deliver job.
 */
public final class IoPool {
    static final ElasticPool POOL = new ElasticPool("relay-io-", 2);

    /** Each pool thread's frame buffer: one full frame, reused by every job the thread runs. */
    static final ThreadLocal<byte[]> FRAME = ThreadLocal.withInitial(() -> new byte[Wire.MAX_FRAME]);

    private IoPool() {
    }

    /** Room in the pool for a proxy's {@code maxSessions} sessions, until closed. */
    public static ElasticPool.Reservation reserve(int maxSessions) {
        return POOL.reserve(maxSessions);
    }
}
