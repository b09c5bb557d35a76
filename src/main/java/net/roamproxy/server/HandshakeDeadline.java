package net.roamproxy.server;

import java.net.Socket;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import net.roamproxy.session.Link;

/**
 * The time one connection has for its handshake: {@value #FIRST_FRAME_MILLIS} ms for its
 * HELLO (cproxy sends it the moment TCP connects; a silent stranger gives its place back soon),
 * and the handshake timeout for all of it, however slowly it dribbles bytes. At a deadline the
 * connection is reset, unless the handshake has {@linkplain #claim claimed} it first: whoever
 * settles first owns the link, never both, so a deadline can never reset a link a session owns.
 *
 * <p>Thread-safe: the timer expires it, the handshake thread claims and cancels it.
 */
final class HandshakeDeadline {
    static final long FIRST_FRAME_MILLIS = 2000;

    private final AtomicBoolean settled = new AtomicBoolean();
    private final ScheduledFuture<?> first;
    private final ScheduledFuture<?> whole;
    private volatile boolean helloArrived;
    private volatile String expired;

    HandshakeDeadline(ScheduledExecutorService timer, Socket s, long wholeMillis) {
        long firstMillis = Math.min(FIRST_FRAME_MILLIS, wholeMillis);
        first = timer.schedule(() -> {
            if (!helloArrived) {
                expire(s, "no HELLO within " + firstMillis + " ms");
            }
        }, firstMillis, TimeUnit.MILLISECONDS);
        whole = timer.schedule(() -> expire(s, "not completed within " + wholeMillis + " ms"), wholeMillis,
                TimeUnit.MILLISECONDS);
    }

    void helloArrived() {
        helloArrived = true;
    }

    /** Takes the link from the deadlines. @return false if a deadline already reset it */
    boolean claim() {
        return settled.compareAndSet(false, true);
    }

    /** Why a deadline reset the connection, or {@code null}. */
    String expired() {
        return expired;
    }

    void cancel() {
        first.cancel(false);
        whole.cancel(false);
    }

    private void expire(Socket s, String why) {
        if (settled.compareAndSet(false, true)) {
            expired = why;
            Link.reset(s);
        }
    }
}
