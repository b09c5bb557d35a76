package net.roamproxy.hardening;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;
import org.junit.jupiter.api.extension.RegisterExtension;

import net.roamproxy.session.LinkSettings;
import net.roamproxy.testkit.AppClient;
import net.roamproxy.testkit.Await;
import net.roamproxy.testkit.Chaos;
import net.roamproxy.testkit.Closer;
import net.roamproxy.testkit.LogCapture;
import net.roamproxy.testkit.Pacer;
import net.roamproxy.testkit.Rig;
import net.roamproxy.testkit.StreamServer;
import net.roamproxy.testkit.Streams;

/**
 * Bulk transfer both ways through one session while the link is reset (mid-frame, mid-
 * handshake, mid-replay) and black-holed again and again, with the smallest replay buffer
 * allowed: both streams arrive byte-exact (SHA-256), the target sees one connection, and no
 * resume ever resends more than the replay buffer holds.
 */
class SoakTest {
    private static final Duration INTERVAL = Duration.ofMillis(50);
    private static final int BUFFER = LinkSettings.MIN_BUFFER_BYTES;
    private static final int CHUNK = 16 * 1024;
    /** What cproxy and sproxy log for a resume; the README documents the wording. */
    private static final Pattern RESENDING = Pattern.compile("resending (\\d+) bytes");

    @RegisterExtension final Closer closer = new Closer();
    @RegisterExtension final LogCapture logs = LogCapture.closedBy(closer);

    @Test
    @Timeout(90)
    void twoHundredCutsAndTenBlackHolesDuringBulkTransferBothWaysLoseAndDuplicateNothing() throws Exception {
        soak(210, 10, 4 << 20, 5_001, Duration.ofSeconds(60));
    }

    @Test
    @EnabledIfSystemProperty(named = "roamproxy.long", matches = "true")
    @Timeout(900)
    void aThousandCutsAndFiftyBlackHolesDuringBulkTransferBothWaysLoseAndDuplicateNothing() throws Exception {
        soak(1_000, 50, 16 << 20, 5_002, Duration.ofMinutes(12));
    }

    private void soak(int cuts, int blackholes, int bytes, long seed, Duration budget) throws Exception {
        LinkSettings link = Rig.link(INTERVAL, BUFFER, 10, 600);
        AtomicReference<Pacer> pace = new AtomicReference<>(Pacer.NONE);
        StreamServer target = closer.add(new StreamServer(bytes, seed, false, (o, t) -> pace.get().beforeChunk(o, t)));
        Rig rig = closer.add(Rig.with(link, target.port()).start());
        Set<Integer> holes = new HashSet<>();
        for (int i = 1; i <= blackholes; i++) {
            holes.add(i * cuts / (blackholes + 1));
        }
        Chaos chaos = closer.add(new Chaos(rig, seed, cuts, holes, 1, 16 * 1024));
        pace.set(chaos.pacer(8));
        AppClient app = rig.openApp();
        byte[] upstream = Streams.pseudoRandom(seed + 1, bytes);
        Await.until(rig.flowDeadline(), "session established",
                () -> target.connectionsAccepted() == 1 && app.receivedCount() > 0);
        long started = System.nanoTime();

        chaos.start();
        app.writeInBackground(upstream, CHUNK, chaos.pacer(8));

        Await.done(chaos.finished(), budget, "chaos: " + chaos);
        StreamServer.Conn conn = target.connection(0);
        Await.until(rig.relinkDeadline().plus(rig.flowDeadline()),
                () -> "both streams complete after " + chaos + ": downstream " + app.receivedCount() + "/"
                        + bytes + ", upstream " + conn.receivedCount() + "/" + bytes,
                () -> app.receivedCount() >= bytes && conn.receivedCount() >= bytes);
        Await.done(app.written(), rig.flowDeadline(), "application wrote its stream");
        assertFalse(Await.poll(rig.intervals(5), () -> app.receivedCount() > bytes || conn.receivedCount() > bytes),
                "no byte arrives twice after the end of either stream");

        Streams.assertSameStream("downstream (target to application)", conn.stream(), app.received());
        Streams.assertSameStream("upstream (application to target)", upstream, conn.received());
        assertEquals(1, target.connectionsAccepted(), "the session was resumed every time, never recreated");
        assertTrue(chaos.cuts() >= cuts, "cuts made: " + chaos);
        assertEquals(blackholes, chaos.blackholes(), "black holes: " + chaos);
        assertFalse(app.ended().isDone(), "the application connection stays open");

        List<LogCapture.Line> resumes = logs.find(Level.INFO, m -> RESENDING.matcher(m).find());
        assertTrue(resumes.size() >= cuts, "a resume line (\"resending N bytes\") per side and resume; found "
                + resumes.size() + " for " + chaos);
        long most = 0;
        for (LogCapture.Line l : resumes) {
            Matcher m = RESENDING.matcher(l.message());
            assertTrue(m.find());
            long resent = Long.parseLong(m.group(1));
            most = Math.max(most, resent);
            assertTrue(resent <= BUFFER, "a resume resent more than the " + BUFFER + "-byte replay buffer: " + l);
        }
        System.out.printf("soak: %s in %d ms; %d resumes, at most %d bytes resent (buffer %d)%n", chaos,
                (System.nanoTime() - started) / 1_000_000, resumes.size(), most, BUFFER);
    }
}
