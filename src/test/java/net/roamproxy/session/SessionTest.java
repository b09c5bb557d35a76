package net.roamproxy.session;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import net.roamproxy.metrics.LinkLoss;
import net.roamproxy.metrics.Metrics;
import net.roamproxy.testkit.Await;
import net.roamproxy.testkit.Closer;
import net.roamproxy.testkit.LogCapture;
import net.roamproxy.testkit.MemorySocket;
import net.roamproxy.testkit.TestKeys;
import net.roamproxy.wire.Frame;
import net.roamproxy.wire.FrameProtection;
import net.roamproxy.wire.FrameReader;
import net.roamproxy.wire.FrameType;
import net.roamproxy.wire.Hello;
import net.roamproxy.wire.KeyShare;
import net.roamproxy.wire.Wire;

/**
 * The session on a fake clock and an inline executor, over in-memory sockets: no network, no
 * sleeps. The test plays the peer proxy frame by frame.
 */
@Timeout(20)
class SessionTest {
    private static final LinkSettings SETTINGS = new LinkSettings(Duration.ofSeconds(10), 3, 1 << 16,
            Duration.ofSeconds(10), Duration.ofMinutes(15));
    private static final long INTERVAL = SETTINGS.heartbeatInterval().toNanos();
    /** Runs the session's send and deliver jobs at once, unless told to hold them. */
    private final HoldingExecutor jobs = new HoldingExecutor();
    private static final long WAIT_MS = 10_000;
    private static final Duration WAIT = Duration.ofMillis(WAIT_MS);

    @RegisterExtension final Closer closer = new Closer();
    @RegisterExtension final LogCapture logs = LogCapture.closedBy(closer);

    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final Provider provider = new Provider();
    private final MemorySocket[] app = MemorySocket.pair();
    private final BlockingQueue<Session> closed = new LinkedBlockingQueue<>();
    private Session session;

    /** Hands out links the test queues; counts how often the session asked. */
    private static final class Provider implements LinkProvider {
        final BlockingQueue<Attachment> links = new LinkedBlockingQueue<>();
        final AtomicInteger asked = new AtomicInteger();
        /** The session's link reader: the thread that asks. */
        volatile Thread asker;

        @Override
        public Attachment next(SessionView s) throws InterruptedException {
            asker = Thread.currentThread();
            asked.incrementAndGet();
            return links.take();
        }
    }

    /** Inline, or, while {@link #hold} is set, queued until the test runs or drops them. */
    private static final class HoldingExecutor implements Executor {
        final BlockingQueue<Runnable> held = new LinkedBlockingQueue<>();
        volatile boolean hold;

        @Override
        public void execute(Runnable job) {
            if (hold) {
                held.add(job);
            } else {
                job.run();
            }
        }
    }

    /** The test's end of a link: the peer proxy. */
    private final class Peer {
        final MemorySocket socket;
        final MemorySocket sessionEnd;
        final FrameReader reader;
        final FrameProtection.Sealer sealer = TestKeys.serverSealer();

        Peer() throws IOException {
            this(FrameProtection.MAX_FRAMES);
        }

        /** A link whose key, at the session's end, may seal only {@code maxFrames} frames. */
        Peer(long maxFrames) throws IOException {
            this(maxFrames, 0);
        }

        /** A link whose handshake said the peer has received {@code peerAck} of our stream. */
        Peer(long maxFrames, long peerAck) throws IOException {
            MemorySocket[] pair = MemorySocket.pair();
            sessionEnd = pair[0];
            socket = pair[1];
            socket.setSoTimeout((int) WAIT_MS);
            reader = new FrameReader(socket.getInputStream());
            reader.protect(TestKeys.serverOpener());
            Link link = new Link(sessionEnd);
            TestKeys.asClient(link, maxFrames);
            provider.links.add(new Attachment(link, peerAck, 1 << 16));
        }

        void send(Frame f) throws IOException {
            socket.getOutputStream().write(TestKeys.seal(sealer, f));
        }

        /** The next frame other than a HEARTBEAT. */
        Frame next() throws IOException {
            Frame f;
            do {
                f = reader.next();
            } while (f.type() == FrameType.HEARTBEAT);
            return f;
        }
    }

