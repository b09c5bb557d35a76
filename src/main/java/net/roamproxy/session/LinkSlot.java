package net.roamproxy.session;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;

import net.roamproxy.wire.FrameWriter;

/**
 * The session's current link, its writer, and the lock under which the link is written. One
 * owner: the session's link reader puts a link in ({@link #attach}) and takes it out
 * ({@link #detach}); nothing else changes what is here. Writers (the send job, the application
 * reader's fast path, the link reader's heartbeat, the stop) take the lock, write through
 * {@link #writer()}, and let go within the same method.
 *
 * <p><b>Lock order</b> for a session, outermost first: this slot's lock, then the
 * {@link SessionState}'s monitor, then the monitors of the {@code ReplayBuffer} and the
 * {@code ReceiveQueue}. No code takes them the other way round, and none waits for another
 * thread while holding the state's or a buffer's monitor. The slot's lock is held across link
 * writes, which can block; that is why a write to a dead link must be ended from outside, by
 * closing the link (the link reader does, when the peer goes silent), and why the link reader
 * itself only ever {@linkplain ReentrantLock#tryLock tries} it when it would write.
 *
 * <p>Threading: {@link #link()} from any thread; everything else with the lock held.
 */
final class LinkSlot {
    private final ReentrantLock lock = new ReentrantLock();
    /** Guarded by {@link #lock}: the current link's writer, {@code null} while detached. */
    private FrameWriter<Link> writer;
    /** The same link, for readers that only look (status, metrics, close). */
    private volatile Link link;

    void lock() {
        lock.lock();
    }

    boolean tryLock() {
        return lock.tryLock();
    }

    boolean tryLock(long millis) throws InterruptedException {
        return lock.tryLock(millis, TimeUnit.MILLISECONDS);
    }

    void unlock() {
        lock.unlock();
    }

    /** The current link's writer, or {@code null} while detached. The caller holds the lock. */
    FrameWriter<Link> writer() {
        held();
        return writer;
    }

    /** The link in use, or {@code null} while detached: any thread. */
    Link link() {
        return link;
    }

    /** {@code l} becomes the current link, written as {@code sessionName}. The caller holds the lock. */
    void attach(Link l, String sessionName) {
        held();
        writer = new FrameWriter<>(l, sessionName);
        link = l;
    }

    /**
     * Takes {@code l} out if it is still the current link. The caller holds the lock.
     *
     * @return whether it was
     */
    boolean detach(Link l) {
        held();
        if (link != l) {
            return false;
        }
        link = null;
        writer = null;
        return true;
    }

    private void held() {
        if (!lock.isHeldByCurrentThread()) {
            throw new IllegalStateException("the session's link is used without its lock");
        }
    }
}
