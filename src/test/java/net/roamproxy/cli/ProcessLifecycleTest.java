package net.roamproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import net.roamproxy.client.ClientProxy;

/**
 * The commands as processes, the way systemd and a terminal run them: SIGTERM and SIGINT stop
 * them in order with exit status 0 (not the JVM's 143 or 130), {@code main} exits with the
 * documented statuses, and logs carry a timestamp in a terminal but a syslog priority prefix
 * instead when stderr is the journal. How long a stop took is printed, not asserted: on a
 * loaded machine it may take longer without anything being wrong; one that hangs fails on
 * the guard.
 */
@Timeout(120)
class ProcessLifecycleTest {
    /** Only against a hang, far beyond what an orderly stop takes. */
    private static final long STOP_GUARD_MS = 30_000;
    private static final int SIGINT = 2;

    @Test
    void sigtermStopsSproxyWithALiveSessionInOrderAndItExitsZero() throws Exception {
        assumeTrue(isLinux(), "signals via kill(1) and /proc");
        try (ServerSocket echo = SecretFileOptionTest.echoServer();
             Daemon sproxy = Daemon.start(SproxyMain.class, Map.of(), "-l", "127.0.0.1", "-p", "0",
                     "--target", "127.0.0.1:" + echo.getLocalPort());
             Cli.Capturing<?> cproxy = new Cli.Capturing<>("cproxy", new CproxyMain())) {
            int linkPort = sproxy.awaitListening();
            assertEquals(0, Cli.run(cproxy, "-l", "127.0.0.1", "-p", "0", "-s", String.valueOf(linkPort),
                    "--heartbeat", "200", "--detach-timeout", "30", "127.0.0.1").status());
            try (Socket app = new Socket()) {
                app.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(),
                        ((ClientProxy) cproxy.started()).port()), 5_000);
                app.setSoTimeout(10_000);
                app.getOutputStream().write("hello\n".getBytes(StandardCharsets.US_ASCII));
                assertEquals("hello\n", new String(app.getInputStream().readNBytes(6), StandardCharsets.US_ASCII));
                sproxy.awaitLine("new session", 5_000);

                long t0 = System.nanoTime();
                sproxy.signal("TERM");
                boolean exited = sproxy.process().waitFor(STOP_GUARD_MS, TimeUnit.MILLISECONDS);
                long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);