    private Session start() throws IOException {
        session = new Session("session t", "test-session", app[0], SETTINGS, provider, true, closed::add, now::get,
                jobs, Metrics.unshared("test"));
        session.start();
        return session;
    }

    /**
     * Starts the session on a new peer's link and waits for the link's reader to block, not just
     * for the link: only then has the session read the clock to place its first heartbeat, which
     * a test's first advance of the clock must pass.
     */
    private Peer startAndAwaitReader() throws Exception {
        Peer peer = new Peer();
        start();
        Await.until(WAIT, "the link's reader waits for frames",
                () -> provider.asked.get() == 1 && peer.sessionEnd.readerWaiting());
        return peer;
    }

    /** Starts the session on a new peer's link and waits until the session has taken it up. */
    private Peer startAndAwaitLink() throws Exception {
        Peer peer = new Peer();
        start();
        Await.until(WAIT, "the link is attached", () -> session.currentLink() != null);
        return peer;
    }

    @AfterEach
    void closeSession() {
        if (session != null) {
            session.close("test over");
        }
    }

    private void advance(long nanos, Peer peer) {
        now.addAndGet(nanos);
        peer.sessionEnd.wakeReader(); // the link reader re-checks its deadlines on the new time
    }

    @Test
    void heartbeatsAndLinkLossFollowTheInjectedClockNotTheWallClock() throws Exception {
        Peer peer = startAndAwaitReader();

        advance(INTERVAL, peer);
        assertEquals(FrameType.HEARTBEAT, peer.reader.next().type(), "a heartbeat one interval later");
        advance(INTERVAL, peer);
        assertEquals(FrameType.HEARTBEAT, peer.reader.next().type());
        assertEquals(1, provider.asked.get(), "two silent intervals are not yet a lost link");

        advance(INTERVAL, peer);

        Await.until(WAIT, "three silent intervals: the link is lost and another requested",
                () -> provider.asked.get() == 2);
        assertTrue(peer.sessionEnd.wasReset(), "a lost link is closed with a reset");
        assertFalse(session.isClosed(), "the session is kept");
    }

    @Test
    void aPeerHeartbeatArrivingWhenOursIsDueSoonIsAnsweredAtOnce() throws Exception {
        Peer peer = startAndAwaitReader();

        // Short of our heartbeat's due time, so only the peer's frame can make the session send one.
        now.addAndGet(INTERVAL / 2);
        peer.send(Frame.control(FrameType.HEARTBEAT, 0, 0));

        assertEquals(FrameType.HEARTBEAT, peer.reader.next().type(), "our heartbeat goes out with the peer's");
    }

    @Test
    void theApplicationsEofBecomesAnEndAfterItsLastByteAndBothEndsCloseTheSessionCleanly() throws Exception {
        Peer peer = new Peer();
        start();
        byte[] abc = "abc".getBytes(StandardCharsets.US_ASCII);
        app[1].getOutputStream().write(abc);
        app[1].shutdownOutput();

        Frame data = peer.next();
        assertEquals(FrameType.DATA, data.type());
        assertArrayEquals(abc, data.payload());
        Frame end = peer.next();
        assertEquals(FrameType.END, end.type());
        assertEquals(3, end.seq(), "the END follows the last byte");
        assertFalse(session.isClosed(), "our direction ended, the other is open");

        byte[] reply = "ok".getBytes(StandardCharsets.US_ASCII);
        peer.send(new Frame(FrameType.DATA, 0, 3, reply));
        peer.send(Frame.control(FrameType.END, 2, 4)); // also acks our END: 3 bytes + 1
        InputStream appIn = app[1].getInputStream();
        app[1].setSoTimeout((int) WAIT_MS);
        assertArrayEquals(reply, appIn.readNBytes(2));
        assertEquals(-1, appIn.read(), "the peer's END reaches the application as EOF");

        Frame ack = peer.next();
        assertEquals(FrameType.ACK, ack.type());
        assertEquals(3, ack.ack(), "2 bytes and the END, acknowledged at once");
        assertThrows(java.io.EOFException.class, peer.reader::next, "then our side of the link ends (FIN)");
        assertFalse(session.isClosed(), "until the peer's FIN");

        peer.socket.shutdownOutput();

        Session s = closed.poll(WAIT_MS, TimeUnit.MILLISECONDS);
        assertTrue(s != null && s.closeReason().contains("both directions ended"), String.valueOf(s));
        assertFalse(app[0].wasReset(), "a clean end closes the application connection without a reset");
        assertFalse(peer.sessionEnd.wasReset(), "and the link too");
    }

