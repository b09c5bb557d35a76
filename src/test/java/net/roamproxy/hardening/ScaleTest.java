package net.roamproxy.hardening;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import net.roamproxy.testkit.Rig;
import net.roamproxy.testkit.Streams;

/**
 * Many sessions at once, with the real heartbeat (1 s, three missed): both proxies, the
 * relay between them and the target share this JVM's CPUs with thousands of threads, and
 * every session survives and echoes byte-exact, on the one target connection it opened.
 * A link may be lost on the way (a machine loaded by something else can starve heartbeats),
 * as long as its session resumes losing nothing; the losses are counted and printed, not
 * asserted. The benchmark runs the same at 8,000 sessions; this is the size CI affords.
 */
class ScaleTest {
    private static final int SESSIONS = 500;
    private static final Duration HOLD = Duration.ofSeconds(10);
    private static final int ECHO_BYTES = 4 * 1024;

    @RegisterExtension final Closer closer = new Closer();
    @RegisterExtension final LogCapture logs = LogCapture.closedBy(closer);

    @Test
    @Timeout(180)
    void fiveHundredSessionsHeldTenSecondsAllSurviveAndEchoByteExact() throws Exception {
        EchoServer echo = closer.add(new EchoServer());
        LinkSettings link = Rig.link(LinkSettings.DEFAULT_HEARTBEAT_INTERVAL);
        Rig rig = closer.add(Rig.with(link, echo.port()).start());
        Duration deadline = Duration.ofSeconds(60);

        List<AppClient> apps = new ArrayList<>();
        List<byte[]> sent = new ArrayList<>();
        for (int i = 0; i < SESSIONS; i++) {
            AppClient app = rig.openApp();
            byte[] hello = Streams.pseudoRandom(i, 16);
            app.write(hello);
            apps.add(app);
            sent.add(hello);
        }
        Await.until(deadline, () -> "all sessions open: " + rig.sproxy().sessionCount() + " at sproxy",
                () -> rig.sproxy().sessionCount() == SESSIONS && apps.stream().allMatch(a -> a.receivedCount() >= 16));

        Thread.sleep(HOLD.toMillis()); // idle sessions: only heartbeats flow, 1,000 a second each way

        for (int i = 0; i < SESSIONS; i++) {
            byte[] more = Streams.pseudoRandom(SESSIONS + i, ECHO_BYTES);
            apps.get(i).write(more);
            byte[] all = new byte[16 + ECHO_BYTES];
            System.arraycopy(sent.get(i), 0, all, 0, 16);
            System.arraycopy(more, 0, all, 16, ECHO_BYTES);
            sent.set(i, all);
        }
        Await.until(deadline, "every echo complete",
                () -> apps.stream().allMatch(a -> a.receivedCount() >= 16 + ECHO_BYTES));
        for (int i = 0; i < SESSIONS; i++) {
            Streams.assertSameStream("session " + i, sent.get(i), apps.get(i).received());
        }

        // Resumed, never recreated: one target connection per session, and every session is
        // still there at both ends, its application connection open.
        assertEquals(SESSIONS, echo.connectionsAccepted(), "one target connection per session");
        assertEquals(SESSIONS, rig.sproxy().sessionCount(), "every session lives at sproxy");
        assertEquals(SESSIONS, rig.cproxy().sessionCount(), "every session lives at cproxy");
        List<AppClient> ended = apps.stream().filter(a -> a.ended().isDone()).toList();
        assertTrue(ended.isEmpty(), ended.size() + " application connections ended, e.g. "
                + ended.subList(0, Math.min(3, ended.size())));
        List<LogCapture.Line> closed = logs.find(Level.INFO, m -> m.contains(": closed:"));
        assertTrue(closed.isEmpty(), closed.size() + " sessions closed, e.g. "
                + closed.subList(0, Math.min(3, closed.size())));
        List<LogCapture.Line> lost = logs.find(Level.INFO, m -> m.contains(" lost: "));
        System.out.printf("scale: %d sessions held %d s; %d links lost and resumed, %d relay connections%n",
                SESSIONS, HOLD.toSeconds(), lost.size(), rig.relay().connectionsAccepted());
        if (!lost.isEmpty()) {
            System.out.println("scale: first link lost: " + lost.get(0));
        }
    }
}
