package net.roamproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import net.roamproxy.client.ClientConfig;
import net.roamproxy.client.ClientProxy;
import net.roamproxy.session.LinkSettings;

/**
 * SIGHUP makes sproxy read its config file again: a service added there is offered at once,
 * live sessions carry on, and a bad file is refused with one ERROR line while the running
 * configuration stays. Real processes and real signals.
 */
@Timeout(60)
class ReloadTest {
    private static final int SIGHUP = 1;

    @TempDir
    Path dir;

    @Test
    void sighupAddsAServiceKeepsTheLiveSessionAndRefusesABadFile() throws Exception {
        assumeTrue(System.getProperty("os.name").startsWith("Linux"), "signals via kill(1)");
        Path conf = dir.resolve("sproxy.conf");
        try (ServerSocket telnet = SecretFileOptionTest.echoServer();
             ServerSocket extra = SecretFileOptionTest.echoServer()) {
            Files.writeString(conf, "listen = 127.0.0.1\nport = 0\ntarget = 127.0.0.1:" + telnet.getLocalPort() + "\n");
            try (Daemon sproxy = Daemon.start(SproxyMain.class, Map.of(), "--config", conf.toString());
                 ClientProxy cproxy = new ClientProxy(new ClientConfig(InetAddress.getLoopbackAddress(), 0,
                         "127.0.0.1", sproxy.awaitListening(), LinkSettings.defaults(), null, false, null,
                         List.of(new ClientConfig.Forward(InetAddress.getLoopbackAddress(), 0, "extra"))))) {
                assumeSighupReachesIt(sproxy);
                cproxy.start();
                try (Socket live = connect(cproxy.port())) {
                    assertEquals("one", echo(live, "one"));

                    Files.writeString(conf, "service = extra=127.0.0.1:" + extra.getLocalPort() + "\n",
                            StandardOpenOption.APPEND);
                    sproxy.signal("HUP");

                    sproxy.awaitLine("sproxy reloaded its configuration: log level \\w+; services default=127.0.0.1:\\d+, extra="
                            + "127.0.0.1:" + extra.getLocalPort() + ".*live sessions are kept", 20_000);
                    try (Socket added = connect(cproxy.port("extra"))) {
                        assertEquals("to the new service", echo(added, "to the new service"));
                    }
                    assertEquals("two", echo(live, "two"), "the live session carries on");

                    Files.writeString(conf, "max-sessions = lots\n", StandardOpenOption.APPEND);
                    sproxy.signal("HUP");

                    sproxy.awaitLine("ERROR .*the new configuration is refused, the running one stays: .*"
                            + "max-sessions", 20_000);
                    assertEquals("three", echo(live, "three"), "still carries on");
                    try (Socket again = connect(cproxy.port("extra"))) {
                        assertEquals("still offered", echo(again, "still offered"), "the running configuration stays");
                    }
                    assertTrue(sproxy.process().isAlive(), sproxy.stderr());
                }
            }
        }
    }

    @Test
    void sighupSetsTheLogLevelFromTheFileAndWithoutItGoesBackToTheEnvironments() throws Exception {
        assumeTrue(System.getProperty("os.name").startsWith("Linux"), "signals via kill(1)");
        Path conf = dir.resolve("sproxy.conf");
        String base = "listen = 127.0.0.1\nport = 0\ntarget = 127.0.0.1:9\n";
        Files.writeString(conf, base + "log-level = info\n");
        try (Daemon sproxy = Daemon.start(SproxyMain.class, Map.of("ROAMPROXY_LOG_LEVEL", "debug"),
                "--config", conf.toString())) {
            int port = sproxy.awaitListening();
            assumeSighupReachesIt(sproxy);

            Files.writeString(conf, base + "log-level = trace\n");
            sproxy.signal("HUP");
            sproxy.awaitLine("sproxy reloaded its configuration: log level TRACE;", 20_000);
            new Socket(InetAddress.getLoopbackAddress(), port).close();
            sproxy.awaitLine("DEBUG .*connection from .* closed before its HELLO", 20_000);

            Files.writeString(conf, base);
            sproxy.signal("HUP");
            sproxy.awaitLine("sproxy reloaded its configuration: log level DEBUG;", 20_000);
            assertTrue(sproxy.process().isAlive(), sproxy.stderr());
        }
    }

    private static Socket connect(int port) throws IOException {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
        s.setSoTimeout(20_000);
        return s;
    }

    private static String echo(Socket s, String text) throws IOException {
        byte[] b = text.getBytes(StandardCharsets.US_ASCII);
        s.getOutputStream().write(b);
        return new String(s.getInputStream().readNBytes(b.length), StandardCharsets.US_ASCII);
    }

    /**
     * A process started with SIGHUP ignored (this test run started under {@code nohup}) keeps
     * ignoring it, as every daemon does: there is then nothing to test.
     */
    private static void assumeSighupReachesIt(Daemon d) throws IOException {
        assumeFalse(d.ignores(SIGHUP), "this test run was started with SIGHUP ignored (nohup), and so is sproxy");
    }
}
