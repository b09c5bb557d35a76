package net.roamproxy.hardening;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

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
import net.roamproxy.wire.Handshake.Status;

/**
 * sproxy's two limits: live sessions (a new one beyond it is answered BUSY and cproxy closes
 * that application connection) and connections in their handshake (more are closed at once at
 * accept). Each is logged when reached, spares the sessions already running, and frees up
 * when a session or handshake ends.
 */
@Timeout(30)
class SproxyLimitsTest {
    @RegisterExtension final Closer closer = new Closer();
    @RegisterExtension final LogCapture logs = LogCapture.closedBy(closer);

    @Test
    void sessionBeyondTheLimitIsRefusedBusyAndItsApplicationConnectionClosed() throws Exception {
        LinkSettings link = Rig.link(Duration.ofMillis(200));
        EchoServer echo = closer.add(new EchoServer());
        Rig rig = closer.add(Rig.with(link, echo.port()).maxSessions(2).start());
        AppClient first = rig.openApp();
        AppClient second = rig.openApp();
        rig.echo(first, "one");
        rig.echo(second, "two");
        assertEquals(2, rig.sproxy().sessionCount());

        AppClient third = rig.openApp();

        Await.done(third.ended(), rig.flowDeadline(), "cproxy closes the refused session's application connection");
        assertEquals(2, echo.connectionsAccepted(), "the refused session never reached the target");
        assertEquals(2, rig.sproxy().sessionCount());
        logs.await(rig.flowDeadline(), "a log line saying the session limit was reached", Level.INFO,
                m -> m.toLowerCase(Locale.ROOT).contains("limit") && m.toLowerCase(Locale.ROOT).contains("session"));
        try (RawLink raw = RawLink.connect(rig.sproxyPort())) {
            // The place is claimed only once cproxy has proved the keys: the answer comes to the PROOF.
            RawLink.Answer answer = raw.proveNewSession(null, rig.flowDeadline());
            assertEquals(Status.BUSY, answer.status(), "the answer names the reason");
            assertTrue(raw.signedRefusal(answer, rig.sproxyHostKey()), "signed by the host key, so cproxy can trust it");
            assertTrue(raw.closedByPeerWithin(rig.flowDeadline()));
        }
        rig.echo(first, "-still-one");
        rig.echo(second, "-still-two");

        first.close();
        Await.until(rig.flowDeadline(), "the first session ends", () -> rig.sproxy().sessionCount() == 1);
        AppClient fourth = rig.openApp();
        rig.echo(fourth, "four");
        assertEquals(3, echo.connectionsAccepted(), "a freed place takes a new session");
    }

    @Test
    void connectionsBeyondTheHandshakeLimitAreClosedAtOnceWhileRunningSessionsCarryOn() throws Exception {
        int limit = 4;
        // Handshake timeout 10 s: the silent connections hold their places for the whole test.
        LinkSettings link = Rig.link(Duration.ofMillis(50), LinkSettings.DEFAULT_BUFFER_BYTES, 200, 600);
        EchoServer echo = closer.add(new EchoServer());
        Rig rig = closer.add(Rig.with(link, echo.port()).maxHandshakes(limit).start());
        AppClient live = rig.openApp();
        rig.echo(live, "live");

        List<RawLink> silent = new ArrayList<>();
        // From as many hosts, each within its share (a quarter of the places: one here).
        for (int i = 0; i < limit; i++) {
            silent.add(closer.add(RawLink.connectFrom(2 + i, rig.sproxyPort())));
        }
        // Accepted in order: by the time this one is accepted, all places are taken.
        RawLink extra = closer.add(RawLink.connectFrom(2 + limit, rig.sproxyPort()));
        long start = System.nanoTime();
        // Closed at once, not after the handshake timeout: told apart by order, not by a clock.
        // The silent connections came first, so the timeout would have closed them first;
        // they are all still open after the extra one is closed.
        assertTrue(extra.closedByPeerWithin(link.handshakeTimeout()), "a connection beyond the limit is closed");
        long closedMs = (System.nanoTime() - start) / 1_000_000;
        logs.await(rig.flowDeadline(), "a WARN saying the handshake limit was reached", Level.WARN,
                m -> m.toLowerCase(Locale.ROOT).contains("handshake") && m.contains(String.valueOf(limit)));
        for (RawLink s : silent) {
            assertFalse(s.closedByPeerWithin(rig.intervals(2)), "the connections within the limit stay, so the"
                    + " extra one was not closed by the " + link.handshakeTimeout().toMillis() + " ms handshake timeout");
        }
        rig.echo(live, "-unaffected");

        silent.forEach(RawLink::close);
        AppClient fresh = rig.openApp();
        rig.echo(fresh, "places freed");
        assertEquals(2, echo.connectionsAccepted());
        System.out.printf("handshake limit %d: the extra connection was closed after %d ms%n", limit, closedMs);
    }
}
