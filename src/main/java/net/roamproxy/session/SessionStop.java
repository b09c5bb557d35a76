package net.roamproxy.session;

import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.TimeUnit;

import net.roamproxy.session.SessionState.Action;
import net.roamproxy.session.SessionState.Event;

/**
 * The orderly stop of a whole proxy (SIGTERM): all its sessions share one time budget, so that
 * the process exits in time however many sessions it holds, and each tells its peer that it is
 * stopping rather than just going silent.
 */
public final class SessionStop {
    /** The time a proxy's sessions have to stop in, within the process's {@code Stopping.LIMIT}. */
    public static final long BUDGET_MILLIS = 1000;

    private SessionStop() {
    }

    /**
     * Stops every session in {@code sessions} (SIGTERM), within {@code millis} in all: each
     * flushes what its peer acknowledges in the first half of the budget, then sends STOPPING
     * (waiting for its link's lock within the third quarter), then closes; then waits for them.
     */
    public static void closeAll(Collection<Session> sessions, String reason, long millis) {
        long start = System.nanoTime();
        long deadline = start + TimeUnit.MILLISECONDS.toNanos(millis);
        List<Session> flushing = new ArrayList<>();
        for (Session s : sessions) {
            if (s.state.on(Event.STOP).contains(Action.FLUSH_THEN_STOPPING)) {
                flushing.add(s);
            }
        }
        try {
            long flushDeadline = start + TimeUnit.MILLISECONDS.toNanos(millis / 2);
            for (Session s : flushing) {
                s.out.awaitAllAcked(Math.max(0, TimeUnit.NANOSECONDS.toMillis(flushDeadline - System.nanoTime())));
            }
            long lockDeadline = start + TimeUnit.MILLISECONDS.toNanos(millis * 3 / 4);
            for (Session s : sessions) {
                long left = TimeUnit.NANOSECONDS.toMillis(lockDeadline - System.nanoTime());
                sendStoppingAndClose(s, reason, Math.max(0, Math.min(100, left)));
            }
            for (Session s : sessions) {
                s.awaitClosed(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            sessions.forEach(s -> s.close(reason));
        }
    }

    /**
     * The last step of a stop: STOPPING on {@code s}'s link if it is up and free within
     * {@code lockMillis}, then close.
     */
    private static void sendStoppingAndClose(Session s, String reason, long lockMillis) {
        boolean told = false;
        try {
            if (s.slot.tryLock(lockMillis)) {
                try {
                    told = s.sender.sendStopping();
                } finally {
                    s.slot.unlock();
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        s.closeWith(reason + (told ? "; told the peer after " + s.out.acked() + " of " + s.out.end()
                + " bytes were acknowledged" : "; the peer could not be told (no usable link)"), false);
    }
}
