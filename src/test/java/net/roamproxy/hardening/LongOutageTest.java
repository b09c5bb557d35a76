package net.roamproxy.hardening;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.RegisterExtension;

import net.roamproxy.session.LinkSettings;
import net.roamproxy.testkit.AppClient;
import net.roamproxy.testkit.Await;
import net.roamproxy.testkit.Closer;
import net.roamproxy.testkit.Pacer;
import net.roamproxy.testkit.Rig;
import net.roamproxy.testkit.StreamServer;
import net.roamproxy.testkit.Streams;

/**
 * The path goes away (black hole: silence, no reset) while both ends pour out far more than
 * the replay buffer holds. Nothing may be dropped and the session may not die because the
 * outage was long or the output large: the proxies stop reading from the applications, whose
 * writes block (TCP backpressure), and everything arrives once the path is back.
 */
class LongOutageTest {
    private static final int BUFFER = LinkSettings.MIN_BUFFER_BYTES;
    private static final int CHUNK = 16 * 1024;

    @RegisterExtension final Closer closer = new Closer();

    @Test
    @Timeout(60)
    void blackHoleOfSixtyHeartbeatsDuringOutputFarBeyondTheBufferLosesNothingAndHoldsTheWritersBack()
            throws Exception {
        outage(Duration.ofMillis(50), 60, 24 << 20);
    }

    @Test
    @EnabledIfSystemProperty(named = "roamproxy.long", matches = "true")
    @Timeout(600)
    void blackHoleOfTwoMinutesDuringOutputFarBeyondTheBufferLosesNothingAndHoldsTheWritersBack() throws Exception {
        outage(Duration.ofMillis(200), 600, 48 << 20);
    }

    /**
     * @param holdIntervals how long the black hole lasts, in heartbeat intervals
     * @param bytes         each direction's stream: many times the buffer, and more than the
     *                      kernel's socket buffers can absorb, so the writers must block
     */
    private void outage(Duration interval, int holdIntervals, int bytes) throws Exception {
        LinkSettings link = Rig.link(interval, BUFFER, 10, holdIntervals + 600L);
        StreamServer target = closer.add(new StreamServer(bytes, 61, false, Pacer.NONE));
        Rig rig = closer.add(Rig.with(link, target.port()).start());
        AppClient app = rig.openApp();
        byte[] upstream = Streams.pseudoRandom(62, bytes);
        app.writeInBackground(upstream, CHUNK, Pacer.NONE);
        Await.until(rig.flowDeadline(), "both streams under way, beyond one buffer",
                () -> target.connectionsAccepted() == 1 && app.receivedCount() > 2 * BUFFER
                        && target.connection(0).receivedCount() > 2 * BUFFER);
        StreamServer.Conn conn = target.connection(0);
        int dialled = rig.relay().connectionsAccepted();
        long holeStart = System.nanoTime();

        rig.relay().blackhole();

        Duration quiet = rig.heldBackAfter();
        Duration settle = rig.noticeDeadline().plus(rig.flowDeadline());
        long targetHeld = Await.stalled(quiet, settle, "the target is held back by backpressure", conn::bytesWritten);
        long appHeld = Await.stalled(quiet, settle, "the application is held back by backpressure", app::bytesWritten);
        assertTrue(targetHeld < bytes, "the target blocks writing instead of running ahead: wrote " + targetHeld);
        assertTrue(appHeld < bytes, "the application blocks writing instead of running ahead: wrote " + appHeld);
        Await.until(rig.noticeDeadline(), "cproxy gives up on the silent link and dials again",
                () -> rig.relay().connectionsAccepted() > dialled);
        long left = holdIntervals * interval.toMillis() - (System.nanoTime() - holeStart) / 1_000_000;
        if (left > 0) {
            Thread.sleep(left); // the outage itself, not a synchronisation
        }
        assertEquals(targetHeld, conn.bytesWritten(), "nothing more was taken from the target during the outage");
        assertEquals(appHeld, app.bytesWritten(), "nothing more was taken from the application during the outage");
        assertEquals(1, rig.sproxy().sessionCount(), "sproxy keeps the session through the outage");
        assertEquals(1, rig.cproxy().sessionCount(), "cproxy keeps the session through the outage");
        assertFalse(app.ended().isDone(), "the application connection stays open");
        long heldMs = (System.nanoTime() - holeStart) / 1_000_000;

        rig.relay().restore();

        Await.until(rig.relinkDeadline().plus(rig.flowDeadline()).plus(rig.flowDeadline()),
                () -> "both streams complete after the outage: down " + app.receivedCount() + "/" + bytes + ", up "
                        + conn.receivedCount() + "/" + bytes,
                () -> app.receivedCount() >= bytes && conn.receivedCount() >= bytes);
        Streams.assertSameStream("downstream (target to application)", conn.stream(), app.received());
        Streams.assertSameStream("upstream (application to target)", upstream, conn.received());
        assertEquals(1, target.connectionsAccepted(), "the session was resumed, not recreated");
        assertFalse(app.ended().isDone(), "the application connection stays open");
        System.out.printf("long outage: %d ms black hole with the target held at %d and the application at %d of %d"
                + " bytes (buffer %d); %d link connections%n", heldMs, targetHeld, appHeld, bytes, BUFFER,
                rig.relay().connectionsAccepted());
    }
}
