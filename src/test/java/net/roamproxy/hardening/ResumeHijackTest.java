package net.roamproxy.hardening;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;

import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import net.roamproxy.session.LinkSettings;
import net.roamproxy.testkit.AppClient;
import net.roamproxy.testkit.Await;
import net.roamproxy.testkit.Closer;
import net.roamproxy.testkit.EchoServer;
import net.roamproxy.testkit.LogCapture;
import net.roamproxy.testkit.RawLink;
import net.roamproxy.testkit.Rig;
import net.roamproxy.testkit.Streams;
import net.roamproxy.wire.Frame;
import net.roamproxy.wire.FrameReader;
import net.roamproxy.wire.FrameType;
import net.roamproxy.wire.Handshake.Status;
import net.roamproxy.wire.Handshake;
import net.roamproxy.wire.Hello;
import net.roamproxy.wire.KeyShare;
import net.roamproxy.wire.Refusal;
import net.roamproxy.wire.Welcome;
import net.roamproxy.wire.Wire;

/**
 * Someone who recorded a real cproxy's links, or knows a live session's id, tries to take the
 * session over or open one of their own from another socket. sproxy answers a replayed HELLO
 * with a fresh WELCOME (a new nonce and key share), so the recorded PROOF does not fit it: the
 * replayer is refused, named in one WARN, and nothing else happens. The live session keeps
 * its link (the same connection carries it, sproxy logs no resume) and its streams stay byte-exact;
 * a replayed new session creates no session and no target connection.
 */
@Timeout(30)
class ResumeHijackTest {
    /** Raw clients send no heartbeats: 200 ms leaves them 2 s per exchange. */
    private static final LinkSettings LINK = Rig.link(Duration.ofMillis(200));
    private static final String BACK = "cproxy is back from";

    @RegisterExtension final Closer closer = new Closer();
    @RegisterExtension final LogCapture logs = LogCapture.closedBy(closer);

    /** A session through a real cproxy, its echo seen; {@link #sent} is what the application sent. */
    private final class Live {
        final EchoServer echo;
        final MitmChain chain;
        final AppClient app;
        final ByteArrayOutputStream sent = new ByteArrayOutputStream();
        final long id;

        Live() throws Exception {
            echo = closer.add(new EchoServer());
            chain = new MitmChain(closer, LINK, echo.port());
            app = chain.openApp();
            send(Streams.pseudoRandom(41, 50_000));
            Set<Long> ids = chain.sproxy.sessionIds();
            assertEquals(1, ids.size(), "one live session: " + ids);
            id = ids.iterator().next();
        }

        void send(byte[] b) throws Exception {
            app.write(b);
            sent.write(b);
            Await.until(chain.flowDeadline(), () -> "echo of " + sent.size() + " bytes, got " + app.receivedCount(),
                    () -> app.receivedCount() >= sent.size());
            Streams.assertSameStream("echo", sent.toByteArray(), app.received());
        }

        /** The link is reset and cproxy resumes on a new one; returns that link, once it carried data. */
        MitmRelay.Conn resumed() throws Exception {
            int before = chain.relay.connectionsAccepted();
            chain.relay.resetAll();
            logs.await(chain.relinkDeadline(), "sproxy takes cproxy back", Level.INFO, m -> m.contains(BACK));
            send(Streams.pseudoRandom(42, 20_000));
            MitmRelay.Conn link = link();
            assertTrue(link.id >= before, "a new link");
            return link;
        }

        /**
         * The one open connection cproxy sent frames on. cproxy may race a second connect to
         * sproxy's address and keep whichever answers first; the one it drops never carries a
         * frame, and may still be open here for a moment, so it is not counted.
         */
        MitmRelay.Conn link() {
            List<MitmRelay.Conn> carrying = chain.relay.openConnections().stream()
                    .filter(c -> !c.frames(MitmRelay.Direction.UP).isEmpty()).toList();
            assertEquals(1, carrying.size(), "one link carries the session: connections "
                    + carrying.stream().map(c -> c.id).toList());
            return carrying.get(0);
        }

        /** The session still has its one link, no resume happened, and bytes keep flowing both ways, exactly once. */
        void assertUntouched(MitmRelay.Conn link, int resumes) throws Exception {
            int framesBefore = link.frames(MitmRelay.Direction.UP).size();
            send(Streams.pseudoRandom(43, 200_000));
            // Not a count of connections accepted (a connect cproxy raced and dropped counts
            // too): the link is the one it was, and it carried the new bytes.
            assertTrue(link.isOpen(), "the link is still open");
            assertTrue(link.frames(MitmRelay.Direction.UP).size() > framesBefore, "the same link carried the new bytes");
            assertEquals(link, link(), "the same link carries the session");
            assertEquals(resumes, logs.find(Level.INFO, m -> m.contains(BACK)).size(), "no resume logged");
            assertEquals(Set.of(id), chain.sproxy.sessionIds());
            assertEquals(1, echo.connectionsAccepted(), "one target connection");
            Await.until(chain.flowDeadline(), "the target's count",
                    () -> echo.connection(0).bytesEchoed() >= sent.size());
            assertEquals(sent.size(), echo.connection(0).bytesEchoed(), "the target got each byte once");
            assertTrue(logs.find(Level.INFO, m -> m.contains(": closed:")).isEmpty(), "no session closed");
            assertFalse(app.ended().isDone());
        }
    }

