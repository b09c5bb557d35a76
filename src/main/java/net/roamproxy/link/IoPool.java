package net.roamproxy.link;

import java.util.concurrent.ExecutorService;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

import net.roamproxy.protocol.Wire;

/**
 * The threads that send frames and deliver bytes to applications for every session of the
 * process. A thread is made whenever no idle one is free, so a job blocked in a write never
 * delays another session's job; threads idle for 3 s end. With thousands of mostly idle
 * sessions this needs a handful of threads instead of two per session: each Java thread
 * costs tens of KiB of stack even when it only waits.
 */
final class IoPool {
    static final ExecutorService POOL = new ThreadPoolExecutor(0, Integer.MAX_VALUE, 3, TimeUnit.SECONDS,
            new SynchronousQueue<>(), Threads.factory("relay-io-"));

    /** Each pool thread's frame buffer: one full frame, reused by every job the thread runs. */
    static final ThreadLocal<byte[]> FRAME = ThreadLocal.withInitial(() -> new byte[Wire.MAX_FRAME]);

    private IoPool() {
    }
}
