package net.roamproxy.stream;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The daemon-wide limit on buffered bytes ({@code --memory}), shared by all its sessions, so
 * that many full buffers slow senders down instead of ending every session at once with an
 * OutOfMemoryError.
 *
 * <p>Every session is {@linkplain #guarantee guaranteed} {@value #GUARANTEED} bytes per
 * direction, which the budget never refuses nor takes back: with that much a session always
 * makes progress, whatever the others hold, so the budget cannot deadlock two sessions that
 * wait for each other's acks. Only the part above it is shared, first come first served
 * ({@link #tryTake}); the guaranteed parts count in {@link #inUse()} too, so it stays within
 * the limit as long as the sessions' guarantees together fit in it.
 *
 * <p>What is counted is what can really be held on the heap: a replay buffer's allocated
 * array (we decide when it grows; acks make room in it but do not shrink it), and a receive
 * queue's whole window (the peer decides when to fill it, and nothing may be refused once
 * promised). Thread-safe and lock-free: it is called under the buffers' own monitors.
 */
public final class MemoryBudget {
    /** Per session and direction: below this the budget never slows a session. */
    public static final int GUARANTEED = 16 * 1024;
    /** The least a daemon may be given: what one session needs. */
    public static final long MIN_LIMIT = 2L * GUARANTEED;
    /** The receive windows together take at most this share of the limit, so replay buffers keep the rest. */
    private static final int WINDOW_SHARE = 2;
    /** A new window takes at most this fraction of what is left for windows, so they shrink gradually. */
    private static final int WINDOW_STEP = 8;

    private final long limit;
    private final AtomicLong used = new AtomicLong();
    /** All receive windows, guarantees included, for {@link #WINDOW_SHARE}. */
    private final AtomicLong windows = new AtomicLong();

    public MemoryBudget(long limit) {
        if (limit < MIN_LIMIT) {
            throw new IllegalArgumentException("memory budget must be at least " + MIN_LIMIT + " bytes, got " + limit);
        }
        this.limit = limit;
    }

    /** No limit in practice: for tests and embedders that size their own heap. */
    public static MemoryBudget unlimited() {
        return new MemoryBudget(Long.MAX_VALUE / 4);
    }

    /**
     * The default {@code --memory}: half the JVM's maximum heap. The budget counts only the
     * session buffers; the other half is for what each session costs outside them and cannot be
     * slowed down: its link's read buffer (up to one 64 KiB frame), the application reader's
     * frame, crypto state, socket objects, plus the I/O pool threads' frame buffers and the
     * garbage collector's headroom (a buffer that grows copies into a new array while the old
     * one is still live). Platform threads' stacks are native memory, not heap; a blocked virtual
     * thread's stack is on the heap but a few KiB, and is left to that half too.
     */
    public static long defaultLimit() {
        return Math.max(MIN_LIMIT, Runtime.getRuntime().maxMemory() / 2);
    }

    public long limit() {
        return limit;
    }

    /** Bytes counted now: never more than {@link #limit()} plus the guarantees that did not fit. */
    public long inUse() {
        return used.get();
    }

    /** Bytes the shared part can still give. */
    public long available() {
        return Math.max(0, limit - used.get());
    }

    /** Takes a session's guaranteed bytes: always succeeds, even past the limit. */
    public void guarantee(long bytes) {
        used.addAndGet(bytes);
    }

    /** Takes {@code bytes} from the shared part if they fit under the limit. */
    public boolean tryTake(long bytes) {
        if (bytes <= 0) {
            return true;
        }
        long u;
        do {
            u = used.get();
            if (u + bytes > limit) {
                return false;
            }
        } while (!used.compareAndSet(u, u + bytes));
        return true;
    }

    /** Gives back bytes taken by {@link #guarantee} or {@link #tryTake}. */
    public void release(long bytes) {
        used.addAndGet(-bytes);
    }

    /**
     * Reserves a new session's receive window, at most {@code capacity} (the {@code --buffer}
     * size): the guarantee, plus an eighth of what is left of the windows' half of the budget
     * (which the guarantees of all windows count in, so replay buffers keep the other half).
     * So windows are full-sized while the budget is far from its limit and shrink towards the
     * guarantee as it fills. Give it back with {@link #releaseWindow}.
     */
    public int reserveWindow(int capacity) {
        int base = Math.min(capacity, GUARANTEED);
        guarantee(base);
        windows.addAndGet(base);
        while (true) {
            long left = Math.min(limit / WINDOW_SHARE - windows.get(), available());
            long extra = Math.min(capacity - base, Math.max(0, left / WINDOW_STEP));
            if (extra <= 0) {
                return base;
            }
            if (tryTake(extra)) {
                windows.addAndGet(extra);
                return (int) (base + extra);
            }
        }
    }

    /**
     * The window {@link #reserveWindow} would give now, without taking it: what a handshake may
     * promise before its peer has proven anything, so that handshakes which never get further
     * hold no part of the budget. Follow with {@link #takeWindow} once it is to be used.
     */
    public int windowToOffer(int capacity) {
        int base = Math.min(capacity, GUARANTEED);
        long left = Math.min(limit / WINDOW_SHARE - windows.get() - base, available() - base);
        return (int) (base + Math.min(capacity - base, Math.max(0, left / WINDOW_STEP)));
    }

    /**
     * Takes a window that {@link #windowToOffer} gave and a peer was promised: always, even if
     * others took the room meanwhile, since a promise is kept; the limit is then passed by at
     * most what the handshakes finishing at that moment were promised.
     */
    public void takeWindow(int window) {
        guarantee(window);
        windows.addAndGet(window);
    }

    /** Gives back a window from {@link #reserveWindow} or {@link #takeWindow}. */
    public void releaseWindow(int window) {
        windows.addAndGet(-window);
        release(window);
    }
}
