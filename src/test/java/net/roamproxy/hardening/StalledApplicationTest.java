package net.roamproxy.hardening;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.List;
import java.util.Locale;

import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.RegisterExtension;

import net.roamproxy.session.LinkSettings;
import net.roamproxy.testkit.AppClient;
import net.roamproxy.testkit.Await;
import net.roamproxy.testkit.Closer;
import net.roamproxy.testkit.FaultyRelay;
import net.roamproxy.testkit.LogCapture;
import net.roamproxy.testkit.Pacer;
import net.roamproxy.testkit.Rig;
import net.roamproxy.testkit.StreamServer;
import net.roamproxy.testkit.Streams;
import net.roamproxy.wire.Wire;

/**
 * The local application stops reading (a frozen terminal) while its server keeps writing.
 * The link must stay healthy: heartbeats keep flowing both ways, nobody declares the link
 * lost, cproxy never dials again; the writer is held back, and everything arrives once the
 * application reads again.
 *
 * <p>"Nobody declares the link lost" is the point here, so the heartbeat is one a loaded
 * machine cannot plausibly starve (the real 1 s: a link is lost after 3 s of silence). With a
 * 50 ms heartbeat a busy CPU alone can expire a link, which this test would take for the bug.
 */
class StalledApplicationTest {
    @RegisterExtension final Closer closer = new Closer();
    @RegisterExtension final LogCapture logs = LogCapture.closedBy(closer);

    @Test
    @Timeout(120)
    void applicationThatStopsReadingForTwelveHeartbeatsKeepsItsLinkAndGetsEverything() throws Exception {
        stall(LinkSettings.DEFAULT_HEARTBEAT_INTERVAL, 12, 16 << 20);
    }

    /** The issue's own numbers: 1 s heartbeats, a 30 s stall. */
    @Test
    @EnabledIfSystemProperty(named = "roamproxy.long", matches = "true")
    @Timeout(300)
    void applicationThatStopsReadingForThirtySecondsKeepsItsLinkAndGetsEverything() throws Exception {
        stall(Duration.ofSeconds(1), 30, 16 << 20);
    }

    private void stall(Duration interval, int stallIntervals, int bytes) throws Exception {
        LinkSettings link = Rig.link(interval, LinkSettings.DEFAULT_BUFFER_BYTES, 10, 600);
        StreamServer target = closer.add(new StreamServer(bytes, 71, false, Pacer.NONE));
        Rig rig = closer.add(Rig.with(link, target.port()).start());
        FaultyRelay relay = rig.relay();
        AppClient app = rig.openApp();
        Await.until(rig.flowDeadline(), "output flows", () -> app.receivedCount() > 0);
        StreamServer.Conn conn = target.connection(0);

        app.pauseReading();
        long stallStart = System.nanoTime();
        // The session's link: the one forwarding now. A connect cproxy raced and dropped is
        // never forwarding by the end, so it is not mistaken for a second link.
        List<Integer> links = ids(relay.forwardingConnections());
        int linesBefore = logs.lines().size();

        long held = Await.stalled(rig.heldBackAfter(), rig.flowDeadline(), "the target is held back by backpressure",
                conn::bytesWritten);
        assertTrue(held < bytes, "the target blocks instead of running ahead: wrote " + held + " of " + bytes);
        long upBefore = relay.bytesForwardedUpstream();
        long downBefore = relay.bytesForwardedDownstream();
        long measuredFrom = System.nanoTime();
        long left = stallIntervals * interval.toMillis() - (measuredFrom - stallStart) / 1_000_000;
        if (left > 0) {
            Thread.sleep(left); // the stall itself, not a synchronisation
        }
        long measuredIntervals = (System.nanoTime() - measuredFrom) / interval.toNanos();
        long up = relay.bytesForwardedUpstream() - upBefore;
        long down = relay.bytesForwardedDownstream() - downBefore;

        // Heartbeats flowed both ways; that they kept flowing, without a gap of three intervals,
        // is what no link declared lost below says. How many is a rate, printed, not asserted.
        assertTrue(up >= Wire.HEADER_SIZE, "cproxy's heartbeats flowed: " + up + " bytes upstream in "
                + measuredIntervals + " intervals");
        assertTrue(down >= Wire.HEADER_SIZE, "sproxy's heartbeats flowed: " + down + " bytes downstream in "
                + measuredIntervals + " intervals");
        assertSameLink(relay, links);
        assertEquals(held, conn.bytesWritten(), "the target stays held back while the application is stalled");
        // A link declared lost logs "link ... lost: why"; a local stall "not counted as lost".
        List<LogCapture.Line> lost = logs.find(Level.INFO, m -> m.contains(" lost: "));
        assertTrue(lost.isEmpty(), "nobody declared the link lost: " + lost);
        List<LogCapture.Line> since = logs.lines();
        List<LogCapture.Line> warnings = since.subList(linesBefore, since.size()).stream()
                .filter(l -> l.level().isMoreSpecificThan(Level.WARN)).toList();
        assertTrue(warnings.isEmpty(), "no warnings during the stall: " + warnings);

        app.resumeReading();

        Await.until(rig.flowDeadline().plus(rig.flowDeadline()),
                () -> "all output arrives: " + app.receivedCount() + "/" + bytes, () -> app.receivedCount() >= bytes);
        Streams.assertSameStream("output across the stall", conn.stream(), app.received());
        assertSameLink(relay, links);
        assertEquals(1, target.connectionsAccepted());
        assertFalse(app.ended().isDone());
        System.out.printf("stall: %d ms without reading, target held at %d of %d bytes; %d/%d bytes of heartbeats"
                        + " up/down in %d intervals%n", (System.nanoTime() - stallStart) / 1_000_000, held, bytes, up,
                down, measuredIntervals);
    }

    /**
     * The session has the one link it had before the stall: cproxy never dialled again (sproxy
     * took nothing back) and that link still forwards. Not a count of the relay's connections,
     * which a connect cproxy raced and dropped would add to.
     */
    private void assertSameLink(FaultyRelay relay, List<Integer> before) {
        List<Integer> now = ids(relay.forwardingConnections());
        assertEquals(1, now.size(), "one link forwards: connections " + now);
        assertTrue(before.contains(now.get(0)), "the same link throughout: connection " + now.get(0)
                + ", forwarding before the stall " + before);
        List<LogCapture.Line> back = logs.find(Level.INFO, m -> m.contains("cproxy is back from"));
        assertTrue(back.isEmpty(), "no resume, so no reconnect churn: " + back);
    }

    private static List<Integer> ids(List<FaultyRelay.Connection> connections) {
        return connections.stream().map(FaultyRelay.Connection::id).toList();
    }
}
