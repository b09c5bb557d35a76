package net.roamproxy.cli;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import net.roamproxy.client.ClientProxy;
import net.roamproxy.server.ServerProxy;
import net.roamproxy.status.MetricsServer;
import net.roamproxy.testkit.Await;
import net.roamproxy.testkit.PrometheusParser;

/**
 * {@code --metrics [ADDR:]PORT} on both commands: off unless given, loopback for a bare port,
 * settable in the config file; a bad value is one line with status 2, a port in use one line
 * with status 1 and nothing left running.
 */
@Timeout(30)
class MetricsOptionTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    @TempDir Path dir;

    /** Both commands on ephemeral loopback ports with {@code args} added; what either starts is closed again. */
    private static List<Cli.Result> both(String... args) {
        List<String> sproxyArgs = new ArrayList<>(List.of("-l", "127.0.0.1", "-p", "0"));
        sproxyArgs.addAll(List.of(args));
        List<String> cproxyArgs = new ArrayList<>(sproxyArgs);
        cproxyArgs.add("127.0.0.1");
        return List.of(Cli.runAndClose("cproxy", new CproxyMain(), cproxyArgs.toArray(String[]::new)),
                Cli.runAndClose("sproxy", new SproxyMain(), sproxyArgs.toArray(String[]::new)));
    }

    private static Launcher<?> command(String name) {
        return name.equals("cproxy") ? new CproxyMain() : new SproxyMain();
    }

    /** {@code args} for {@code command}: cproxy also gets its SERVER. */
    private static String[] argsFor(String command, String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        if (command.equals("cproxy")) {
            all.add("127.0.0.1");
        }
        return all.toArray(String[]::new);
    }

    private static boolean metricsThreadsRun() {
        return Thread.getAllStackTraces().keySet().stream()
                .anyMatch(t -> t.isAlive() && t.getName().matches("[cs]proxy-metrics-.*"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"cproxy", "sproxy"})
    void offUnlessAskedForNoListenerNoThread(String name) throws Exception {
        Launcher<?> cmd = command(name);
        cmd.configure(argsFor(name));
        assertNull(cmd.metricsAddress());

        try (Cli.Capturing<?> c = new Cli.Capturing<>(name, command(name))) {
            Cli.Result r = Cli.run(c, argsFor(name, "-l", "127.0.0.1", "-p", "0"));
            assertEquals(0, r.status(), r.toString());
            assertTrue(c.started() != null, "the proxy runs");
            assertNull(c.metrics(), "no metrics server without --metrics");
            assertTrue(!metricsThreadsRun(), "no metrics thread");
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"cproxy", "sproxy"})
    void aBarePortIsOnLoopbackAndAnAddressIsTakenAsGiven(String name) throws Exception {
        Launcher<?> cmd = command(name);
        cmd.configure(argsFor(name, "--metrics", "9200"));
        assertEquals(new InetSocketAddress(LOOPBACK, 9200), cmd.metricsAddress());
        assertEquals("127.0.0.1", cmd.metricsAddress().getAddress().getHostAddress());

        cmd.configure(argsFor(name, "--metrics", "0.0.0.0:9300"));
        assertEquals(new InetSocketAddress("0.0.0.0", 9300), cmd.metricsAddress());
        cmd.configure(argsFor(name, "--metrics", "[::1]:9301"));
        assertEquals(new InetSocketAddress("::1", 9301), cmd.metricsAddress());
        cmd.configure(argsFor(name, "--metrics", "localhost:9302"));
        assertTrue(cmd.metricsAddress().getAddress().isLoopbackAddress());
        assertEquals(9302, cmd.metricsAddress().getPort());
    }

    @ParameterizedTest
    @ValueSource(strings = {"cproxy", "sproxy"})
    void theConfigFileSetsItAndTheCommandLineWins(String name) throws Exception {
        Path conf = Files.writeString(dir.resolve(name + ".conf"), "metrics = 127.0.0.1:9400\n");
        Launcher<?> cmd = command(name);
        cmd.configure(argsFor(name, "--config", conf.toString()));
        assertEquals(new InetSocketAddress(LOOPBACK, 9400), cmd.metricsAddress());

        cmd.configure(argsFor(name, "--config", conf.toString(), "--metrics", "9401"));
        assertEquals(new InetSocketAddress(LOOPBACK, 9401), cmd.metricsAddress());
    }

    @ParameterizedTest(name = "--metrics ''{0}''")
    @CsvSource(delimiter = '|', value = {
        "abc|needs PORT or ADDR:PORT",
        "''|needs PORT or ADDR:PORT",
        ":9200|needs PORT or ADDR:PORT",
        "127.0.0.1:|needs PORT or ADDR:PORT",
        "127.0.0.1:http|needs PORT or ADDR:PORT",
        "-1|needs PORT or ADDR:PORT",
        "92 00|needs PORT or ADDR:PORT",
        "[::1]|needs PORT or ADDR:PORT",
        "65536|port must be from 0 to 65535, got 65536",
        "::1:9200|needs an IPv6 address in brackets",
    })
    void aBadValueIsOneLineWithStatusTwoAndStartsNothing(String value, String message) {
        List<org.junit.jupiter.api.function.Executable> checks = new ArrayList<>();
        for (Cli.Result r : both("--metrics=" + value)) {
            checks.add(() -> assertEquals(2, r.status(), r.toString()));
            checks.add(() -> assertEquals(1, r.errLines().size(), r.err()));
            checks.add(() -> assertTrue(r.err().contains("--metrics " + message), r.err()));
            checks.add(() -> assertTrue(r.err().contains("(try --help)"), r.err()));
        }
        assertAll(checks);
    }

    @Test
    void aBadValueInTheConfigFileNamesItsLine() throws Exception {
        Path conf = Files.writeString(dir.resolve("sproxy.conf"), "# metrics\nmetrics = nine\n");
        Cli.Result r = Cli.sproxyExpectingNoStart("--config", conf.toString());
        assertEquals(2, r.status(), r.toString());
        assertEquals(List.of("sproxy: " + conf + ":2: metrics needs PORT or ADDR:PORT, as in 9200 or 127.0.0.1:9200, "
                + "got 'nine' (try --help)"), r.errLines());
    }

    @ParameterizedTest
    @ValueSource(strings = {"cproxy", "sproxy"})
    void aPortInUseIsOneLineNamingTheAddressWithStatusOneAndTheProxyIsClosedAgain(String name) throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, LOOPBACK);
             Cli.Capturing<?> c = new Cli.Capturing<>(name, command(name))) {
            Cli.Result r = Cli.run(c, argsFor(name, "-l", "127.0.0.1", "-p", "0", "--metrics",
                    String.valueOf(taken.getLocalPort())));

            assertEquals(1, r.status(), r.toString());
            assertEquals(1, r.errLines().size(), r.err());
            assertTrue(r.err().startsWith(name + ": cannot listen for metrics on 127.0.0.1:" + taken.getLocalPort()
                    + ": "), r.err());
            int port = c.started() instanceof ClientProxy p ? p.port() : ((ServerProxy) c.started()).port();
            // The kernel lets the listening socket go once the accept thread has left accept(): soon, not at once.
            Await.until(Duration.ofSeconds(10), "the proxy that started is closed again", () -> refused(port));
        }
    }

    private static boolean refused(int port) {
        try (Socket s = new Socket(LOOPBACK, port)) {
            return false;
        } catch (ConnectException e) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"cproxy", "sproxy"})
    void aRunningDaemonServesItsMetrics(String name) throws Exception {
        try (Cli.Capturing<?> c = new Cli.Capturing<>(name, command(name))) {
            Cli.Result r = Cli.run(c, argsFor(name, "-l", "127.0.0.1", "-p", "0", "--metrics", "0"));
            assertEquals(0, r.status(), r.toString());
            MetricsServer server = assertInstanceOf(MetricsServer.class, c.metrics());
            assertEquals(LOOPBACK, server.address().getAddress());

            PrometheusParser.Scrape s = PrometheusParser.scrape(server.address());
            assertEquals(1, s.value("roamproxy_build_info", "daemon", name, "version", Launcher.version()));
            assertEquals(0, s.value("roamproxy_sessions"));
        }
        Await.until(Duration.ofSeconds(10), "closing the daemon ends the metrics threads", () -> !metricsThreadsRun());
    }

    @ParameterizedTest
    @ValueSource(strings = {"cproxy", "sproxy"})
    void helpDescribesTheOption(String name) {
        String out = Cli.run(command(name), "--help").out();
        assertTrue(out.contains("--metrics <ADDR:PORT>"), out);
        assertTrue(out.contains("Prometheus"), out);
    }
}
