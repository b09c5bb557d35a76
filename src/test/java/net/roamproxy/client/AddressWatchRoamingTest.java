package net.roamproxy.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import net.roamproxy.server.ServerConfig;
import net.roamproxy.server.ServerProxy;
import net.roamproxy.session.LinkSettings;
import net.roamproxy.testkit.AppClient;
import net.roamproxy.testkit.Await;
import net.roamproxy.testkit.Closer;
import net.roamproxy.testkit.EchoServer;
import net.roamproxy.testkit.FaultyRelay;
import net.roamproxy.testkit.LogCapture;
import net.roamproxy.testkit.Rig;
import net.roamproxy.testkit.Streams;

/**
 * The address watch in the whole product on loopback: the test plays the host's address list
 * (a fake source) and the network (a {@link FaultyRelay} that black-holes the old link, as a
 * removed address does). The heartbeat is long, so the session can only come back in time if
 * the watch, not three missed heartbeats, ends the dead link.
 */
@Timeout(60)
class AddressWatchRoamingTest {
    /** Three missed heartbeats take 30 s: far beyond what any await below allows. */
    private static final LinkSettings LINK = Rig.link(Duration.ofSeconds(10), LinkSettings.DEFAULT_BUFFER_BYTES, 1,
            60);
    /** Generous for a loaded machine, and still a third of the heartbeat timeout. */
    private static final Duration BACK_WITHIN = Duration.ofSeconds(10);
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    @RegisterExtension final Closer closer = new Closer();
    @RegisterExtension final LogCapture logs = LogCapture.closedBy(closer);

    private final Set<InetAddress> host = ConcurrentHashMap.newKeySet();
    private final AtomicInteger reads = new AtomicInteger();
    private EchoServer target;
    private FaultyRelay relay;

    private ClientProxy chain(boolean watch) throws IOException {
        host.add(LOOPBACK);
        target = closer.add(new EchoServer());
        ServerProxy sproxy = closer.add(new ServerProxy(new ServerConfig(LOOPBACK, 0, "127.0.0.1", target.port(), LINK,
                ServerConfig.DEFAULT_MAX_SESSIONS, ServerConfig.DEFAULT_MAX_HANDSHAKES, null)));
        sproxy.start();
        relay = closer.add(FaultyRelay.start(sproxy.port()));
        ClientProxy cproxy = closer.add(new ClientProxy(new ClientConfig(LOOPBACK, 0, "127.0.0.1", relay.port(), LINK,
                null, watch, null), () -> {
                    reads.incrementAndGet();
                    return new HashSet<>(host);
                }));
        cproxy.start();
        return cproxy;
    }

    /** Sends {@code bytes} and waits until the echo has all of it. */
    private static void echo(AppClient app, byte[] bytes, int expectedTotal) throws Exception {
        app.write(bytes);
        Await.until(BACK_WITHIN, () -> "echo at " + app.receivedCount() + "/" + expectedTotal,
                () -> app.receivedCount() >= expectedTotal);
    }

    @Test
    void theWatchRunsOnlyWhileSessionsExist() throws Exception {
        ClientProxy cproxy = chain(true);
        assertFalse(cproxy.watchingAddresses(), "no session yet: nothing to watch for");
        assertEquals(0, reads.get(), "the host's addresses were not read");

        AppClient app = closer.add(AppClient.connect("app", cproxy.port()));
        echo(app, new byte[] {1, 2, 3}, 3);
        assertTrue(cproxy.watchingAddresses(), "a session: the watch runs");

        app.close();
        Await.until(BACK_WITHIN, "the session ends", () -> cproxy.sessionCount() == 0);
        Await.until(BACK_WITHIN, "the watch stops with the last session", () -> !cproxy.watchingAddresses());
    }

