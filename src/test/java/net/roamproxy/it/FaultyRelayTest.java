package net.roamproxy.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import net.roamproxy.testkit.AppClient;
import net.roamproxy.testkit.Await;
import net.roamproxy.testkit.Closer;
import net.roamproxy.testkit.EchoServer;
import net.roamproxy.testkit.FaultyRelay;
import net.roamproxy.testkit.Pacer;
import net.roamproxy.testkit.StreamServer;
import net.roamproxy.testkit.Streams;

/** The fault-injecting relay on its own, between a test client and a test target. */
@Timeout(30)
class FaultyRelayTest {
    /** Upper bound for things that should happen at once on loopback. */
    private static final Duration SOON = Duration.ofSeconds(5);
    /** How long "nothing arrives" is watched for; only used to assert an absence. */
    private static final Duration QUIET = Duration.ofMillis(300);

    @RegisterExtension final Closer closer = new Closer();

    private <T extends AutoCloseable> T use(T resource) {
        return closer.add(resource);
    }

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    private static void awaitEcho(AppClient app, byte[] expected) throws InterruptedException {
        Await.until(SOON, () -> app + " echo of " + expected.length + " bytes, got " + app.receivedCount(),
                () -> app.receivedCount() >= expected.length);
        Streams.assertSameStream(app + " echo", expected, app.received());
    }

    @Test
    void forwardsBytesBothWaysUnchangedAndCountsThem() throws Exception {
        EchoServer echo = use(new EchoServer());
        FaultyRelay relay = use(FaultyRelay.start(echo.port()));
        AppClient app = use(AppClient.connect("a", relay.port()));
        byte[] data = Streams.pseudoRandom(1, 300_000);

        app.write(data);

        awaitEcho(app, data);
        assertEquals(1, relay.connectionsAccepted());
        assertEquals(data.length, relay.bytesForwardedUpstream());
        assertEquals(data.length, relay.bytesForwardedDownstream());
        assertEquals(2L * data.length, relay.bytesForwarded());
        assertEquals(1, relay.forwardingConnections().size());
    }

    @Test
    void propagatesAnOrderlyCloseAsAHalfClose() throws Exception {
        EchoServer echo = use(new EchoServer());
        FaultyRelay relay = use(FaultyRelay.start(echo.port()));
        try (Socket s = new Socket(InetAddress.getLoopbackAddress(), relay.port())) {
            s.getOutputStream().write(ascii("bye"));
            s.shutdownOutput();
            s.setSoTimeout((int) SOON.toMillis());

            byte[] back = s.getInputStream().readAllBytes(); // the echo, then EOF

            assertArrayEquals(ascii("bye"), back);
        }
        assertTrue(Await.done(echo.connection(0).ended(), SOON, "target sees EOF"), "orderly EOF at the target");
        Await.until(SOON, "relay forgets the closed pair", () -> relay.openConnections().isEmpty());
    }

    @Test
    void cutResetsBothEndsOfEveryForwardingConnection() throws Exception {
        EchoServer echo = use(new EchoServer());
        FaultyRelay relay = use(FaultyRelay.start(echo.port()));
        AppClient a = use(AppClient.connect("a", relay.port()));
        AppClient b = use(AppClient.connect("b", relay.port()));
        a.write(ascii("one"));
        b.write(ascii("two"));
        awaitEcho(a, ascii("one"));
        awaitEcho(b, ascii("two"));

        assertEquals(2, relay.cut());

        assertFalse(Await.done(a.ended(), SOON, "a sees the cut"), "a is reset, not closed");
        assertFalse(Await.done(b.ended(), SOON, "b sees the cut"), "b is reset, not closed");
        for (EchoServer.Conn c : echo.connections()) {
            assertFalse(Await.done(c.ended(), SOON, "target connection " + c.id() + " sees the cut"),
                    "target connection " + c.id() + " is reset, not closed");
        }
        assertEquals(2, relay.connectionsCut());
        assertEquals(1, relay.cuts());
        assertEquals(0, relay.cut(), "nothing left to cut");

        AppClient c = use(AppClient.connect("c", relay.port()));
        c.write(ascii("three"));
        awaitEcho(c, ascii("three"));
    }

    @Test
    void cutAfterDeliversExactlyThatManyBytesThenResets() throws Exception {
        StreamServer sink = use(new StreamServer(0, 0, false, Pacer.NONE));
        FaultyRelay relay = use(FaultyRelay.start(sink.port()));
        AppClient app = use(AppClient.connect("a", relay.port()));
        Await.until(SOON, "target connection", () -> sink.connectionsAccepted() == 1);
        byte[] data = Streams.pseudoRandom(2, 100_000);

        var fired = relay.cutAfter(12_345);
        app.write(data);

        assertEquals(1, Await.done(fired, SOON, "armed cut fires"));
        StreamServer.Conn target = sink.connection(0);
        assertFalse(Await.done(target.ended(), SOON, "target sees the reset"), "target is reset");
        assertEquals(12_345, target.receivedCount());
        Streams.assertSameStream("bytes before the cut", Arrays.copyOf(data, 12_345), target.received());
        assertFalse(relay.cancelCutAfter(), "a fired cut is no longer armed");
    }