                assertTrue(exited, "sproxy still running " + STOP_GUARD_MS + " ms after SIGTERM:\n" + sproxy.stderr());
                assertEquals(0, sproxy.process().exitValue(), sproxy.stderr());
                String log = sproxy.stderr();
                assertTrue(log.contains("sproxy received SIGTERM, stopping"), log);
                assertTrue(log.contains("sproxy stopped"), log);
                // Orderly: the live session was closed (its target connection with it) before the exit.
                assertTrue(log.matches("(?s).*session [0-9a-f]+: closed: sproxy is shutting down.*"), log);
                assertTrue(log.indexOf("closed: sproxy is shutting down") < log.indexOf("sproxy stopped"), log);
                System.out.printf("sproxy with a live session: exited %d ms after SIGTERM%n", tookMs);
            }
        }
    }

    @Test
    void sigtermStopsCproxyAndItExitsZero() throws Exception {
        assumeTrue(isLinux(), "signals via kill(1) and /proc");
        try (Daemon cproxy = Daemon.start(CproxyMain.class, Map.of(), "-l", "127.0.0.1", "-p", "0", "127.0.0.1")) {
            cproxy.awaitListening();

            cproxy.signal("TERM");

            assertTrue(cproxy.process().waitFor(STOP_GUARD_MS, TimeUnit.MILLISECONDS), cproxy.stderr());
            assertEquals(0, cproxy.process().exitValue(), cproxy.stderr());
            assertTrue(cproxy.stderr().contains("cproxy received SIGTERM, stopping"), cproxy.stderr());
            assertTrue(cproxy.stderr().contains("cproxy stopped"), cproxy.stderr());
        }
    }

    @Test
    void sigintFromATerminalStopsSproxyLikeSigterm() throws Exception {
        assumeTrue(isLinux(), "signals via kill(1) and /proc");
        try (Daemon sproxy = Daemon.start(SproxyMain.class, Map.of(), "-l", "127.0.0.1", "-p", "0")) {
            sproxy.awaitListening();
            assumeFalse(sproxy.ignores(SIGINT), "this test run was started with SIGINT ignored (a background job), "
                    + "which the child inherits and rightly keeps");

            sproxy.signal("INT");

            assertTrue(sproxy.process().waitFor(STOP_GUARD_MS, TimeUnit.MILLISECONDS), sproxy.stderr());
            assertEquals(0, sproxy.process().exitValue(), sproxy.stderr());
            assertTrue(sproxy.stderr().contains("sproxy received SIGINT, stopping"), sproxy.stderr());
        }
    }

    @Test
    void badArgumentExitsTwoFromMain() throws Exception {
        try (Daemon sproxy = Daemon.start(SproxyMain.class, Map.of(), "--port", "http")) {
            assertTrue(sproxy.process().waitFor(20, TimeUnit.SECONDS));
            assertEquals(2, sproxy.process().exitValue());
            assertEquals("sproxy: --port needs a whole number, got 'http' (try --help)", sproxy.stderr());
        }
    }

    @Test
    void portInUseExitsOneFromMain() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             Daemon cproxy = Daemon.start(CproxyMain.class, Map.of(), "-l", "127.0.0.1", "-p",
                     String.valueOf(taken.getLocalPort()), "127.0.0.1")) {
            assertTrue(cproxy.process().waitFor(20, TimeUnit.SECONDS));
            assertEquals(1, cproxy.process().exitValue());
            assertTrue(cproxy.stderr().startsWith("cproxy: cannot listen on 127.0.0.1:" + taken.getLocalPort()),
                    cproxy.stderr());
        }
    }

    @Test
    void helpAndVersionExitZeroFromMain() throws Exception {
        try (Daemon v = Daemon.start(CproxyMain.class, Map.of(), "--version")) {
            assertTrue(v.process().waitFor(20, TimeUnit.SECONDS));
            assertEquals(0, v.process().exitValue());
        }
    }

    @Test
    void inATerminalEachLogLineStartsWithTheTime() throws Exception {
        try (Daemon sproxy = Daemon.start(SproxyMain.class, Map.of(), "-l", "127.0.0.1", "-p", "0")) {
            String line = sproxy.awaitLine("sproxy listening on", 20_000).group();
            String full = sproxy.stderr().lines().filter(l -> l.contains(line)).findFirst().orElseThrow();

            assertTrue(full.matches("\\d\\d:\\d\\d:\\d\\d\\.\\d{3} INFO  \\[main] sproxy listening on .*"), full);
        }
    }

    @Test
    void underSystemdLogLinesCarryAPriorityPrefixAndNoTimestampForTheJournal() throws Exception {
        try (Daemon sproxy = Daemon.start(SproxyMain.class, Map.of("JOURNAL_STREAM", "8:12345"), "-l", "127.0.0.1",
                "-p", "0")) {
            sproxy.awaitListening();
            String full = sproxy.stderr().lines().filter(l -> l.contains("sproxy listening on")).findFirst()
                    .orElseThrow();

            assertTrue(full.startsWith("<6>INFO  [main] sproxy listening on "), full);
            assertFalse(full.matches(".*\\d\\d:\\d\\d:\\d\\d.*"), "no timestamp: the journal adds its own: " + full);
        }
    }

    @Test
    void underSystemdAnErrorLineIsMarkedAsAnErrorForTheJournal() throws Exception {
        try (Daemon sproxy = Daemon.start(SproxyMain.class, Map.of("JOURNAL_STREAM", "8:12345"), "--missed", "0")) {
            assertTrue(sproxy.process().waitFor(20, TimeUnit.SECONDS));
            assertEquals(2, sproxy.process().exitValue());
            assertEquals("<3>sproxy: --missed must be from 1 to 1000, got 0 (try --help)", sproxy.stderr());
        }
    }

    private static boolean isLinux() {
        return System.getProperty("os.name").toLowerCase().contains("linux");
    }
}
