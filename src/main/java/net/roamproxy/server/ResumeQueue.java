package net.roamproxy.server;

import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import net.roamproxy.metrics.LinkLoss;
import net.roamproxy.session.Attachment;
import net.roamproxy.session.Link;
import net.roamproxy.session.LinkProvider;
import net.roamproxy.session.LinkSettings;
import net.roamproxy.session.LinkUnavailableException;
import net.roamproxy.session.SessionView;

/**
 * sproxy's side of a session's links: the first arrives with the new session; every later one
 * is handed over by a handshake thread through a {@link BlockingQueue} once the returning
 * cproxy has proven the session's secret. The link reader waits for it up to the detach timeout.
 *
 * <p>Threading: {@link #next} on the session's link reader; {@link #offer} on handshake
 * threads; {@link #close} on any thread. Links still queued belong to the queue, which closes
 * them if they are never taken (also one offered after {@link #close}); a link handed to the
 * session belongs to the session.
 */
final class ResumeQueue implements LinkProvider {
    private static final Logger log = LogManager.getLogger(ResumeQueue.class);

    /** Queued by {@link #close} behind any link: wakes a {@link #next} waiting for one. */
    private static final Attachment CLOSING = new Attachment(null, 0, 0);

    private final BlockingQueue<Attachment> queue = new LinkedBlockingQueue<>();
    /** The link last handed to the session: a newer one closes it to wake the session's reader. */
    private volatile Link current;
    private volatile boolean closed;

    ResumeQueue(Attachment first) {
        queue.add(first);
    }

    /** Called by a handshake thread: hands a proven link to the session and wakes its reader. */
    void offer(Attachment a) {
        // Read before queueing: once queued, the reader may take the new link and make it current.
        Link old = current;
        queue.add(a);
        if (closed) {
            drain();
            return;
        }
        if (old != null) {
            // The reader may be blocked reading the old link for up to a heartbeat interval:
            // wake it. The session owns that link and closes it.
            old.abort(LinkLoss.REPLACED, "replaced by a newer link");
        }
    }

    /** cproxy counts a resume as done, and dials the next, once our first frame arrives. */
    @Override
    public boolean peerAwaitsFirstFrame() {
        return true;
    }

    @Override
    public Attachment next(SessionView session) throws InterruptedException, LinkUnavailableException {
        current = null;
        Attachment a = queue.poll();
        if (a == null && !session.heardFromPeer()) {
            // cproxy answers our TOKEN at once, so a first link lost before a word from cproxy
            // is a stranger who opened a session and left, or a cproxy that never got the TOKEN
            // (it then opens another session). Either way nobody will resume this one: it gives
            // its place and its service connection back within seconds, not at the detach timeout.
            Duration grace = session.settings().deadAfter();
            a = queue.poll(grace.toMillis(), TimeUnit.MILLISECONDS);
            if (a == null) {
                throw new LinkUnavailableException("cproxy never spoke after the session was opened");
            }
        }
        if (a == null) {
            long timeout = session.settings().detachTimeout().toMillis();
            String human = LinkSettings.human(session.settings().detachTimeout());
            log.info("{}: waiting up to {} for cproxy to resume", session.name(), human);
            a = queue.poll(timeout, TimeUnit.MILLISECONDS);
            if (a == null) {
                throw new LinkUnavailableException("cproxy did not resume within " + human);
            }
        }
        a = latest(a);
        if (closed || a == CLOSING) {
            discard(a);
            throw new LinkUnavailableException("the session is closing");
        }
        current = a.link();
        return a;
    }

    /** If several links queued up, only the newest matters. */
    private Attachment latest(Attachment a) {
        Attachment newer;
        while ((newer = queue.poll()) != null) {
            // CLOSING wins over any link, even one queued behind it by a racing offer.
            Attachment keep = newer == CLOSING || a == CLOSING ? CLOSING : newer;
            if (a != keep) {
                discard(a);
            }
            if (newer != keep) {
                discard(newer);
            }
            a = keep;
        }
        return a;
    }

    /** Closes the link of {@code a}, one nobody will use; CLOSING has none. */
    private static void discard(Attachment a) {
        if (a != CLOSING) {
            a.link().close();
        }
    }

    @Override
    public boolean hasWaiting() {
        return !closed && !queue.isEmpty();
    }

    /** Closes the queued links and wakes a {@link #next} waiting for one, which then throws: any thread. */
    @Override
    public void close() {
        closed = true;
        drain();
    }

    /** Closes every queued link; then only CLOSING is left, for a {@link #next} to find. */
    private void drain() {
        Attachment a;
        while ((a = queue.poll()) != null) {
            discard(a);
        }
        queue.add(CLOSING);
    }
}