    @Test
    void thePeersFinBeforeOurSendJobRanStillGetsOurLastAckAndACleanClose() throws Exception {
        Peer peer = new Peer();
        start();
        app[1].shutdownOutput();
        assertEquals(FrameType.END, peer.next().type(), "our direction ends first");

        // The peer's END (acking ours) is delivered, but the send job that would ack it has not
        // run yet when the peer, done on its side, ends the link: the order a loaded machine gives.
        jobs.hold = true;
        peer.send(Frame.control(FrameType.END, 0, 1));
        while (!session.state.inFinished()) {
            Runnable job = jobs.held.poll(WAIT_MS, TimeUnit.MILLISECONDS);
            assertTrue(job != null, "the peer's END is delivered by a held job");
            job.run();
        }
        app[1].setSoTimeout((int) WAIT_MS);
        assertEquals(-1, app[1].getInputStream().read(), "the peer's END reached the application");
        jobs.held.clear(); // the send job that would ack it never runs
        peer.socket.shutdownOutput();

        Frame ack = peer.next();
        assertEquals(FrameType.ACK, ack.type(), "the ack of the peer's END goes out all the same");
        assertEquals(1, ack.ack());
        assertThrows(java.io.EOFException.class, peer.reader::next, "behind it our FIN, not a reset");
        Session s = closed.poll(WAIT_MS, TimeUnit.MILLISECONDS);
        assertTrue(s != null && s.closeReason().contains("both directions ended"), String.valueOf(s));
        assertFalse(peer.sessionEnd.wasReset(), "the link closed without a reset");
    }

    @Test
    void aKeyAtItsUsageLimitDropsTheLinkAndTheSessionGoesOnOverTheNextWithNothingLost() throws Exception {
        Peer first = new Peer(2);
        start();
        OutputStream toSession = app[1].getOutputStream();
        toSession.write('a');
        assertEquals(FrameType.DATA, first.next().type(), "the key's first frame");
        toSession.write('b');
        assertEquals(FrameType.DATA, first.next().type(), "its second and last");

        toSession.write('c');

        Await.until(WAIT, "the link is dropped and another requested", () -> provider.asked.get() == 2);
        assertTrue(first.sessionEnd.wasReset(), "the link whose key is used up is closed");
        logs.await(WAIT, "the reason", Level.INFO, m -> m.contains("usage limit: resuming with fresh keys"));
        assertFalse(session.isClosed(), "the session is kept");
        Peer second = new Peer();
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        while (got.size() < 3) {
            Frame f = second.next();
            assertEquals(FrameType.DATA, f.type());
            assertEquals(got.size(), f.seq(), "replayed from the peer's ack, in order");
            got.writeBytes(f.payload());
        }
        assertArrayEquals("abc".getBytes(StandardCharsets.US_ASCII), got.toByteArray(), "every byte, once");
    }

    @Test
    void aClearFrameOnAnEstablishedLinkDropsItWithoutItsAckTakingEffect() throws Exception {
        Peer first = new Peer();
        start();
        app[1].getOutputStream().write("abc".getBytes(StandardCharsets.US_ASCII));
        assertEquals(FrameType.DATA, first.next().type());

        // Anyone on the path can write a clear frame; its ack claims all three bytes arrived.
        first.socket.getOutputStream().write(Wire.encode(new Frame(FrameType.HELLO, 0, 3,
                Hello.forNew(KeyShare.generate().publicKey(), 1 << 16, "").encode())));

        Await.until(WAIT, "the link is dropped and another requested", () -> provider.asked.get() == 2);
        Peer second = new Peer();
        Frame replayed = second.next();
        assertEquals(FrameType.DATA, replayed.type(), "the bytes the peer never acknowledged are still there");
        assertArrayEquals("abc".getBytes(StandardCharsets.US_ASCII), replayed.payload());
        assertFalse(session.isClosed(), "the session goes on");
    }

