package net.roamproxy.hardening;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
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
 * Stopping a proxy (SIGTERM) in the middle of a transfer: the application on the other side
 * either gets the whole stream and a clean end, or a reset. Never a stream cut short that
 * looks like a clean end.
 */
@Timeout(60)
class StopMidTransferTest {
    private static final LinkSettings LINK = Rig.link(Duration.ofMillis(50));
    private static final int BYTES = 32 << 20;

    @RegisterExtension final Closer closer = new Closer();

    @Test
    void stoppingCproxyMidUploadNeverEndsTheTargetsStreamCleanlyShortOfItsEnd() throws Exception {
        StreamServer target = closer.add(new StreamServer(0, 1, false, Pacer.NONE));
        Rig rig = closer.add(Rig.with(LINK, target.port()).start());
        AppClient app = rig.openApp();
        byte[] upload = Streams.pseudoRandom(31, BYTES);
        app.writeInBackground(upload, 64 * 1024, Pacer.NONE);
        Await.until(rig.flowDeadline(), "the upload is under way",
                () -> target.connectionsAccepted() == 1 && target.connection(0).receivedCount() > 1_000_000);

        rig.cproxy().close();

        boolean clean = Await.done(target.connection(0).ended(), rig.flowDeadline(), "the target connection ends");
        byte[] got = target.connection(0).received();
        if (clean) {
            assertArrayEquals(upload, got, "a clean end after " + got.length + " of " + BYTES + " bytes");
        }
        assertTrue(Streams.sha256(upload, 0, got.length).equals(Streams.sha256(got)), "what arrived is a prefix");
    }

    @Test
    void stoppingSproxyMidDownloadNeverEndsTheApplicationsStreamCleanlyShortOfItsEnd() throws Exception {
        StreamServer target = closer.add(new StreamServer(BYTES, 32, true, Pacer.NONE));
        Rig rig = closer.add(Rig.with(LINK, target.port()).start());
        AppClient app = rig.openApp();
        Await.until(rig.flowDeadline(), "the download is under way", () -> app.receivedCount() > 1_000_000);

        rig.sproxy().close();

        boolean clean = Await.done(app.ended(), rig.flowDeadline(), "the application connection ends");
        byte[] got = app.received();
        byte[] stream = target.connection(0).stream();
        if (clean) {
            assertArrayEquals(stream, got, "a clean end after " + got.length + " of " + BYTES + " bytes");
        }
        assertTrue(Streams.sha256(stream, 0, got.length).equals(Streams.sha256(got)), "what arrived is a prefix");
    }

    @Test
    void aStalledApplicationDoesNotKeepASessionWhosePeerProxyStoppedOpen() throws Exception {
        StreamServer target = closer.add(new StreamServer(BYTES, 33, true, Pacer.NONE));
        Rig rig = closer.add(Rig.with(LINK, target.port()).start());
        AppClient app = rig.openPausedApp();
        Await.until(rig.flowDeadline(), "the download starts", () -> target.connectionsAccepted() == 1);
        Await.stalled(rig.heldBackAfter(), rig.flowDeadline(), "the download backs up behind the paused application",
                () -> target.connection(0).bytesWritten());

        rig.sproxy().close();

        Await.until(rig.noticeDeadline().plus(rig.flowDeadline()), "cproxy ends the session",
                () -> rig.cproxy().sessionCount() == 0);
        app.resumeReading();
        assertFalse(Await.done(app.ended(), rig.flowDeadline(), "the application connection ends"),
                "a reset: the application had read " + app.receivedCount() + " of " + BYTES + " bytes");
    }
}