    @Test
    void aLinkWhoseLocalAddressDisappearsIsDroppedAtOnceAndTheSessionResumesLosingNothing() throws Exception {
        ClientProxy cproxy = chain(true);
        AppClient app = closer.add(AppClient.connect("app", cproxy.port()));
        byte[] before = Streams.pseudoRandom(1, 1000);
        echo(app, before, before.length);

        relay.blackhole(); // the old path goes silent, as packets to a removed address do
        relay.restore();   // ... while a new path works
        byte[] during = Streams.pseudoRandom(2, 64 * 1024);
        app.write(during); // lost with the old link, so it must be replayed
        host.remove(LOOPBACK);

        logs.await(BACK_WITHIN, "the watch drops the link", Level.INFO,
                m -> m.contains("local address 127.0.0.1 removed; reconnecting"));
        Await.until(BACK_WITHIN, () -> "echo after the resume at " + app.receivedCount(),
                () -> app.receivedCount() >= before.length + during.length);
        byte[] sent = new byte[before.length + during.length];
        System.arraycopy(before, 0, sent, 0, before.length);
        System.arraycopy(during, 0, sent, before.length, during.length);
        Streams.assertSameStream("echo", sent, app.received());
        assertEquals(1, target.connectionsAccepted(), "one session at the target: resumed, not new");
        // At least one new link, not exactly one: cproxy may race a second connect, or dial again.
        assertTrue(relay.connectionsAccepted() >= 2, "a new link: " + relay.connectionsAccepted() + " connections");
        logs.await(BACK_WITHIN, "the session resumes over a new link", Level.INFO,
                m -> m.contains("resumed over link"));
        logs.await(BACK_WITHIN, "the link's loss names the address", Level.INFO,
                m -> m.contains("lost: local address 127.0.0.1 removed"));
    }

    @Test
    void anAddressThatFlapsLosesAndDuplicatesNothing() throws Exception {
        ClientProxy cproxy = chain(true);
        AppClient app = closer.add(AppClient.connect("app", cproxy.port()));
        // The watch starts with the first session: the first flap must come after both.
        Await.until(BACK_WITHIN, "the session's first link is up and watched", () -> cproxy.watchingAddresses()
                && !logs.find(Level.INFO, m -> m.contains("started over link")).isEmpty());
        byte[] stream = Streams.pseudoRandom(3, 5 * 8 * 1024);
        int sent = 0;
        for (int flap = 1; flap <= 5; flap++) {
            byte[] chunk = Arrays.copyOfRange(stream, sent, sent + 8 * 1024);
            app.write(chunk);
            sent += chunk.length;
            host.remove(LOOPBACK);
            int n = flap;
            Await.until(BACK_WITHIN, "removal " + n + " noticed",
                    () -> logs.find(Level.INFO, m -> m.contains("local address 127.0.0.1 removed; reconnecting")).size() >= n);
            host.add(LOOPBACK);
            // The watch polls: a change it never saw would prove nothing.
            Await.until(BACK_WITHIN, "return " + n + " noticed", () -> logs.find(Level.INFO,
                    m -> m.contains("address 127.0.0.1 appeared")).size() >= n);
            Await.until(BACK_WITHIN, "resume " + n, () -> logs.find(Level.INFO,
                    m -> m.contains("resumed over link")).size() >= n);
        }
        int total = sent;
        Await.until(BACK_WITHIN, () -> "echo at " + app.receivedCount() + "/" + total,
                () -> app.receivedCount() >= total);
        assertFalse(Await.poll(Duration.ofMillis(300), () -> app.receivedCount() > total), "nothing arrives twice");
        Streams.assertSameStream("echo", stream, app.received());
        assertEquals(1, target.connectionsAccepted(), "one session at the target");
    }

    @Test
    void withTheWatchOffTheHostsAddressesAreNeverRead() throws Exception {
        ClientProxy cproxy = chain(false);
        AppClient app = closer.add(AppClient.connect("app", cproxy.port()));
        echo(app, new byte[] {1, 2, 3}, 3);
        assertEquals(0, reads.get());
        logs.await(BACK_WITHIN, "the operator is told", Level.INFO, m -> m.contains("address watch off"));
    }
}
