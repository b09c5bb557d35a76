package net.roamproxy.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import net.roamproxy.metrics.Metrics;
import net.roamproxy.net.Threads;
import net.roamproxy.testkit.Await;
import net.roamproxy.testkit.Closer;
import net.roamproxy.testkit.LogCapture;
import net.roamproxy.testkit.MemorySocket;
import net.roamproxy.testkit.TestKeys;
import net.roamproxy.wire.Frame;
import net.roamproxy.wire.FrameProtection;
import net.roamproxy.wire.FrameReader;
import net.roamproxy.wire.FrameType;

/**
 * A failure no code path of the session handles (our bug, or no thread for a job) closes that
 * session with a reason and one log line, instead of leaving it open with a dead thread. On a
 * fake clock and an inline executor, over in-memory sockets, as {@link SessionTest}.
 */
@Timeout(20)
class SessionFailureTest {
    private static final LinkSettings SETTINGS = new LinkSettings(Duration.ofSeconds(10), 3, 1 << 16,
            Duration.ofSeconds(10), Duration.ofMinutes(15));
    private static final long INTERVAL = SETTINGS.heartbeatInterval().toNanos();
    private static final Duration WAIT = Duration.ofSeconds(10);

    @RegisterExtension final Closer closer = new Closer();
    @RegisterExtension final LogCapture logs = LogCapture.closedBy(closer);

    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final BlockingQueue<Attachment> links = new LinkedBlockingQueue<>();
    private final MemorySocket[] app = MemorySocket.pair();
    private final BlockingQueue<Session> closed = new LinkedBlockingQueue<>();
    /** The session's end of its link, and the test's (the peer proxy's). */
    private final MemorySocket[] link = MemorySocket.pair();
    private final FrameProtection.Sealer peerSealer = TestKeys.serverSealer();
    private Session session;

    private Session start(Executor executor) throws IOException, InterruptedException {
        Link l = new Link(link[0]);
        TestKeys.asClient(l);
        links.add(new Attachment(l, 0, 1 << 16));
        session = new Session("session t", "test-session", app[0], SETTINGS, s -> links.take(), true, closed::add,
                now::get, executor, Metrics.unshared("cproxy"));
        session.start();
        Await.until(WAIT, "the link's reader waits for frames",
                () -> session.currentLink() != null && link[0].readerWaiting());
        return session;
    }

    @AfterEach
    void closeSession() {
        if (session != null) {
            session.close("test over");
        }
    }

    /**
     * The application sends a byte, which the peer receives and does not acknowledge: with data
     * in flight, the link reader leaves its heartbeats to the send job.
     */
    private void unacknowledgedData() throws IOException, InterruptedException {
        app[1].getOutputStream().write('x');
        FrameReader peer = new FrameReader(link[1].getInputStream());
        peer.protect(TestKeys.serverOpener());
        link[1].setSoTimeout((int) WAIT.toMillis());
        assertEquals(FrameType.DATA, peer.next().type());
        // Its reader may still be writing more behind the data; only once it reads again is it done.
        Await.until(WAIT, "the application reader waits for more", () -> app[0].readerWaiting());
    }

    /** One heartbeat interval passes: a heartbeat is due. */
    private void heartbeatDue() {
        now.addAndGet(INTERVAL);
        link[0].wakeReader();
    }

    private Session awaitClosed() throws InterruptedException {
        Session s = closed.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertNotNull(s, "the session is closed");
        return s;
    }

    /** Waits for the ERROR line, logged once the session is closed, then returns every ERROR line about it. */
    private List<LogCapture.Line> awaitErrors() throws InterruptedException {
        logs.await(WAIT, "the ERROR line", Level.ERROR, m -> m.contains("session t"));
        return errors();
    }

    private List<LogCapture.Line> errors() {
        return logs.find(Level.ERROR, m -> m.contains("session t"));
    }

