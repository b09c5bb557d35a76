package net.roamproxy.hardening;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import net.roamproxy.link.LinkSettings;
import net.roamproxy.protocol.Frame;
import net.roamproxy.protocol.FrameType;
import net.roamproxy.protocol.Handshake.Mode;
import net.roamproxy.protocol.Handshake.Status;
import net.roamproxy.protocol.Handshake;
import net.roamproxy.testkit.AppClient;
import net.roamproxy.testkit.Await;
import net.roamproxy.testkit.Closer;
import net.roamproxy.testkit.RawLink;
import net.roamproxy.testkit.EchoServer;
import net.roamproxy.testkit.FaultyRelay;
import net.roamproxy.testkit.Rig;
import net.roamproxy.testkit.Streams;

/**
 * A stranger who knows (or guesses) a session id, or holds a stale or another session's
 * credential, tries to resume a live session. sproxy answers UNKNOWN_SESSION, the same for
 * every case, and the live session is untouched: its link is not replaced (the relay sees no
 * new connection from cproxy) and its stream stays byte-exact.
 */
@Timeout(30)
class ResumeHijackTest {
    /** Raw clients send no heartbeats: 200 ms leaves them 600 ms per exchange. */
    private static final LinkSettings LINK = Rig.link(Duration.ofMillis(200));

    @RegisterExtension final Closer closer = new Closer();

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** A live session through cproxy whose echo has been seen; returns its id at sproxy. */
    private static long liveSession(Rig rig, AppClient app, ByteArrayOutputStream sent) throws Exception {
        byte[] hello = Streams.pseudoRandom(41, 50_000);
        app.write(hello);
        sent.write(hello);
        awaitEcho(rig, app, sent.toByteArray());
        Set<Long> ids = rig.sproxy().sessionIds();
        assertEquals(1, ids.size(), "one live session: " + ids);
        return ids.iterator().next();
    }

    private static void awaitEcho(Rig rig, AppClient app, byte[] expected) throws InterruptedException {
        Await.until(rig.flowDeadline(), () -> app + " echo of " + expected.length + " bytes, got " + app.receivedCount(),
                () -> app.receivedCount() >= expected.length);
        Streams.assertSameStream(app + " echo", expected, app.received());
    }

    /** Presents a credential for {@code id}; asserts the refusal and that the connection is closed. */
    private static void assertRefused(Rig rig, long id, byte[] secret, String what) throws Exception {
        try (RawLink raw = RawLink.connect(rig.sproxyPort())) {
            raw.hello(Mode.RESUME, id, secret, 0);
            RawLink.Welcome w = raw.welcome(rig.flowDeadline());
            assertEquals(Status.UNKNOWN_SESSION, w.status(), what);
            assertFalse(w.status().accepted(), what);
            assertTrue(raw.closedByPeerWithin(rig.flowDeadline()), what + ": sproxy closes the connection");
        }
    }

    @Test
    void resumeWithTheRightIdButAWrongSecretIsRefusedAndNeverDisturbsTheLiveLink() throws Exception {
        EchoServer echo = closer.add(new EchoServer());
        Rig rig = closer.add(Rig.with(LINK, echo.port()).start());
        AppClient app = rig.openApp();
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        long id = liveSession(rig, app, sent);
        FaultyRelay relay = rig.relay();
        int dialled = relay.connectionsAccepted();
        List<FaultyRelay.Connection> links = relay.forwardingConnections();
        assertEquals(1, links.size());

        SplittableRandom rnd = new SplittableRandom(4242);
        List<byte[]> guesses = new ArrayList<>();
        guesses.add(new byte[Handshake.SECRET_SIZE]);
        guesses.add(Hostile.filled(Handshake.SECRET_SIZE, 0xff));
        for (int i = 0; i < 20; i++) {
            byte[] g = new byte[Handshake.SECRET_SIZE];
            rnd.nextBytes(g);
            guesses.add(g);
        }
        for (byte[] guess : guesses) {
            assertRefused(rig, id, guess, "resume of the live session with a guessed secret");
        }
        // Bytes keep flowing over the same link, and none is lost or doubled.
        byte[] more = Streams.pseudoRandom(42, 200_000);
        app.write(more);
        sent.write(more);
        awaitEcho(rig, app, sent.toByteArray());

        assertEquals(dialled, relay.connectionsAccepted(), "cproxy never had to dial again");
        assertEquals(links.get(0).id(), relay.forwardingConnections().get(0).id(), "the same link carries the session");
        assertTrue(links.get(0).isForwarding(), "the live link was never closed");
        assertEquals(1, echo.connectionsAccepted());
        // The echo server counts after it writes: wait for the count, then make sure it is exact.
        Await.until(rig.flowDeadline(), "the target's count", () -> echo.connection(0).bytesEchoed() >= sent.size());
        assertEquals(sent.size(), echo.connection(0).bytesEchoed(), "the target got each byte once");
        assertEquals(Set.of(id), rig.sproxy().sessionIds());
        assertFalse(app.ended().isDone());
    }

