package net.roamproxy.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import net.roamproxy.session.LinkSettings;
import net.roamproxy.testkit.Await;
import net.roamproxy.testkit.Closer;
import net.roamproxy.testkit.EchoServer;
import net.roamproxy.testkit.LogCapture;
import net.roamproxy.testkit.RawLink;
import net.roamproxy.testkit.Rig;
import net.roamproxy.wire.Frame;
import net.roamproxy.wire.FrameType;
import net.roamproxy.wire.Hello;
import net.roamproxy.wire.KeyShare;
import net.roamproxy.wire.Wire;

/**
 * Exactly one party may close a link in its handshake: the deadline timer, or the handshake
 * that hands it to a session. A slow target connect happens after the handshake has claimed
 * the link, so the deadline can never reset a link that a session owns; and sproxy's shutdown
 * cannot miss a session that a handshake was still creating.
 */
@Timeout(30)
class HandshakeOwnershipTest {
    private static final Duration HEARTBEAT = Duration.ofMillis(50);
    /** Handshake timeout: 6 heartbeats. */
    private static final LinkSettings LINK = Rig.link(HEARTBEAT, LinkSettings.DEFAULT_BUFFER_BYTES, 6, 600);
    private static final Duration DEADLINE = Duration.ofSeconds(10);

    @RegisterExtension final Closer closer = new Closer();
    @RegisterExtension final LogCapture logs = LogCapture.closedBy(closer);

    /** A connector that waits until released, then connects. */
    private static final class HeldConnector implements TargetConnector {
        final CountDownLatch entered = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);

        @Override
        public Socket connect(InetSocketAddress target, int timeoutMillis) throws IOException {
            entered.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                throw new IOException("interrupted");
            }
            return PLAIN.connect(target, timeoutMillis);
        }
    }

    private ServerProxy sproxy(int targetPort, TargetConnector connector) throws IOException {
        ServerProxy s = new ServerProxy(new ServerConfig(InetAddress.getLoopbackAddress(), 0, "127.0.0.1", targetPort,
                LINK), connector);
        s.start();
        return closer.add(s);
    }

    @Test
    void aTargetConnectSlowerThanTheHandshakeTimeoutStillYieldsOneWorkingSession() throws Exception {
        EchoServer echo = closer.add(new EchoServer());
        HeldConnector connector = new HeldConnector();
        ServerProxy sproxy = sproxy(echo.port(), connector);
        RawLink raw = closer.add(RawLink.connect(sproxy.port()));
        CompletableFuture<RawLink.Credentials> opening = open(raw);
        assertTrue(connector.entered.await(DEADLINE.toMillis(), TimeUnit.MILLISECONDS), "the target connect started");

        // Twice the handshake timeout passes while the target connect hangs: the link is the
        // handshake's now (cproxy's PROOF checked out), so the deadline must leave it alone.
        assertThrows(TimeoutException.class, () -> opening.get(LINK.handshakeTimeout().toMillis() * 2,
                TimeUnit.MILLISECONDS), "the handshake deadline reset a link that was about to become a session's");
        connector.release.countDown();

        opening.get(DEADLINE.toMillis(), TimeUnit.MILLISECONDS);
        byte[] hi = "hi".getBytes(StandardCharsets.US_ASCII);
        raw.sendSealed(FrameType.DATA, 0, 0, hi);
        Frame echoed = raw.readSkippingControl(DEADLINE);
        assertEquals(FrameType.DATA, echoed.type());
        assertArrayEquals(hi, echoed.payload());
        assertEquals(1, sproxy.sessionCount());
        assertEquals(1, echo.connectionsAccepted(), "one session, one target connection: no orphan");
    }

    @Test
    void closingSproxyWhileAHandshakeConnectsItsTargetLeavesNoSessionBehind() throws Exception {
        EchoServer echo = closer.add(new EchoServer());
        HeldConnector connector = new HeldConnector();
        ServerProxy sproxy = sproxy(echo.port(), connector);
        RawLink raw = closer.add(RawLink.connect(sproxy.port()));
        CompletableFuture<RawLink.Credentials> opening = open(raw);
        assertTrue(connector.entered.await(DEADLINE.toMillis(), TimeUnit.MILLISECONDS), "the target connect started");

        sproxy.close();
        connector.release.countDown();

        Await.until(DEADLINE, "the target was connected", () -> echo.connectionsAccepted() == 1);
        Await.done(echo.connection(0).ended(), DEADLINE, "the late target connection is closed");
        assertEquals(0, sproxy.sessionCount(), "no session created after shutdown");
        assertThrows(ExecutionException.class, () -> opening.get(DEADLINE.toMillis(), TimeUnit.MILLISECONDS),
                "the link is closed before sproxy's TOKEN");
    }

    @Test
    void aClearFrameWhereTheProofMustComeCostsOnlyThatConnection() throws Exception {
        EchoServer echo = closer.add(new EchoServer());
        ServerProxy sproxy = sproxy(echo.port(), TargetConnector.PLAIN);
        RawLink raw = closer.add(RawLink.connect(sproxy.port()));
        raw.helloNew();
        assertEquals(FrameType.WELCOME, raw.read(DEADLINE).type());

        raw.sendRaw(Wire.encode(new Frame(FrameType.HELLO, 0, 0,
                Hello.forNew(KeyShare.generate().publicKey(), RawLink.WINDOW, "").encode())));

        assertTrue(raw.closedByPeerWithin(DEADLINE), "the connection is closed");
        // The reason names the peer's mistake: the handshake did not just run into its deadline.
        logs.await(DEADLINE, "a WARN naming the peer and what was wrong", Level.WARN,
                m -> m.contains(raw.peerName()) && m.contains("expected a PROOF, got HELLO"));
        assertEquals(0, sproxy.sessionCount());
        assertEquals(0, echo.connectionsAccepted(), "no service connection");
    }

    /** The new-session handshake, run on another thread: it waits for sproxy's TOKEN while the target connect hangs. */
    private static CompletableFuture<RawLink.Credentials> open(RawLink raw) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return raw.openSession(DEADLINE);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }
}
