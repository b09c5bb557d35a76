package net.roamproxy.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import net.roamproxy.client.ClientConfig;
import net.roamproxy.server.ServerConfig;

/**
 * {@code --config FILE} on both commands: the file supplies values, the command line overrides
 * them, and a bad value from the file is reported with the file's name and line (status 2).
 */
@Timeout(30)
class ConfigOptionTest {
    @TempDir
    Path dir;

    private Path file(String name, String... lines) throws IOException {
        Path f = dir.resolve(name);
        Files.writeString(f, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
        return f;
    }

    @Test
    void sproxyTakesEveryOptionFromTheFile() throws Exception {
        Path key = dir.resolve("psk");
        Files.write(key, "0123456789abcdef0123456789abcdef-sproxy".getBytes(StandardCharsets.US_ASCII));
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        Path conf = file("sproxy.conf",
                "listen = 127.0.0.1", "port = 6201", "target = 127.0.0.1:2323", "heartbeat = 250", "missed = 4",
                "buffer = 512K", "detach-timeout = 60", "max-sessions = 10", "max-handshakes = 5",
                "secret-file = " + key);

        ServerConfig c = new SproxyMain().configure("--config", conf.toString());

        assertEquals(InetAddress.getByName("127.0.0.1"), c.listenAddress());
        assertEquals(6201, c.listenPort());
        assertEquals("127.0.0.1", c.targetHost());
        assertEquals(2323, c.targetPort());
        assertEquals(Duration.ofMillis(250), c.link().heartbeatInterval());
        assertEquals(4, c.link().missedHeartbeats());
        assertEquals(512 * 1024, c.link().bufferBytes());
        assertEquals(Duration.ofSeconds(60), c.link().detachTimeout());
        assertEquals(10, c.maxSessions());
        assertEquals(5, c.maxHandshakes());
        assertArrayEquals(Files.readAllBytes(key), c.presharedKey());
    }

    @Test
    void cproxyTakesItsServerAndOptionsFromTheFile() throws Exception {
        Path conf = file("cproxy.conf", "server = 127.0.0.3", "server-port = 6300", "port = 5300",
                "listen = 127.0.0.2");

        ClientConfig c = new CproxyMain().configure("-c", conf.toString());

        assertEquals("127.0.0.3", c.serverHost());
        assertEquals(6300, c.serverPort());
        assertEquals(5300, c.listenPort());
        assertEquals(InetAddress.getByName("127.0.0.2"), c.listenAddress());
        assertNull(c.presharedKey());
    }

    @Test
    void commandLineOverridesTheFileOptionByOption() throws Exception {
        Path conf = file("cproxy.conf", "server = 127.0.0.3", "port = 5300", "heartbeat = 250", "missed = 4");

        ClientConfig c = new CproxyMain().configure("--config", conf.toString(), "--port", "5400", "--missed", "2",
                "127.0.0.9");

        assertEquals("127.0.0.9", c.serverHost(), "the SERVER argument wins over server =");
        assertEquals(5400, c.listenPort());
        assertEquals(2, c.link().missedHeartbeats());
        assertEquals(Duration.ofMillis(250), c.link().heartbeatInterval(), "not given on the command line: from the file");
    }

    @Test
    void commandLineOverridesABadValueInTheFile() throws Exception {
        Path conf = file("sproxy.conf", "port = 99999");

        ServerConfig c = new SproxyMain().configure("--config", conf.toString(), "--port", "6202");

        assertEquals(6202, c.listenPort());
    }

    @Test
    void optionsNotSetAnywhereKeepTheirDefaults() throws Exception {
        Path conf = file("sproxy.conf", "# nothing set");

        ServerConfig c = new SproxyMain().configure("--config", conf.toString());

        ServerConfig d = ServerConfig.defaults();
        assertNull(c.listenAddress());
        assertEquals(d.listenPort(), c.listenPort());
        assertEquals(d.targetHost() + ":" + d.targetPort(), c.targetHost() + ":" + c.targetPort());
        assertEquals(d.link(), c.link());
        assertEquals(ServerConfig.DEFAULT_MAX_SESSIONS, c.maxSessions());
        assertEquals(ServerConfig.DEFAULT_MAX_HANDSHAKES, c.maxHandshakes());
        assertNull(c.presharedKey());
    }

    @Test
    void shippedDefaultConfigFilesParseAndChangeNothing() throws Exception {
        Path confDir = Path.of("conf");
        ServerConfig s = new SproxyMain().configure("--config", confDir.resolve("sproxy.conf").toString());
        ClientConfig c = new CproxyMain().configure("--config", confDir.resolve("cproxy.conf").toString(), "127.0.0.1");

        assertEquals(ServerConfig.defaults().link(), s.link());
        assertEquals(ServerConfig.DEFAULT_LISTEN_PORT, s.listenPort());
        assertEquals(ClientConfig.defaults("127.0.0.1"), new ClientConfig(c.listenAddress(), c.listenPort(),
                c.serverHost(), c.serverPort(), c.link()));
        assertTrue(c.addressWatch());
    }

    @Test
    void everyOptionInTheShippedFilesIsDocumentedAsACommentedKey() throws Exception {
        for (String name : new String[] {"sproxy", "cproxy"}) {
            Launcher<?> cmd = name.equals("sproxy") ? new SproxyMain() : new CproxyMain();
            String text = Files.readString(Path.of("conf", name + ".conf"));
            for (String key : cmd.configKeys(cmd.options())) {
                assertTrue(text.contains("\n#" + key + " = "), name + ".conf documents '" + key + "'");
            }
        }
    }

    @Test
    void badValueFromTheFileNamesFileLineAndKeyAndExitsTwo() throws Exception {
        Path conf = file("sproxy.conf", "# limits", "max-sessions = lots");

        Cli.Result r = Cli.sproxyExpectingNoStart("--config", conf.toString());

        assertEquals(2, r.status(), r.toString());
        assertEquals(1, r.errLines().size(), r.err());
        assertEquals("sproxy: " + conf + ":2: max-sessions needs a whole number, got 'lots' (try --help)",
                r.err().strip());
    }

    @Test
    void anUnknownLogLevelIsOneLineAndExitTwoFromTheFileAndFromTheCommandLine() throws Exception {
        Path conf = file("sproxy.conf", "log-level = loud");

        Cli.Result fromFile = Cli.sproxyExpectingNoStart("--config", conf.toString());
        Cli.Result fromLine = Cli.cproxyExpectingNoStart("--log-level", "verbose", "127.0.0.1");

        assertEquals(2, fromFile.status(), fromFile.toString());
        assertEquals(List.of("sproxy: " + conf + ":1: log-level must be one of OFF, FATAL, ERROR, WARN, INFO, DEBUG, "
                + "TRACE, ALL, got 'loud' (try --help)"), fromFile.errLines());
        assertEquals(2, fromLine.status(), fromLine.toString());
        assertEquals(List.of("cproxy: --log-level must be one of OFF, FATAL, ERROR, WARN, INFO, DEBUG, TRACE, ALL, "
                + "got 'verbose' (try --help)"), fromLine.errLines());
    }

    @Test
    void theAddressWatchIsOnUnlessTheFlagOrTheFileTurnsItOff() throws Exception {
        assertTrue(new CproxyMain().configure("127.0.0.1").addressWatch());
        assertFalse(new CproxyMain().configure("--no-address-watch", "127.0.0.1").addressWatch());
        Path off = file("off.conf", "no-address-watch = true");
        assertFalse(new CproxyMain().configure("--config", off.toString(), "127.0.0.1").addressWatch());
        Path on = file("on.conf", "no-address-watch = no");
        assertTrue(new CproxyMain().configure("--config", on.toString(), "127.0.0.1").addressWatch());
        assertFalse(new CproxyMain().configure("--config", on.toString(), "--no-address-watch", "127.0.0.1")
                .addressWatch(), "the command line wins");
    }

    @Test
    void aFlagInTheFileThatIsNeitherTrueNorFalseNamesFileAndLine() throws Exception {
        Path conf = file("cproxy.conf", "server = 127.0.0.1", "no-address-watch = sometimes");

        Cli.Result r = Cli.cproxyExpectingNoStart("--config", conf.toString());

        assertEquals(2, r.status(), r.toString());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().contains(conf + ":2: no-address-watch must be true or false, got 'sometimes'"), r.err());
    }