    @Test
    void aLinkWokenFromOutsideIsClosedByTheSessionThatOwnsItAndReplaced() throws Exception {
        Peer peer = startAndAwaitLink();
        Link link = session.currentLink();

        link.abort(LinkLoss.ADDRESS_REMOVED, "local address 192.0.2.2 removed"); // the address watch's thread

        Await.until(WAIT, "another link is requested", () -> provider.asked.get() == 2);
        assertTrue(peer.sessionEnd.wasReset(), "the session closed the dead link");
        assertFalse(session.isClosed(), "and kept the session");
    }

    @Test
    void thePeersAbortResetsTheApplicationConnection() throws Exception {
        Peer peer = startAndAwaitLink();

        peer.send(Frame.control(FrameType.ABORT, 0, 0));

        Session s = closed.poll(WAIT_MS, TimeUnit.MILLISECONDS);
        assertTrue(s != null && s.closeReason().contains("reset its connection"), String.valueOf(s));
        assertTrue(app[0].wasReset(), "the application connection is reset, not closed");
        app[1].setSoTimeout((int) WAIT_MS);
        SocketException e = assertThrows(SocketException.class, () -> app[1].getInputStream().read());
        assertTrue(e.getMessage().contains("reset"), e.getMessage());
    }

    @Test
    void anEndWhoseAckCameOnlyInTheResumeFinishesOurDirectionAndIsNotSentAgain() throws Exception {
        Peer first = new Peer();
        start();
        app[1].shutdownOutput();
        assertEquals(FrameType.END, first.next().type(), "our direction ends");
        assertEquals(SessionState.Stream.FINISHING, session.state.out());

        // The peer got the END, but the frame that acknowledged it was lost with the link.
        session.currentLink().abort(LinkLoss.RESET, "test");
        Await.until(WAIT, "another link is requested", () -> provider.asked.get() == 2);
        Peer second = new Peer(FrameProtection.MAX_FRAMES, 1);
        Await.until(WAIT, "the resume's ack finishes our direction",
                () -> session.state.out() == SessionState.Stream.FINISHED);
        second.send(Frame.control(FrameType.HEARTBEAT, 0, 1)); // the same ack again, on the new link
        assertFalse(session.isClosed(), "the other direction is still open");
        second.send(Frame.control(FrameType.END, 0, 1)); // and once more with the peer's END

        Frame f = second.next();
        assertEquals(FrameType.ACK, f.type(), "the first frame other than a heartbeat acks the peer's END: "
                + "ours is not sent again");
        assertEquals(1, f.ack());
        assertEquals(SessionState.Stream.FINISHED, session.state.out());
        assertThrows(java.io.EOFException.class, second.reader::next, "both directions are over: our FIN");
    }

    @Test
    void aCloseFromAnotherThreadWakesAWorkerWaitingForALink() throws Exception {
        start();
        Await.until(WAIT, "the worker waits for a link", () -> provider.asked.get() == 1);
        Thread worker = provider.asker;

        closeFromAnotherThreadThenAwait(worker);
        assertFalse(worker.isAlive(), "the worker woke and ended");
        assertEquals(1, provider.asked.get(), "without asking for another link");
    }

    @Test
    void aCloseFromAnotherThreadWakesAWorkerReadingItsLink() throws Exception {
        Peer peer = startAndAwaitReader();
        Thread worker = provider.asker;

        closeFromAnotherThreadThenAwait(worker);
        assertFalse(worker.isAlive(), "the worker woke from its read and ended");
        assertTrue(peer.sessionEnd.wasReset(), "the link was closed, not left open");
        assertEquals(1, provider.asked.get(), "and no other link was asked for");
    }

    /** Closes the session from a thread of its own, then gives {@code worker} time to end. */
    private void closeFromAnotherThreadThenAwait(Thread worker) throws InterruptedException {
        Thread closer = new Thread(() -> session.close("closed from elsewhere"));
        closer.start();
        closer.join(WAIT_MS);
        worker.join(WAIT_MS);
    }
}
