package net.roamproxy.session;

import java.io.IOException;
import java.io.OutputStream;
import java.util.concurrent.Executor;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import net.roamproxy.net.SerialJob;
import net.roamproxy.session.SessionState.Event;
import net.roamproxy.stream.ReceiveQueue;
import net.roamproxy.stream.SessionClosedException;
import net.roamproxy.wire.Wire;

/**
 * A session's deliver job: receive queue to application. A stalled application blocks only
 * this job's pool thread and fills the queue, whose size the peer respects, so the link stays
 * healthy. After the peer's END and everything before it, it shuts down only the writing side
 * of the application socket. A failed write means the application is gone: the session aborts.
 *
 * <p>Threading: a {@link SerialJob} on the session's executor, never running twice at once.
 */
final class ApplicationWriter {
    private static final Logger log = LogManager.getLogger(ApplicationWriter.class);

    private final Session s;
    private final SerialJob job;
    private OutputStream appOut;
    /** Where the queued bytes are: written to the application from there, with no copy on the way. */
    private final ReceiveQueue.Segment queued = new ReceiveQueue.Segment();
    /** Set when the peer stops: close the session (resetting the application) once the queue is empty. */
    private volatile String closeWhenDrained;

    ApplicationWriter(Session s, Executor executor) {
        this.s = s;
        this.job = new SerialJob(executor, this::deliver, e -> SessionFailure.close(s, "its deliver job", e));
    }

    /** Before the first request: where the bytes go. */
    void open(OutputStream out) {
        this.appOut = out;
    }

    void request() {
        job.request();
    }

    /** Delivers what is queued, then closes the session with {@code reason} (not clean). */
    void closeWhenDrained(String reason) {
        closeWhenDrained = reason;
        job.request();
    }

    private void deliver() {
        try {
            int n;
            while ((n = s.in.peek(queued)) > 0) {
                // At most a frame's worth per write, so that acks go out while a large queue is
                // still being written, as they did when each write was one frame-sized buffer.
                n = Math.min(n, Wire.MAX_DATA);
                try {
                    appOut.write(queued.array(), queued.offset(), n);
                } catch (IOException e) {
                    if (!s.isClosed()) {
                        log.info("{}: writing to the application failed: {}; aborting the session", s.name(),
                                e.getMessage());
                        s.transitions.perform(Event.APP_RESET, "writing to the application failed: " + e.getMessage());
                    }
                    return;
                }
                s.in.delivered(n);
                s.metrics.toApplication(n);
                if (s.in.ackDue()) {
                    s.sender.request();
                }
            }
            if (n < 0) {
                try {
                    s.app.shutdownOutput();
                } catch (IOException e) {
                    // the application closed its socket already: the end reached it all the same
                }
                log.info("{}: everything the peer sent ({} bytes) reached the application; its writing side is shut",
                        s.name(), s.in.received());
                s.transitions.perform(Event.PEER_END_DELIVERED, null, s.in::endDelivered);
            }
            String reason = closeWhenDrained;
            if (reason != null && s.in.queued() == 0) {
                s.closeWith(reason, false);
            }
        } catch (SessionClosedException e) {
            // nothing more to deliver
        }
    }
}
