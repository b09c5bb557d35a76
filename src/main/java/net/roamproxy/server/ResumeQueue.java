package net.roamproxy.server;

import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import net.roamproxy.link.Attachment;
import net.roamproxy.link.Link;
import net.roamproxy.link.LinkProvider;
import net.roamproxy.link.LinkSettings;
import net.roamproxy.link.Relay;

/**
 * sproxy's side of a session's links: the first arrives with the new session; every later one
 * is handed over by a handshake thread through a {@link BlockingQueue} once the returning
 * cproxy has proven the session's secret. The worker waits for it up to the detach timeout.
 */
final class ResumeQueue implements LinkProvider {
    private static final Logger log = LogManager.getLogger(ResumeQueue.class);

    private final BlockingQueue<Attachment> queue = new LinkedBlockingQueue<>();
    private volatile Relay relay;

    ResumeQueue(Attachment first) {
        queue.add(first);
    }

    /** Called by a handshake thread: hands a proven link to the session and wakes its worker. */
    void offer(Attachment a) {
        Relay r = relay;
        Link old = r == null ? null : r.currentLink();
        queue.add(a);
        if (r != null && r.isClosed()) {
            drain();
        } else if (old != null) {
            // The worker may be blocked reading the old link for up to a heartbeat interval.
            old.close();
        }
    }

    @Override
    public Attachment next(Relay r) throws InterruptedException {
        relay = r;
        Attachment a = queue.poll();
        if (a != null) {
            return latest(a);
        }
        long timeout = r.settings().detachTimeout().toMillis();
        String human = LinkSettings.human(r.settings().detachTimeout());
        log.info("{}: waiting up to {} for cproxy to resume", r.name(), human);
        a = queue.poll(timeout, TimeUnit.MILLISECONDS);
        if (a == null) {
            r.close("cproxy did not resume within " + human);
            return null;
        }
        return latest(a);
    }

    /** If several links queued up, only the newest matters. */
    private Attachment latest(Attachment a) {
        Attachment newer;
        while ((newer = queue.poll()) != null) {
            a.link().close();
            a = newer;
        }
        return a;
    }

    @Override
    public boolean hasWaiting() {
        return !queue.isEmpty();
    }

    @Override
    public void close() {
        drain();
    }

    private void drain() {
        Attachment a;
        while ((a = queue.poll()) != null) {
            a.link().close();
        }
    }
}
