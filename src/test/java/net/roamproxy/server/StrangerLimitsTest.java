package net.roamproxy.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

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
import net.roamproxy.wire.FrameType;
import net.roamproxy.wire.Handshake;

/**
 * What one stranger can take from sproxy: a share of the handshake places, not all of them;
 * a connection's place for 2 s unless a HELLO comes; a session it opened and left for seconds,
 * not for the detach timeout; and, where the operator sets it, only so many live sessions. The
 * strangers connect from 127.0.0.2 and up, the rig's cproxy from 127.0.0.1: two hosts.
 */
@Timeout(60)
class StrangerLimitsTest {
    /** A long handshake timeout and detach timeout: whatever ends sooner is another rule. */
    private static final LinkSettings LINK = Rig.link(Duration.ofMillis(100), LinkSettings.DEFAULT_BUFFER_BYTES,
            300, 9000);

    @RegisterExtension final Closer closer = new Closer();
    @RegisterExtension final LogCapture logs = LogCapture.closedBy(closer);

    @Test
    void oneHostGetsAQuarterOfTheHandshakePlacesAndIsToldOnceWhileAnotherHostStillGetsIn() throws Exception {
        EchoServer target = closer.add(new EchoServer());
        Rig rig = closer.add(Rig.with(LINK, target.port()).maxHandshakes(8).start()); // 2 a host
        List<RawLink> held = new ArrayList<>();
        for (int i = 0; i < 2; i++) {
            RawLink r = closer.add(RawLink.connectFrom(2, rig.sproxyPort()));
            r.helloNew(); // then never a PROOF: the place is held until the handshake timeout
            held.add(r);
        }
        Await.until(rig.flowDeadline(), "the stranger holds its two places",
                () -> rig.sproxy().handshakesInProgress() == 2);

        RawLink third = closer.add(RawLink.connectFrom(2, rig.sproxyPort()));
        assertTrue(third.closedByPeerWithin(rig.flowDeadline()), "a third from the same host is turned away");
        logs.await(rig.flowDeadline(), "a WARN naming the host and its share", Level.WARN,
                m -> m.startsWith("127.0.0.2 already holds 2 handshake places"));
        RawLink fourth = closer.add(RawLink.connectFrom(2, rig.sproxyPort()));
        assertTrue(fourth.closedByPeerWithin(rig.flowDeadline()), "and a fourth");

        AppClient app = rig.openApp(); // the other host
        rig.echo(app, "in");
        assertEquals(1, logs.find(Level.WARN, m -> m.contains("already holds")).size(),
                "the share is reported once; later ones are counted");
        for (RawLink r : held) {
            assertFalse(r.closedByPeerWithin(rig.intervals(2)), "the stranger's two places are its own to keep, "
                    + "until their deadline");
        }
    }

    @Test
    void aConnectionThatSendsNoHelloGivesItsPlaceBackAtTheFirstFrameDeadline() throws Exception {
        EchoServer target = closer.add(new EchoServer());
        Rig rig = closer.add(Rig.with(LINK, target.port()).start());

        RawLink silent = closer.add(RawLink.connectFrom(2, rig.sproxyPort()));

        assertTrue(silent.closedByPeerWithin(LINK.handshakeTimeout()), "dropped before the handshake timeout");
        logs.await(rig.flowDeadline(), "the reason: no HELLO in time", Level.WARN,
                m -> m.contains(silent.peerName()) && m.contains("no HELLO within 2000 ms"));
        // The line is logged just before the place is given back, on the handshake's thread.
        Await.until(rig.flowDeadline(), () -> "its place is free again: " + rig.sproxy().handshakesInProgress()
                + " in use", () -> rig.sproxy().handshakesInProgress() == 0);
    }

    @Test
    void aSessionItsClientNeverSpokeOnIsClosedWithinSecondsAndOneThatSpokeWaitsForItsResume() throws Exception {
        EchoServer target = closer.add(new EchoServer());
        Rig rig = closer.add(Rig.with(LINK, target.port()).start());
        Duration wait = rig.flowDeadline();

        RawLink spoke = closer.add(RawLink.connectFrom(2, rig.sproxyPort()));
        RawLink.Credentials kept = spoke.openSession(wait);
        spoke.sendSealed(FrameType.HEARTBEAT, 0, 0, new byte[0]);
        Await.until(wait, "the first session is open", () -> rig.sproxy().sessionCount() == 1);
        spoke.close();
        logs.await(wait, "the session that heard from its client waits for a resume", Level.INFO,
                m -> m.contains(Handshake.idText(kept.id())) && m.contains("waiting up to"));

        RawLink left = closer.add(RawLink.connectFrom(3, rig.sproxyPort()));
        RawLink.Credentials dropped = left.openSession(wait);
        Await.until(wait, "the second session is open", () -> rig.sproxy().sessionCount() == 2);
        left.close();

        Await.until(wait, "the session whose client never spoke is closed, long before the "
                + LinkSettings.human(LINK.detachTimeout()) + " detach timeout", () -> rig.sproxy().sessionCount() == 1);
        assertTrue(rig.sproxy().sessionIds().contains(kept.id()), "the other one is kept");
        logs.await(wait, "why it was closed", Level.INFO,
                m -> m.contains(Handshake.idText(dropped.id())) && m.contains("cproxy never spoke"));
    }

    @Test
    void withAPerSourceSessionLimitAHostAtItsLimitGetsBusyAndAnotherHostDoesNot() throws Exception {
        EchoServer target = closer.add(new EchoServer());
        Rig rig = closer.add(Rig.with(LINK, target.port()).maxSessionsPerSource(1).start());
        Duration wait = rig.flowDeadline();
        AppClient mine = rig.openApp(); // 127.0.0.1's one session
        rig.echo(mine, "mine");

        RawLink stranger = closer.add(RawLink.connectFrom(2, rig.sproxyPort()));
        stranger.openSession(wait);
        RawLink again = closer.add(RawLink.connectFrom(2, rig.sproxyPort()));
        RawLink.Answer answer = again.proveNewSession(null, wait);

        assertEquals(Handshake.Status.BUSY, answer.status(), "127.0.0.2 has its one session");
        logs.await(wait, "a WARN naming the host and the option", Level.WARN,
                m -> m.contains("127.0.0.2") && m.contains("--max-sessions-per-source"));
        rig.echo(mine, " still");
        assertEquals(2, rig.sproxy().sessionCount());
    }
}
