package net.roamproxy.it;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import net.roamproxy.client.ClientConfig;
import net.roamproxy.client.ClientProxy;
import net.roamproxy.server.ServerConfig;
import net.roamproxy.server.ServerProxy;
import net.roamproxy.session.LinkSettings;
import net.roamproxy.testkit.AppClient;
import net.roamproxy.testkit.Await;
import net.roamproxy.testkit.Closer;
import net.roamproxy.testkit.EchoServer;
import net.roamproxy.testkit.LogCapture;
import net.roamproxy.testkit.Rig;
import net.roamproxy.trust.ServerKeys;
import net.roamproxy.wire.Handshake;
import net.roamproxy.wire.HostKey;

/**
 * Two sproxy instances behind one address (one host key, their own refusal keys), and a
 * "balancer" that sends a session's resumes to the wrong one: that instance answers
 * WRONG_INSTANCE, never UNKNOWN_SESSION, so cproxy keeps dialling and the session lives on
 * until the resumes reach its own instance again. The instance says so once as an ERROR.
 */
@Timeout(60)
class WrongInstanceTest {
    private static final LinkSettings LINK = Rig.link(Duration.ofMillis(100));

    @RegisterExtension final Closer closer = new Closer();
    @RegisterExtension final LogCapture logs = LogCapture.closedBy(closer);

    @Test
    void aResumeAtTheWrongInstanceIsAFailedDialAndTheSessionResumesAtItsOwn() throws Exception {
        EchoServer target = closer.add(new EchoServer());
        HostKey shared = HostKey.generate();
        ServerProxy one = start(target, shared, 1);
        ServerProxy two = start(target, shared, 2);
        Switch balancer = closer.add(new Switch(one.port()));
        ClientProxy cproxy = closer.add(new ClientProxy(new ClientConfig(InetAddress.getLoopbackAddress(), 0,
                "127.0.0.1", balancer.port(), LINK)));
        cproxy.start();
        AppClient app = closer.add(AppClient.connect("s1", cproxy.port()));
        echoes(app, "before");
        long id = sessionIdFromLog();
        assertEquals(1, Handshake.instanceOf(id), "the id carries its instance");

        balancer.sendTo(two.port());
        int before = balancer.accepted();
        balancer.cutAll();
        Await.until(Duration.ofSeconds(20), "cproxy dials the wrong instance again and again",
                () -> balancer.accepted() >= before + 4);
        assertFalse(app.ended().isDone(), "the session lives on");
        List<LogCapture.Line> errors = logs.find(Level.ERROR, m -> m.contains("belongs to instance 1"));
        assertEquals(1, errors.size(), "one ERROR, then a count: " + logs.dump(0));
        assertTrue(errors.get(0).message().contains("this is instance 2"), errors.get(0).message());
        assertTrue(logs.find(Level.INFO, m -> m.contains("no such session")).isEmpty(),
                "never answered as an unknown session: " + logs.dump(0));

        balancer.sendTo(one.port());
        echoes(app, "after");
        assertEquals(1, target.connectionsAccepted(), "the same session, not a new one");
    }

    private ServerProxy start(EchoServer target, HostKey hostKey, int instance) throws IOException {
        ServerKeys keys = new ServerKeys(hostKey, Handshake.randomBytes(32)); // a refusal key of its own
        ServerProxy p = closer.add(new ServerProxy(new ServerConfig(InetAddress.getLoopbackAddress(), 0, "127.0.0.1",
                target.port(), LINK, ServerConfig.DEFAULT_MAX_SESSIONS, ServerConfig.DEFAULT_MAX_HANDSHAKES, null,
                keys, java.util.Map.of(), 0, instance)));
        p.start();
        return p;
    }

    private static void echoes(AppClient app, String text) throws Exception {
        byte[] b = text.getBytes(StandardCharsets.US_ASCII);
        int from = app.receivedCount();
        app.write(b);
        Await.until(Duration.ofSeconds(20), "echo of '" + text + "'", () -> app.receivedCount() >= from + b.length);
        byte[] got = app.received();
        assertArrayEquals(b, java.util.Arrays.copyOfRange(got, from, from + b.length));
    }

    private long sessionIdFromLog() throws InterruptedException {
        String m = logs.await(Duration.ofSeconds(10), "the new session", Level.INFO,
                s -> s.startsWith("session ") && s.contains("new session from")).message();
        return Long.parseUnsignedLong(m.substring("session ".length(), m.indexOf(':')), 16);
    }

    /** A TCP relay to whichever port it is told: a load balancer that can be misconfigured at will. */
    private static final class Switch implements AutoCloseable {
        private final ServerSocket server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        private final List<Socket> open = new CopyOnWriteArrayList<>();
        private final AtomicInteger accepted = new AtomicInteger();
        private volatile int to;

        Switch(int to) throws IOException {
            this.to = to;
            Thread t = new Thread(this::accept, "it-switch");
            t.setDaemon(true);
            t.start();
        }

        int port() {
            return server.getLocalPort();
        }

        int accepted() {
            return accepted.get();
        }

        void sendTo(int port) {
            to = port;
        }

        void cutAll() {
            open.forEach(WrongInstanceTest::closeQuietly);
        }

        private void accept() {
            while (!server.isClosed()) {
                try {
                    Socket in = server.accept();
                    accepted.incrementAndGet();
                    Socket out = new Socket(InetAddress.getLoopbackAddress(), to);
                    open.add(in);
                    open.add(out);
                    pump(in, out);
                    pump(out, in);
                } catch (IOException e) {
                    // closed, or the instance is not there: cproxy sees a failed dial
                }
            }
        }

        private void pump(Socket from, Socket to) {
            Thread t = new Thread(() -> {
                byte[] buf = new byte[16384];
                try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                    int n;
                    while ((n = in.read(buf)) >= 0) {
                        out.write(buf, 0, n);
                    }
                } catch (IOException e) {
                    // cut
                } finally {
                    closeQuietly(from);
                    closeQuietly(to);
                }
            }, "it-switch-pump");
            t.setDaemon(true);
            t.start();
        }

        @Override
        public void close() {
            closeQuietly(server);
            cutAll();
        }
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // closing anyway
        }
    }
}