    @Test
    void cancelledCutAfterNeverFires() throws Exception {
        EchoServer echo = use(new EchoServer());
        FaultyRelay relay = use(FaultyRelay.start(echo.port()));
        AppClient app = use(AppClient.connect("a", relay.port()));
        var fired = relay.cutAfter(1_000_000);
        assertThrows(IllegalStateException.class, () -> relay.cutAfter(1));

        assertTrue(relay.cancelCutAfter());
        byte[] data = Streams.pseudoRandom(3, 2_000_000);
        app.write(data);

        awaitEcho(app, data);
        assertTrue(fired.isCompletedExceptionally(), "a cancelled cut completes exceptionally");
        assertEquals(0, relay.cuts());
    }

    @Test
    void blackholeStopsBytesWithoutClosingEitherEnd() throws Exception {
        EchoServer echo = use(new EchoServer());
        FaultyRelay relay = use(FaultyRelay.start(echo.port()));
        AppClient app = use(AppClient.connect("a", relay.port()));
        app.write(ascii("before"));
        awaitEcho(app, ascii("before"));
        // The relay counts a chunk just after writing it on, so the app may see it first.
        assertTrue(Await.poll(SOON, () -> relay.bytesForwarded() == 12), "both copies of 'before' counted");
        long forwarded = relay.bytesForwarded();

        relay.blackhole();
        app.write(ascii("during"));

        assertFalse(Await.poll(QUIET, () -> app.receivedCount() > 6 || echo.connection(0).bytesEchoed() > 6),
                "no byte crosses a black hole");
        assertEquals(forwarded, relay.bytesForwarded());
        assertFalse(app.ended().isDone(), "the client end is not closed");
        assertFalse(echo.connection(0).ended().isDone(), "the target end is not closed");
        List<FaultyRelay.Connection> open = relay.openConnections();
        assertEquals(1, open.size());
        assertTrue(open.get(0).isBlackholed());
        assertTrue(relay.forwardingConnections().isEmpty());
    }

    @Test
    void connectionsAcceptedWhileBlackHolingAreSilent() throws Exception {
        EchoServer echo = use(new EchoServer());
        FaultyRelay relay = use(FaultyRelay.start(echo.port()));
        relay.blackhole();

        AppClient app = use(AppClient.connect("a", relay.port()));
        app.write(ascii("hello?"));

        Await.until(SOON, "relay accepts", () -> relay.connectionsAccepted() == 1);
        Await.until(SOON, "target end connected", () -> echo.connectionsAccepted() == 1);
        assertFalse(Await.poll(QUIET, () -> app.receivedCount() > 0 || echo.connection(0).bytesEchoed() > 0),
                "no byte crosses a black hole");
        assertFalse(app.ended().isDone());
        assertTrue(relay.openConnections().get(0).isBlackholed());
    }

    @Test
    void restoreForwardsNewConnectionsWhileBlackHoledOnesStayDead() throws Exception {
        EchoServer echo = use(new EchoServer());
        FaultyRelay relay = use(FaultyRelay.start(echo.port()));
        AppClient old = use(AppClient.connect("old", relay.port()));
        old.write(ascii("x"));
        awaitEcho(old, ascii("x"));
        relay.blackhole();

        relay.restore();
        AppClient fresh = use(AppClient.connect("fresh", relay.port()));
        fresh.write(ascii("new path"));
        old.write(ascii("old path"));

        awaitEcho(fresh, ascii("new path"));
        assertFalse(Await.poll(QUIET, () -> old.receivedCount() > 1), "the old path never comes back");
        assertFalse(old.ended().isDone(), "and it is not closed either");
        assertEquals(2, relay.openConnections().size());
        assertEquals(1, relay.cut(), "cut resets only the forwarding pair");
        assertFalse(Await.done(fresh.ended(), SOON, "fresh sees the cut"));
        assertFalse(Await.poll(QUIET, () -> old.ended().isDone()), "the black-holed pair is not cut");
    }

    @Test
    void anEndGivingUpOnABlackHoledConnectionIsSeenButNotPropagated() throws Exception {
        EchoServer echo = use(new EchoServer());
        FaultyRelay relay = use(FaultyRelay.start(echo.port()));
        AppClient app = use(AppClient.connect("a", relay.port()));
        app.write(ascii("x"));
        awaitEcho(app, ascii("x"));
        FaultyRelay.Connection link = relay.forwardingConnections().get(0);
        relay.blackhole();

        app.close();

        Await.done(link.clientGone(), SOON, "relay sees the client end go");
        assertFalse(Await.poll(QUIET, () -> echo.connection(0).ended().isDone()),
                "the target end hears nothing of it");
        assertFalse(link.targetGone().isDone());
    }

    @Test
    void closeResetsConnectionsAndStopsEveryRelayThread() throws Exception {
        EchoServer echo = use(new EchoServer());
        FaultyRelay relay = use(FaultyRelay.start(echo.port()));
        AppClient app = use(AppClient.connect("a", relay.port()));
        app.write(ascii("x"));
        awaitEcho(app, ascii("x"));
        int port = relay.port();

        relay.close();

        assertFalse(Await.done(app.ended(), SOON, "client end sees the close"), "reset, not closed");
        assertEquals(List.of(), relay.liveThreads());
        assertThrows(IOException.class, () -> new Socket(InetAddress.getLoopbackAddress(), port).close());
        relay.close(); // idempotent
    }
}
