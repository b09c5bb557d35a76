package net.roamproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import net.roamproxy.session.LinkSettings;
import net.roamproxy.testkit.AppClient;
import net.roamproxy.testkit.Await;
import net.roamproxy.testkit.Chaos;
import net.roamproxy.testkit.Closer;
import net.roamproxy.testkit.EchoServer;
import net.roamproxy.testkit.FaultyRelay;
import net.roamproxy.testkit.Pacer;
import net.roamproxy.testkit.Rig;
import net.roamproxy.testkit.StreamServer;
import net.roamproxy.testkit.Streams;

/**
 * The link breaks (reset, or silence as when the client's address is removed) and the
 * session carries on: both directions arrive byte-exact, nothing lost and nothing twice, and
 * the target never sees a second connection.
 */
@Timeout(60)
class LinkRecoveryTest {
    /** Fast enough for hundreds of cuts; every timing below is a multiple of it. */
    private static final LinkSettings CHAOS_LINK = Rig.link(Duration.ofMillis(50));
    private static final LinkSettings LINK = Rig.link(Duration.ofMillis(100));
    private static final int CHUNK = 16 * 1024;

    @RegisterExtension final Closer closer = new Closer();

    /** A pacer that forwards to whatever is set later (the chaos needs the chain, the chain the target). */
    private static Pacer deferred(AtomicReference<Pacer> pacer) {
        return (offset, total) -> pacer.get().beforeChunk(offset, total);
    }

    @Test
    void sessionSurvivesTwoHundredCutsWithByteExactStreamsBothWays() throws Exception {
        int downBytes = 4 << 20;
        int upBytes = 4 << 20;
        AtomicReference<Pacer> pace = new AtomicReference<>(Pacer.NONE);
        StreamServer target = closer.add(new StreamServer(downBytes, 7, false, deferred(pace)));
        Rig chain = closer.add(Rig.with(CHAOS_LINK, target.port()).start());
        Chaos chaos = closer.add(new Chaos(chain, 42, 210, Set.of(40, 110, 170), 1, 16 * 1024));
        pace.set(chaos.pacer(8));
        AppClient app = chain.openApp();
        byte[] upstream = Streams.pseudoRandom(1001, upBytes);
        // The first handshake is not under test here: start breaking things once the session is up.
        Await.until(chain.flowDeadline(), "session established",
                () -> target.connectionsAccepted() == 1 && app.receivedCount() > 0);
        long started = System.nanoTime();

        chaos.start();
        app.writeInBackground(upstream, CHUNK, chaos.pacer(8));

        Await.done(chaos.finished(), Duration.ofSeconds(45), "chaos: " + chaos);
        StreamServer.Conn conn = target.connection(0);
        Await.until(chain.relinkDeadline().plus(chain.flowDeadline()),
                () -> "both streams complete after " + chaos + ": downstream " + app.receivedCount() + "/"
                        + downBytes + ", upstream " + conn.receivedCount() + "/" + upBytes,
                () -> app.receivedCount() >= downBytes && conn.receivedCount() >= upBytes);
        Await.done(app.written(), chain.flowDeadline(), "application wrote its stream");
        assertFalse(Await.poll(chain.intervals(5),
                        () -> app.receivedCount() > downBytes || conn.receivedCount() > upBytes),
                "no byte arrives twice after the end of either stream");

        Streams.assertSameStream("downstream (target to application)", conn.stream(), app.received());
        Streams.assertSameStream("upstream (application to target)", upstream, conn.received());
        assertEquals(1, target.connectionsAccepted(), "the session was resumed every time, never recreated");
        assertTrue(chaos.cuts() >= 200, "cuts made: " + chaos);
        assertEquals(3, chaos.blackholes(), "black holes: " + chaos);
        assertFalse(app.ended().isDone(), "the application connection stays open");
        System.out.printf("sessionSurvivesTwoHundredCuts: %s in %d ms%n", chaos,
                (System.nanoTime() - started) / 1_000_000);
    }