    @Test
    void outOfRangeValueFromTheFileNamesFileAndLine() throws Exception {
        Path conf = file("cproxy.conf", "server = 127.0.0.1", "heartbeat = 5");

        Cli.Result r = Cli.cproxyExpectingNoStart("--config", conf.toString());

        assertEquals(2, r.status(), r.toString());
        assertTrue(r.err().contains(conf + ":2: heartbeat must be from 10 to 3600000, got 5"), r.err());
    }

    @Test
    void badTargetFromTheFileNamesFileAndLine() throws Exception {
        Path conf = file("sproxy.conf", "target = telnetd");

        Cli.Result r = Cli.sproxyExpectingNoStart("--config", conf.toString());

        assertEquals(2, r.status(), r.toString());
        assertTrue(r.err().contains(conf + ":1: target needs HOST:PORT, got 'telnetd'"), r.err());
    }

    @Test
    void unknownKeyInTheFileExitsTwoNamingFileAndLine() throws Exception {
        Path conf = file("sproxy.conf", "", "prot = 6200");

        Cli.Result r = Cli.sproxyExpectingNoStart("--config", conf.toString());

        assertEquals(2, r.status(), r.toString());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().startsWith("sproxy: " + conf + ":2: unknown key 'prot'"), r.err());
    }

    @Test
    void keysOfTheOtherCommandAreUnknown() throws Exception {
        Path conf = file("cproxy.conf", "target = 127.0.0.1:23");

        Cli.Result r = Cli.cproxyExpectingNoStart("--config", conf.toString(), "127.0.0.1");

        assertEquals(2, r.status(), r.toString());
        assertTrue(r.err().contains(":1: unknown key 'target'"), r.err());
    }

    @Test
    void serverKeyIsForCproxyOnly() throws Exception {
        Path conf = file("sproxy.conf", "server = 127.0.0.1");

        Cli.Result r = Cli.sproxyExpectingNoStart("--config", conf.toString());

        assertEquals(2, r.status(), r.toString());
        assertTrue(r.err().contains(":1: unknown key 'server'"), r.err());
    }

    @Test
    void commandLineOnlyOptionsCannotBeSetInTheFile() throws Exception {
        for (String key : new String[] {"config", "help", "version"}) {
            Path conf = file("sproxy.conf", key + " = x");

            Cli.Result r = Cli.sproxyExpectingNoStart("--config", conf.toString());

            assertEquals(2, r.status(), r.toString());
            assertTrue(r.err().contains(":1: unknown key '" + key + "'"), r.err());
        }
    }

    @Test
    void missingConfigFileExitsTwoSayingSo() {
        Path missing = dir.resolve("missing.conf");

        Cli.Result r = Cli.sproxyExpectingNoStart("--config", missing.toString());

        assertEquals(2, r.status(), r.toString());
        assertEquals("sproxy: cannot read config file " + missing + ": no such file (try --help)", r.err().strip());
    }

    @Test
    void cproxyWithoutServerOnTheCommandLineOrInTheFileIsAUsageError() throws Exception {
        Path conf = file("cproxy.conf", "port = 5300");

        Cli.Result r = Cli.cproxyExpectingNoStart("--config", conf.toString());

        assertEquals(2, r.status(), r.toString());
        assertTrue(r.err().contains("missing SERVER"), r.err());
    }

    @Test
    void relativeSecretFileInTheConfigIsTakenRelativeToTheConfigFilesDirectory() throws Exception {
        Files.write(dir.resolve("psk"), "thirty-two bytes at the very least".getBytes(StandardCharsets.US_ASCII));
        Files.setPosixFilePermissions(dir.resolve("psk"), PosixFilePermissions.fromString("rw-------"));
        Path conf = file("cproxy.conf", "secret-file = psk");

        ClientConfig c = new CproxyMain().configure("--config", conf.toString(), "127.0.0.1");

        assertArrayEquals("thirty-two bytes at the very least".getBytes(StandardCharsets.US_ASCII), c.presharedKey());
    }

    @Test
    void configFileStartsAProxyWithItsValues() throws Exception {
        Path conf = file("sproxy.conf", "listen = 127.0.0.1", "port = 0", "heartbeat = 100");

        try (Cli.Capturing<?> sproxy = new Cli.Capturing<>("sproxy", new SproxyMain())) {
            Cli.Result r = Cli.run(sproxy, "--config", conf.toString());

            assertEquals(0, r.status(), r.toString());
            assertEquals("", r.err());
            assertTrue(sproxy.started() != null);
        }
    }

    @Test
    void helpDescribesTheConfigFileAndTheExitStatuses() {
        for (Cli.Result r : new Cli.Result[] {Cli.cproxy("--help"), Cli.sproxy("--help")}) {
            String text = r.out().replaceAll("\\s+", " ");
            assertTrue(text.contains("--config <FILE>"), r.out());
            assertTrue(text.contains("'key = value' lines, keys are the long option names"), r.out());
            assertTrue(text.contains("the command line overrides it"), r.out());
            assertTrue(text.contains(SharedOptions.EXIT_STATUS_HELP), r.out());
        }
    }
}
