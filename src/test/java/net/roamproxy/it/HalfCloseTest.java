package net.roamproxy.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import net.roamproxy.session.LinkSettings;
import net.roamproxy.testkit.AppClient;
import net.roamproxy.testkit.Await;
import net.roamproxy.testkit.Closer;
import net.roamproxy.testkit.EchoServer;
import net.roamproxy.testkit.FaultyRelay;
import net.roamproxy.testkit.HalfCloseServer.Script;
import net.roamproxy.testkit.HalfCloseServer;
import net.roamproxy.testkit.Pacer;
import net.roamproxy.testkit.Rig;
import net.roamproxy.testkit.Streams;

/**
 * TCP half-close through both proxies: each direction ends on its own, the other keeps
 * flowing across cuts and black holes, and the session ends once both have ended. A reset
 * arrives as a reset.
 */
@Timeout(60)
class HalfCloseTest {
    private static final LinkSettings LINK = Rig.link(Duration.ofMillis(50));
    private static final int CHUNK = 16 * 1024;

    @RegisterExtension final Closer closer = new Closer();

    /** A fault on the link while only one direction is still open. */
    enum Outage {
        CUT(FaultyRelay::cut),
        /** The old path goes silent; new links get through. */
        BLACK_HOLE(relay -> {
            relay.blackhole();
            relay.restore();
        });

        private final Consumer<FaultyRelay> start;

        Outage(Consumer<FaultyRelay> start) {
            this.start = start;
        }
    }

    @ParameterizedTest
    @EnumSource(Outage.class)
    void aClientThatShutsDownItsSideStillReceivesTheWholeReply(Outage outage) throws Exception {
        byte[] request = Streams.pseudoRandom(11, 2_000_000);
        byte[] tail = Streams.pseudoRandom(12, 2_000_000);
        HalfCloseServer server = closer.add(new HalfCloseServer(Script.DIGEST_THEN_TAIL, tail));
        Rig rig = closer.add(Rig.with(LINK, server.port()).start());
        AppClient app = rig.openPausedApp();
        var firstCut = rig.relay().cutAfter(1_000_000); // a resume while the request is still flowing

        app.writeInBackground(request, CHUNK, Pacer.NONE);
        Await.done(app.written(), rig.relinkDeadline().plus(rig.flowDeadline()), "the request is written");
        Await.done(firstCut, rig.flowDeadline(), "the link was cut during the request");
        app.shutdownOutput();
        Await.until(rig.relinkDeadline().plus(rig.flowDeadline()), "the server reads the request to its end",
                () -> server.connectionsAccepted() == 1 && server.connection(0).inputEnded().isDone());
        assertTrue(Await.done(server.connection(0).inputEnded(), rig.flowDeadline(), "end of request"),
                "the server sees an orderly EOF");
        // The reply backs up behind the paused application: the half-closed session now loses its link.
        int dialled = rig.relay().connectionsAccepted();
        outage.start.accept(rig.relay());
        Await.until(rig.relinkDeadline(), "cproxy links again",
                () -> rig.relay().connectionsAccepted() > dialled && !rig.relay().forwardingConnections().isEmpty());
        var lastCut = rig.relay().cutAfter(700_000); // and once more while the reply flows
        app.resumeReading();
        Await.done(lastCut, rig.relinkDeadline().plus(rig.flowDeadline()), "the link was cut during the reply");

        assertTrue(Await.done(app.ended(), rig.relinkDeadline().plus(rig.flowDeadline()), "the reply ends"),
                "the application sees an orderly EOF after the reply");
        ByteArrayOutputStream expected = new ByteArrayOutputStream();
        expected.writeBytes(HalfCloseServer.digest(request));
        expected.writeBytes(tail);
        Streams.assertSameStream("digest and tail", expected.toByteArray(), app.received());
        assertArrayEquals(request, server.connection(0).received(), "the server got the request once, whole");
        Await.until(rig.flowDeadline(), "both proxies end the session",
                () -> rig.cproxy().sessionCount() == 0 && rig.sproxy().sessionCount() == 0);
        assertEquals(1, server.connectionsAccepted(), "resumed, never recreated");
    }

