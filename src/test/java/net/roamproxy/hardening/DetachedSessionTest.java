package net.roamproxy.hardening;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;

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
import net.roamproxy.testkit.Rig;
import net.roamproxy.wire.Handshake;

/**
 * A session whose cproxy never comes back (the laptop stays shut) is kept for the detach
 * timeout and no longer: then sproxy closes it with an INFO line and closes its target
 * connection, and cproxy gives up on it too and closes the application connection.
 */
class DetachedSessionTest {
    @RegisterExtension final Closer closer = new Closer();
    @RegisterExtension final LogCapture logs = LogCapture.closedBy(closer);

    @Test
    @Timeout(60)
    void sessionWithoutALinkIsKeptForTheDetachTimeoutThenClosedWithItsTargetConnection() throws Exception {
        Duration interval = Duration.ofMillis(50);
        LinkSettings link = Rig.link(interval, LinkSettings.DEFAULT_BUFFER_BYTES, 10, 40); // detach after 2 s
        Duration detach = link.detachTimeout();
        EchoServer echo = closer.add(new EchoServer());
        Rig rig = closer.add(Rig.with(link, echo.port()).start());
        AppClient app = rig.openApp();
        app.write("hi".getBytes(StandardCharsets.US_ASCII));
        Await.until(rig.flowDeadline(), "echo", () -> app.receivedCount() >= 2);
        Set<Long> ids = rig.sproxy().sessionIds();
        assertEquals(1, ids.size());
        String id = Handshake.idText(ids.iterator().next());
        long holeStart = System.nanoTime();

        rig.relay().blackhole(); // for good: every redial goes into the hole too

        // Only against a hang: how soon after the detach timeout the session goes is printed,
        // not asserted, since a loaded machine may take longer without anything being wrong.
        Duration bound = rig.noticeDeadline().plus(detach).plus(Duration.ofSeconds(20));
        Await.done(echo.connection(0).ended(), bound, "sproxy closes the orphaned session's target connection");
        long closedAfterMs = (System.nanoTime() - holeStart) / 1_000_000;
        assertTrue(closedAfterMs >= detach.toMillis(), "the session was kept for the detach timeout ("
                + detach.toMillis() + " ms) after the link went silent, not closed after " + closedAfterMs + " ms");
        Await.until(rig.flowDeadline(), "sproxy forgets the session", () -> rig.sproxy().sessionIds().isEmpty());
        logs.await(rig.flowDeadline(), "sproxy's INFO line closing session " + id, Level.INFO,
                m -> m.contains(id) && m.toLowerCase(Locale.ROOT).contains("closed"));
        Await.done(app.ended(), bound, "cproxy gives up too and closes the application connection");
        Await.until(rig.flowDeadline(), "cproxy forgets the session", () -> rig.cproxy().sessionCount() == 0);
        System.out.printf("detach timeout %d ms: target connection closed %d ms after the link went silent%n",
                detach.toMillis(), closedAfterMs);
    }
}