    @Test
    void blackHoledLinkIsDetectedAndResumed() throws Exception {
        EchoServer echo = closer.add(new EchoServer());
        Rig chain = closer.add(Rig.with(LINK, echo.port()).start());
        FaultyRelay relay = chain.relay();
        AppClient app = chain.openApp();
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        byte[] before = Streams.pseudoRandom(11, 20_000);
        app.write(before);
        sent.write(before);
        awaitEcho(chain, app, sent.toByteArray(), chain.flowDeadline());
        List<FaultyRelay.Connection> links = relay.forwardingConnections();
        assertEquals(1, links.size(), "one link for one session");
        FaultyRelay.Connection link = links.get(0);
        int dialled = relay.connectionsAccepted();

        relay.blackhole();
        byte[] during = Streams.pseudoRandom(12, 20_000);
        app.write(during);
        sent.write(during);

        Await.done(link.clientGone(), chain.noticeDeadline(), "cproxy gives up on the silent link");
        Await.done(link.targetGone(), chain.noticeDeadline(), "sproxy gives up on the silent link");
        Await.until(chain.noticeDeadline(), "cproxy dials again", () -> relay.connectionsAccepted() > dialled);
        assertEquals(0, echo.connection(0).bytesEchoed() - before.length, "nothing crossed the black hole");

        relay.restore();
        byte[] after = Streams.pseudoRandom(13, 20_000);
        app.write(after);
        sent.write(after);

        awaitEcho(chain, app, sent.toByteArray(), chain.relinkDeadline().plus(chain.flowDeadline()));
        byte[] marker = "END".getBytes(StandardCharsets.US_ASCII);
        app.write(marker);
        sent.write(marker);
        awaitEcho(chain, app, sent.toByteArray(), chain.flowDeadline());
        assertEquals(1, echo.connectionsAccepted(), "the session was resumed, not recreated");
        assertFalse(echo.connection(0).ended().isDone(), "the target connection stays open");
    }

    @Test
    void severalConcurrentSessionsStayIndependent() throws Exception {
        int sessions = 5;
        int bytes = 512 * 1024;
        AtomicReference<Pacer> pace = new AtomicReference<>(Pacer.NONE);
        StreamServer target = closer.add(new StreamServer(bytes, 500, false, deferred(pace)));
        Rig chain = closer.add(Rig.with(CHAOS_LINK, target.port()).start());
        Chaos chaos = closer.add(new Chaos(chain, 43, 40, Set.of(20), sessions, 16 * 1024));
        pace.set(chaos.pacer(4));
        List<AppClient> apps = new ArrayList<>();
        List<byte[]> upstreams = new ArrayList<>();
        for (int i = 0; i < sessions; i++) {
            apps.add(chain.openApp());
            upstreams.add(Streams.pseudoRandom(2000 + i, bytes));
        }
        Await.until(chain.flowDeadline(), "all sessions established", () -> target.connectionsAccepted() == sessions
                && apps.stream().allMatch(a -> a.receivedCount() > 0));

        chaos.start();
        for (int i = 0; i < sessions; i++) {
            apps.get(i).writeInBackground(upstreams.get(i), CHUNK, chaos.pacer(4));
        }

        Await.done(chaos.finished(), Duration.ofSeconds(40), "chaos: " + chaos);
        Await.until(chain.relinkDeadline().plus(chain.flowDeadline()), () -> "all streams complete after " + chaos,
                () -> apps.stream().allMatch(a -> a.receivedCount() >= bytes)
                        && target.connections().stream().allMatch(c -> c.receivedCount() >= bytes));
        assertEquals(sessions, target.connectionsAccepted(), "one target connection per session, never more");
        List<StreamServer.Conn> unmatched = new ArrayList<>(target.connections());
        for (int i = 0; i < sessions; i++) {
            byte[] up = upstreams.get(i);
            byte[] prefix = Arrays.copyOf(up, 64);
            StreamServer.Conn conn = unmatched.stream().filter(c -> c.receivedStartsWith(prefix)).findFirst()
                    .orElseThrow(() -> new AssertionError("no target connection received the start of session's stream"));
            unmatched.remove(conn);
            AppClient app = apps.get(i);
            Streams.assertSameStream(app + " upstream", up, conn.received());
            Streams.assertSameStream(app + " downstream", conn.stream(), app.received());
        }
        assertTrue(chaos.cuts() >= 40, "cuts made: " + chaos);
        System.out.printf("severalConcurrentSessions: %s%n", chaos);
    }

    private static void awaitEcho(Rig chain, AppClient app, byte[] expected, Duration deadline)
            throws InterruptedException {
        Await.until(deadline, () -> app + " echo of " + expected.length + " bytes, got " + app.receivedCount()
                        + " (relay: " + chain.relay().connectionsAccepted() + " connections)",
                () -> app.receivedCount() >= expected.length);
        Streams.assertSameStream(app + " echo", expected, app.received());
    }
}
