package net.roamproxy.hardening;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
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

import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import net.roamproxy.link.LinkSettings;
import net.roamproxy.protocol.Frame;
import net.roamproxy.protocol.FrameType;
import net.roamproxy.protocol.Handshake;
import net.roamproxy.protocol.Handshake.Status;
import net.roamproxy.protocol.SessionKeys;
import net.roamproxy.testkit.AppClient;
import net.roamproxy.testkit.Await;
import net.roamproxy.testkit.Closer;
import net.roamproxy.testkit.EchoServer;
import net.roamproxy.testkit.FaultyRelay;
import net.roamproxy.testkit.LogCapture;
import net.roamproxy.testkit.Rig;
import net.roamproxy.testkit.Streams;

/**
 * A stranger who knows (or guesses) a session id, holds a stale or another session's secret,
 * or replays a resume recorded on the wire, tries to resume a live session. sproxy answers
 * BAD_PROOF for a live session whose proof is wrong and UNKNOWN_SESSION for one that does not
 * exist, and the live session is untouched: its link is not replaced (the relay sees no new
 * connection from cproxy) and its stream stays byte-exact.
 */
@Timeout(30)
class ResumeHijackTest {
    /** Raw clients send no heartbeats: 200 ms leaves them 600 ms per exchange. */
    private static final LinkSettings LINK = Rig.link(Duration.ofMillis(200));

    @RegisterExtension final Closer closer = new Closer();
    @RegisterExtension final LogCapture logs = LogCapture.closedBy(closer);

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

    /** Resumes {@code id} proving {@code secret}; asserts the refusal and that the connection is closed. */
    private static void assertRefused(Rig rig, long id, byte[] secret, Status expected, String what) throws Exception {
        try (RawLink raw = RawLink.connect(rig.sproxyPort())) {
            RawLink.Answer w = raw.resume(id, secret, 0, rig.flowDeadline());
            assertEquals(expected, w.status(), what);
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
        guesses.add(new byte[SessionKeys.SECRET_SIZE]);
        guesses.add(Hostile.filled(SessionKeys.SECRET_SIZE, 0xff));
        for (int i = 0; i < 20; i++) {
            byte[] g = new byte[SessionKeys.SECRET_SIZE];
            rnd.nextBytes(g);
            guesses.add(g);
        }
        for (byte[] guess : guesses) {
            assertRefused(rig, id, guess, Status.BAD_PROOF, "resume of the live session with a guessed secret");
        }
        logs.await(rig.flowDeadline(), "a WARN naming the session and the wrong proof", Level.WARN,
                m -> m.contains(Handshake.idText(id)) && m.contains("proof"));
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
                byte[] secret = new byte[SessionKeys.SECRET_SIZE];
                rnd.nextBytes(secret);
                assertRefused(rig, guess, secret, Status.UNKNOWN_SESSION, "resume of an unknown session id");
            }
        }
        byte[] zeros = new byte[SessionKeys.SECRET_SIZE];
        assertRefused(rig, id + 1, zeros, Status.UNKNOWN_SESSION, "resume of a neighbouring id");
        assertRefused(rig, 0, zeros, Status.UNKNOWN_SESSION, "resume of id 0");

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
        RawLink.Credentials mine = own.openSession(rig.flowDeadline());
        long ownId = mine.id();
        byte[] ownSecret = mine.secret();
        assertFalse(Arrays.equals(new byte[SessionKeys.SECRET_SIZE], ownSecret), "a secret that is not all zeros");
        assertNotEquals(victim, ownId);

        assertRefused(rig, victim, ownSecret, Status.BAD_PROOF, "resume of the victim's id with another session's secret");

        // End the attacker's own session cleanly; its credential is now stale.
        byte[] ping = ascii("x");
        own.send(new Frame(FrameType.DATA, 0, 0, ping));
        ByteArrayOutputStream echoed = new ByteArrayOutputStream();
        HostileHostTest.readEcho(own, echoed, 1, rig.flowDeadline());
        own.send(Frame.control(FrameType.CLOSE, 1, 1));
        Await.until(rig.flowDeadline(), "the attacker's session ends at sproxy",
                () -> !rig.sproxy().sessionIds().contains(ownId));
        assertRefused(rig, ownId, ownSecret, Status.UNKNOWN_SESSION,
                "resume of an ended session with its own, now stale, secret");

        byte[] more = ascii("untouched");
        app.write(more);
        sent.write(more);
        awaitEcho(rig, app, sent.toByteArray());
        assertEquals(dialled, rig.relay().connectionsAccepted(), "cproxy never had to dial again");
        assertEquals(Set.of(victim), rig.sproxy().sessionIds());
    }

    @Test
    void aResumeRecordedOnTheWireAndReplayedFromAnotherSocketIsRefusedAndTheLiveSessionCarriesOn() throws Exception {
        EchoServer echo = closer.add(new EchoServer());
        Rig rig = closer.add(Rig.with(LINK, echo.port()).start());
        Duration wait = rig.flowDeadline();
        // The victim: a session opened and then resumed once, as cproxy does after a roam.
        RawLink first = closer.add(RawLink.connect(rig.sproxyPort()));
        RawLink.Credentials victim = first.openSession(wait);
        first.close();
        RawLink live = closer.add(RawLink.connect(rig.sproxyPort()));
        RawLink.Answer resumed = live.resume(victim.id(), victim.secret(), 0, wait);
        assertEquals(Status.RESUMED, resumed.status());
        byte[] recorded = live.sentBytes(); // what an observer of that link saw cproxy send: HELLO and PROOF

        // The attacker replays those bytes, at once and again after a pause, from its own sockets.
        for (int replay = 1; replay <= 2; replay++) {
            try (RawLink attacker = RawLink.connect(rig.sproxyPort())) {
                attacker.sendRaw(recorded);
                assertEquals(FrameType.CHALLENGE, attacker.read(wait).type(), "a fresh challenge");
                RawLink.Answer a = attacker.welcome(wait);
                assertEquals(Status.BAD_PROOF, a.status(), "replay " + replay);
                assertTrue(attacker.closedByPeerWithin(wait), "sproxy closes the replayer's connection");
                String peer = attacker.peerName();
                logs.await(wait, "a WARN naming the replayer", Level.WARN,
                        m -> m.contains(peer) && m.contains(Handshake.idText(victim.id())));
            }
        }

        // The live link still carries the session, byte-exact.
        byte[] data = "still mine".getBytes(StandardCharsets.US_ASCII);
        live.send(new Frame(FrameType.DATA, 0, 0, data));
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        HostileHostTest.readEcho(live, got, data.length, wait);
        assertArrayEquals(data, got.toByteArray());
        assertEquals(1, echo.connectionsAccepted());
        assertEquals(Set.of(victim.id()), rig.sproxy().sessionIds());
    }
}