    @Test
    void aSendJobThatThrowsClosesTheSessionWithTheReasonAndOneErrorLine() throws Exception {
        start(Runnable::run);
        unacknowledgedData();
        link[0].failWritesWith(new IllegalArgumentException("frame length -1 (test)"));

        heartbeatDue();

        Session s = awaitClosed();
        assertEquals("internal error: java.lang.IllegalArgumentException: frame length -1 (test)", s.closeReason());
        assertTrue(app[0].wasReset(), "the application sees the session cut short, not a clean end");
        List<LogCapture.Line> errors = awaitErrors();
        assertEquals(1, errors.size(), "one ERROR line: " + errors);
        assertTrue(errors.get(0).message().contains("its send job")
                && errors.get(0).message().contains("frame length -1 (test)"), errors.get(0).toString());
    }

    @Test
    void aHeartbeatTheLinkReaderWritesItselfThatThrowsClosesTheSessionWithTheReason() throws Exception {
        start(Runnable::run);
        link[0].failWritesWith(new IllegalArgumentException("frame length -1 (test)"));

        heartbeatDue(); // nothing in flight: the reader writes the heartbeat itself

        Session s = awaitClosed();
        assertEquals("internal error: java.lang.IllegalArgumentException: frame length -1 (test)", s.closeReason());
        List<LogCapture.Line> errors = awaitErrors();
        assertEquals(1, errors.size(), "one ERROR line: " + errors);
        assertTrue(errors.get(0).message().contains("its link reader"), errors.get(0).toString());
    }

    @Test
    void aDeliverJobThatThrowsClosesTheSessionWithTheReasonAndOneErrorLine() throws Exception {
        start(Runnable::run);
        app[0].failWritesWith(new IllegalStateException("broken stream (test)"));

        link[1].getOutputStream().write(TestKeys.seal(peerSealer, new Frame(FrameType.DATA, 0, 0, new byte[] {'x'})));

        Session s = awaitClosed();
        assertEquals("internal error: java.lang.IllegalStateException: broken stream (test)", s.closeReason());
        List<LogCapture.Line> errors = awaitErrors();
        assertEquals(1, errors.size(), "one ERROR line: " + errors);
        assertTrue(errors.get(0).message().contains("its deliver job"), errors.get(0).toString());
    }

    @Test
    void aJobThePoolRefusesClosesTheSessionWithTheReasonNotSilently() throws Exception {
        AtomicBoolean full = new AtomicBoolean();
        start(job -> {
            if (full.get()) {
                throw new RejectedExecutionException("all 16 relay-io threads are busy (test)");
            }
            job.run();
        });
        unacknowledgedData();
        full.set(true);

        heartbeatDue();

        Session s = awaitClosed();
        assertEquals("no thread free for its send job: all 16 relay-io threads are busy (test)", s.closeReason());
        logs.await(WAIT, "a WARN naming the full pool", Level.WARN,
                m -> m.contains("session t") && m.contains("relay-io threads are busy"));
        assertTrue(errors().isEmpty(), "a limit reached is no internal error: " + errors());
    }

    @Test
    void aSessionWhoseThreadsCannotAllStartClosesAndSaysWhy() throws Exception {
        Link l = new Link(link[0]);
        TestKeys.asClient(l);
        links.add(new Attachment(l, 0, 1 << 16));
        session = new Session("session t", "test-session", app[0], SETTINGS, s -> links.take(), true, closed::add,
                now::get, Runnable::run, Metrics.unshared("cproxy"));
        OutOfMemoryError oom = new OutOfMemoryError("unable to create native thread (test)");
        try (Threads.Restore r = Threads.interpose(next -> (name, body) -> {
            if (name.endsWith("-app-in")) {
                throw oom;
            }
            return next.start(name, body);
        })) {
            OutOfMemoryError thrown = assertThrows(OutOfMemoryError.class, session::start);
            assertEquals(oom, thrown, "the caller still hears of it");
        }

        Session s = awaitClosed();
        assertTrue(s.closeReason().startsWith("cannot start its threads: java.lang.OutOfMemoryError"), s.closeReason());
        assertTrue(app[0].wasReset(), "the application connection is not left open with nobody reading it");
    }
}
