package net.roamproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
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
 * A legitimate crowd is never slowed or refused by sproxy's handshake limits: many sessions of
 * one cproxy lose their links at once (the relay resets every link, as an address change does)
 * and all resume, with sproxy's default limits (256 handshake places, 64 per source) and the
 * default 1 s heartbeat. Every link reaches sproxy from 127.0.0.1, one source: the case where
 * only cproxy's own pacing keeps the crowd within sproxy's share for it.
 *
 * <p>How long the crowd took to be back (from the cut until every session echoed again) is
 * printed, not asserted: a measurement, not a test of this machine's speed. Both proxies, the
 * relay (two threads per link) and the test share this JVM's CPUs, so the figure is CPU time
 * as much as pacing; the CPU this JVM used meanwhile is printed beside it.
 */
class CrowdResumeTest {
    /** Fits the default suite on a loaded two-core machine; the long profile runs 1,000. */
    private static final int SESSIONS = 300;
    private static final int HELLO_BYTES = 16;
    private static final int AFTER_BYTES = 1024;

    @RegisterExtension final Closer closer = new Closer();
    @RegisterExtension final LogCapture logs = LogCapture.closedBy(closer);

    @Test
    @Timeout(120)
    void threeHundredSessionsCutAtOnceAllResumeWithoutRefusal() throws Exception {
        crowd(SESSIONS, Duration.ofSeconds(60));
    }

    @Test
    @EnabledIfSystemProperty(named = "roamproxy.long", matches = "true")
    @Timeout(300)
    void aThousandSessionsCutAtOnceAllResumeWithoutRefusal() throws Exception {
        crowd(1_000, Duration.ofSeconds(120));
    }

    private void crowd(int n, Duration deadline) throws Exception {
        EchoServer echo = closer.add(new EchoServer());
        LinkSettings link = Rig.link(LinkSettings.DEFAULT_HEARTBEAT_INTERVAL);
        Rig rig = closer.add(Rig.with(link, echo.port()).start()); // sproxy's default limits

        List<AppClient> apps = new ArrayList<>();
        List<byte[]> sent = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            AppClient app = rig.openApp();
            byte[] hello = Streams.pseudoRandom(i, HELLO_BYTES);
            app.write(hello);
            apps.add(app);
            sent.add(hello);
        }
        Await.until(deadline, () -> "all sessions open: " + rig.sproxy().sessionCount() + " at sproxy",
                () -> rig.sproxy().sessionCount() == n && apps.stream().allMatch(a -> a.receivedCount() >= HELLO_BYTES));
        int linksBefore = rig.relay().connectionsAccepted();

        long cpuAtCut = cpuNanos();
        long cutAt = System.nanoTime(); System.out.println("PERFCUT " + cutAt);
        assertEquals(n, rig.relay().cut(), "every session's link cut at once");
        for (int i = 0; i < n; i++) {
            byte[] after = Streams.pseudoRandom(n + i, AFTER_BYTES);
            apps.get(i).write(after);
            byte[] all = Arrays.copyOf(sent.get(i), HELLO_BYTES + AFTER_BYTES);
            System.arraycopy(after, 0, all, HELLO_BYTES, AFTER_BYTES);
            sent.set(i, all);
        }

        // When each session echoed again, i.e. was back; and sproxy's session count meanwhile.
        long[] backAt = new long[n];
        int[] back = {0};
        int[] fewestAtSproxy = {n};
        Await.until(deadline, () -> back[0] + " of " + n + " sessions echoed again after the cut; relay links "
                + rig.relay().connectionsAccepted() + ", sproxy sessions " + rig.sproxy().sessionCount(), () -> {
                    long now = System.nanoTime();
                    fewestAtSproxy[0] = Math.min(fewestAtSproxy[0], rig.sproxy().sessionCount());
                    for (int i = 0; i < n; i++) {
                        if (backAt[i] == 0 && apps.get(i).receivedCount() >= HELLO_BYTES + AFTER_BYTES) {
                            backAt[i] = now;
                            back[0]++;
                        }
                    }
                    return back[0] == n;
                });
        long cpuMillis = (cpuNanos() - cpuAtCut) / 1_000_000; System.out.println("PERFEND " + System.nanoTime());
        long[] millis = Arrays.stream(backAt).map(t -> (t - cutAt) / 1_000_000).sorted().toArray();
        int dials = rig.relay().connectionsAccepted() - linksBefore;
        System.out.printf("CrowdResumeTest: %d sessions cut at once, all back (echoing again) %d ms after the cut; "
                        + "per session p50 %d ms, p90 %d ms; %d links dialled to resume them; this JVM used %d ms of CPU "
                        + "meanwhile (%d CPUs)%n", n, millis[n - 1], millis[n / 2], millis[n * 9 / 10], dials, cpuMillis,
                Runtime.getRuntime().availableProcessors());

        for (int i = 0; i < n; i++) {
            Streams.assertSameStream("session " + i, sent.get(i), apps.get(i).received());
        }
        List<LogCapture.Line> limited = logs.find(Level.INFO, m -> m.contains("handshake places"));
        assertTrue(limited.isEmpty(), "sproxy's handshake limits turned links away: " + limited);
        // In this one JVM the test relay stands between cproxy and sproxy, one thread pair per
        // connection: on an overloaded machine it may forward a HELLO that cproxy sent at once
        // later than sproxy's 2 s first-frame deadline. Such a link is dropped and dialled again
        // (counted above as a link dialled); that is allowed, nothing else is.
        List<LogCapture.Line> lateHello = logs.find(Level.WARN, m -> m.contains("no HELLO within"));
        List<LogCapture.Line> warned = logs.find(Level.WARN, m -> !m.contains("no HELLO within"));
        assertTrue(warned.isEmpty(), warned.size() + " warnings, e.g. " + warned.subList(0, Math.min(5, warned.size())));
        System.out.printf("CrowdResumeTest: %d links dropped by sproxy's first-frame deadline and dialled again%n",
                lateHello.size());
        List<LogCapture.Line> refused = logs.find(Level.INFO, m -> m.contains("refused") || m.contains("cannot reach"));
        assertTrue(refused.isEmpty(), refused.size() + " refusals or failed dials, e.g. "
                + refused.subList(0, Math.min(5, refused.size())));
        assertEquals(n, fewestAtSproxy[0], "sproxy kept every session throughout");
        assertEquals(n, rig.sproxy().sessionCount(), "sproxy kept every session");
        assertEquals(n, rig.cproxy().sessionCount(), "cproxy kept every session");
        assertEquals(n, echo.connectionsAccepted(), "one target connection per session: each was resumed, "
                + "never recreated");
    }

    /** CPU time this JVM has used so far, all its threads together. */
    private static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }
}