    /** The one WARN sproxy logs about {@code peer}, which must say what failed. */
    private void assertOneWarnNaming(String peer, String word, Duration wait) throws InterruptedException {
        logs.await(wait, "a WARN naming " + peer, Level.WARN, m -> m.contains(peer) && m.contains(word));
        assertEquals(1, logs.find(Level.WARN, m -> m.contains(peer)).size(), "one WARN per attacker connection: "
                + logs.find(Level.WARN, m -> m.contains(peer)));
    }

    @Test
    void aResumeRecordedFromARealCproxyAndReplayedFromAnotherSocketGetsAFreshWelcomeButItsProofFails()
            throws Exception {
        Live live = new Live();
        MitmRelay.Conn link = live.resumed();
        // What an eavesdropper recorded of that resume: every byte cproxy sent on it (HELLO, PROOF, data).
        byte[] recorded = link.recorded(MitmRelay.Direction.UP);
        Welcome original = Welcome.decode(frame(link.frames(MitmRelay.Direction.DOWN).get(0)));
        Duration wait = live.chain.flowDeadline();

        for (int replay = 1; replay <= 2; replay++) {
            try (RawLink attacker = RawLink.connect(live.chain.sproxy.port())) {
                attacker.sendRaw(recorded);
                Frame f = attacker.read(wait);
                assertEquals(FrameType.WELCOME, f.type(), "replay " + replay + ": " + f);
                Welcome w = Welcome.decode(f);
                assertEquals(Status.RESUMED, w.status());
                assertEquals(live.id, w.sessionId());
                assertFalse(Arrays.equals(original.nonce(), w.nonce()), "a fresh nonce");
                assertFalse(Arrays.equals(original.keyShare(), w.keyShare()), "a fresh key share");
                assertTrue(attacker.closedByPeerWithin(wait), "sproxy closes the replayer's connection");
                assertOneWarnNaming(attacker.peerName(), "proof", wait);
            }
        }

        live.assertUntouched(link, 1);
    }

    @Test
    void aNewSessionRecordedFromARealCproxyAndReplayedCreatesNoSessionAndNoTargetConnection() throws Exception {
        Live live = new Live();
        MitmRelay.Conn first = live.link();
        byte[] recorded = first.recorded(MitmRelay.Direction.UP);
        Duration wait = live.chain.flowDeadline();

        try (RawLink attacker = RawLink.connect(live.chain.sproxy.port())) {
            attacker.sendRaw(recorded);
            Frame f = attacker.read(wait);
            assertEquals(FrameType.WELCOME, f.type(), "a WELCOME, as anyone gets: " + f);
            assertEquals(Status.NEW_SESSION, Welcome.decode(f).status());
            assertNotEquals(live.id, Welcome.decode(f).sessionId(), "a fresh session id");
            Frame answer = attacker.read(wait);
            assertEquals(FrameType.REFUSED, answer.type(), "the recorded PROOF does not fit: " + answer);
            Refusal r = Refusal.decode(answer);
            assertEquals(Status.AUTH_FAILED, r.status());
            assertTrue(r.signed(), "signed by the host key");
            assertTrue(attacker.closedByPeerWithin(wait), "sproxy closes the replayer's connection");
            assertOneWarnNaming(attacker.peerName(), "proof", wait);
        }

        assertEquals(1, live.chain.sproxy.sessionCount(), "no second session");
        assertEquals(1, live.echo.connectionsAccepted(), "no second target connection");
        live.assertUntouched(first, 0);
    }

    @Test
    void guessesAtTheLiveSessionOrAtUnknownIdsNeverDisturbTheLiveLink() throws Exception {
        Live live = new Live();
        MitmRelay.Conn link = live.link();
        Duration wait = live.chain.flowDeadline();
        SplittableRandom rnd = new SplittableRandom(4242);

        // The live session's id without its secret: a WELCOME anyone gets, then the forged PROOF is refused.
        for (int i = 0; i < 5; i++) {
            try (RawLink raw = RawLink.connect(live.chain.sproxy.port())) {
                raw.send(Hello.forResume(live.id, KeyShare.generate().publicKey(), RawLink.WINDOW), 0);
                Frame f = raw.read(wait);
                assertEquals(FrameType.WELCOME, f.type(), f.toString());
                assertEquals(Status.RESUMED, Welcome.decode(f).status());
                byte[] proof = Hostile.sealedHeader(FrameType.PROOF, Handshake.MAC_SIZE);
                byte[] body = new byte[Handshake.MAC_SIZE + Wire.TAG_SIZE];
                rnd.nextBytes(body);
                raw.sendRaw(proof);
                raw.sendRaw(body);
                assertTrue(raw.closedByPeerWithin(wait), "sproxy closes the guesser's connection");
                assertOneWarnNaming(raw.peerName(), "proof", wait);
            }
        }
        // Ids that do not exist: an UNKNOWN_SESSION with a MAC only that session's cproxy could check.
        for (long guess : new long[] {live.id + 1, rnd.nextLong() | 1, Long.MAX_VALUE}) {
            try (RawLink raw = RawLink.connect(live.chain.sproxy.port())) {
                RawLink.Answer a = raw.resume(guess, new byte[32], 0, wait);
                assertEquals(Status.UNKNOWN_SESSION, a.status(), "resume of unknown session " + guess);
                assertEquals(Handshake.MAC_SIZE, a.refusal().auth().length, "with the refusal token's MAC");
                assertTrue(raw.closedByPeerWithin(wait), "sproxy closes the connection");
            }
        }

        live.assertUntouched(link, 0);
    }

    private static Frame frame(byte[] wire) throws Exception {
        return new FrameReader(new ByteArrayInputStream(wire)).next();
    }
}