    @Test
    void resumeOfAnUnknownIdIsRefusedWithTheSameAnswerAsAWrongSecret() throws Exception {
        EchoServer echo = closer.add(new EchoServer());
        Rig rig = closer.add(Rig.with(LINK, echo.port()).start());
        AppClient app = rig.openApp();
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        long id = liveSession(rig, app, sent);
        int dialled = rig.relay().connectionsAccepted();

        SplittableRandom rnd = new SplittableRandom(4343);
        for (int i = 0; i < 10; i++) {
            long guess = rnd.nextLong();
            if (guess != id) {
                byte[] secret = new byte[Handshake.SECRET_SIZE];
                rnd.nextBytes(secret);
                assertRefused(rig, guess, secret, "resume of an unknown session id");
            }
        }
        assertRefused(rig, id + 1, new byte[Handshake.SECRET_SIZE], "resume of a neighbouring id");
        assertRefused(rig, 0, new byte[Handshake.SECRET_SIZE], "resume of id 0");

        byte[] more = ascii("still here");
        app.write(more);
        sent.write(more);
        awaitEcho(rig, app, sent.toByteArray());
        assertEquals(dialled, rig.relay().connectionsAccepted(), "cproxy never had to dial again");
        assertEquals(1, echo.connectionsAccepted());
    }

    @Test
    void anotherSessionsCredentialOrAStaleOneCannotResumeTheLiveSession() throws Exception {
        EchoServer echo = closer.add(new EchoServer());
        Rig rig = closer.add(Rig.with(LINK, echo.port()).start());
        AppClient app = rig.openApp();
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        long victim = liveSession(rig, app, sent);
        int dialled = rig.relay().connectionsAccepted();

        // The attacker opens a session of its own: it learns a real secret, just not the victim's.
        RawLink own = closer.add(RawLink.connect(rig.sproxyPort()));
        own.hello(Mode.NEW, 0, new byte[Handshake.SECRET_SIZE], 0);
        RawLink.Welcome mine = own.welcome(rig.flowDeadline());
        assertEquals(Status.NEW_SESSION, mine.status());
        long ownId = mine.handshake().sessionId();
        byte[] ownSecret = mine.handshake().secret();
        assertEquals(Handshake.SECRET_SIZE * 8, ownSecret.length * 8, "a 128-bit credential");
        assertFalse(Arrays.equals(new byte[Handshake.SECRET_SIZE], ownSecret), "a credential that is not all zeros");
        assertNotEquals(victim, ownId);

        assertRefused(rig, victim, ownSecret, "resume of the victim's id with another session's secret");

        // End the attacker's own session cleanly; its credential is now stale.
        byte[] ping = ascii("x");
        own.send(new Frame(FrameType.DATA, 0, 0, ping));
        ByteArrayOutputStream echoed = new ByteArrayOutputStream();
        HostileHostTest.readEcho(own, echoed, 1, rig.flowDeadline());
        // Half-close: our END, the target's END back (the echo server closes after our EOF),
        // and our ack of it, which ends both directions.
        own.send(Frame.control(FrameType.END, 1, 1));
        Frame end = own.readSkippingControl(rig.flowDeadline());
        assertEquals(FrameType.END, end.type(), "sproxy relays the target's end: " + end);
        own.send(Frame.control(FrameType.ACK, 2, end.seq() + 1));
        Await.until(rig.flowDeadline(), "the attacker's session ends at sproxy",
                () -> !rig.sproxy().sessionIds().contains(ownId));
        assertRefused(rig, ownId, ownSecret, "resume of an ended session with its own, now stale, credential");

        byte[] more = ascii("untouched");
        app.write(more);
        sent.write(more);
        awaitEcho(rig, app, sent.toByteArray());
        assertEquals(dialled, rig.relay().connectionsAccepted(), "cproxy never had to dial again");
        assertEquals(Set.of(victim), rig.sproxy().sessionIds());
    }
}