    @ParameterizedTest
    @EnumSource(Outage.class)
    void aServerThatShutsDownItsSideStillReceivesEverythingTheClientSends(Outage outage) throws Exception {
        byte[] greeting = Streams.pseudoRandom(21, 200_000);
        byte[] upload = Streams.pseudoRandom(22, 1_000_000);
        HalfCloseServer server = closer.add(new HalfCloseServer(Script.SEND_THEN_READ, greeting));
        Rig rig = closer.add(Rig.with(LINK, server.port()).start());
        AppClient app = rig.openApp();

        assertTrue(Await.done(app.ended(), rig.flowDeadline(), "the server's side ends"),
                "the application reads an orderly EOF while its own side is open");
        Streams.assertSameStream("greeting", greeting, app.received());
        int dialled = rig.relay().connectionsAccepted();
        outage.start.accept(rig.relay());
        Await.until(rig.relinkDeadline(), "cproxy links again",
                () -> rig.relay().connectionsAccepted() > dialled && !rig.relay().forwardingConnections().isEmpty());
        var cut = rig.relay().cutAfter(400_000);
        app.writeInBackground(upload, CHUNK, Pacer.NONE);
        Await.done(app.written(), rig.relinkDeadline().plus(rig.flowDeadline()), "the upload is written");
        Await.done(cut, rig.relinkDeadline().plus(rig.flowDeadline()), "the link was cut during the upload");
        app.shutdownOutput();

        assertTrue(Await.done(server.connection(0).inputEnded(), rig.relinkDeadline().plus(rig.flowDeadline()),
                "the upload ends"), "the server sees an orderly EOF");
        Streams.assertSameStream("upload", upload, server.connection(0).received());
        Await.done(server.connection(0).done(), rig.flowDeadline(), "the server's script completes");
        Await.until(rig.flowDeadline(), "both proxies end the session",
                () -> rig.cproxy().sessionCount() == 0 && rig.sproxy().sessionCount() == 0);
    }

    @Test
    void anApplicationResetArrivesAtTheTargetAsAReset() throws Exception {
        EchoServer echo = closer.add(new EchoServer());
        Rig rig = closer.add(Rig.with(LINK, echo.port()).start());
        AppClient app = rig.openApp();
        app.write("ping".getBytes(StandardCharsets.US_ASCII));
        Await.until(rig.flowDeadline(), "the echo", () -> app.receivedCount() == 4);

        app.reset();

        assertFalse(Await.done(echo.connection(0).ended(), rig.flowDeadline(), "the target connection ends"),
                "the target sees a reset, not an orderly EOF");
        Await.until(rig.flowDeadline(), "both proxies end the session",
                () -> rig.cproxy().sessionCount() == 0 && rig.sproxy().sessionCount() == 0);
    }

    @Test
    void aTargetResetArrivesAtTheApplicationAsAReset() throws Exception {
        byte[] three = "abc".getBytes(StandardCharsets.US_ASCII);
        HalfCloseServer server = closer.add(new HalfCloseServer(Script.RESET_AFTER_READING, three));
        Rig rig = closer.add(Rig.with(LINK, server.port()).start());
        AppClient app = rig.openApp();

        app.write(three);

        assertFalse(Await.done(app.ended(), rig.flowDeadline(), "the application connection ends"),
                "the application sees a reset, not an orderly EOF");
        Await.until(rig.flowDeadline(), "both proxies end the session",
                () -> rig.cproxy().sessionCount() == 0 && rig.sproxy().sessionCount() == 0);
    }

    @Test
    void bothSidesEndingAtOnceEndsTheSessionOnBothProxiesAsTelnetLogoutDoes() throws Exception {
        HalfCloseServer server = closer.add(new HalfCloseServer(Script.DIGEST_THEN_TAIL, new byte[0]));
        Rig rig = closer.add(Rig.with(LINK, server.port()).start());
        AppClient app = rig.openApp();
        byte[] bye = "logout".getBytes(StandardCharsets.US_ASCII);
        app.write(bye);

        app.shutdownOutput();

        assertTrue(Await.done(app.ended(), rig.flowDeadline(), "the application connection ends"), "orderly");
        assertArrayEquals(HalfCloseServer.digest(bye), Arrays.copyOf(app.received(), 32));
        Await.until(rig.flowDeadline(), "both proxies end the session",
                () -> rig.cproxy().sessionCount() == 0 && rig.sproxy().sessionCount() == 0);
    }
}
