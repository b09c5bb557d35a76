package net.roamproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import net.roamproxy.client.ClientConfig;
import net.roamproxy.server.ServerConfig;

/** sproxy's --service and cproxy's --forward: what they set, and each bad input as one line with status 2. */
class ServiceOptionTest {
    @TempDir Path dir;

    @Test
    void sproxyOffersNamedServicesBesidesTheDefaultFromTheCommandLineOrTheFile() throws Exception {
        ServerConfig c = new SproxyMain().configure("--service", "ssh=127.0.0.1:22", "--service", "web=[::1]:8080");
        assertEquals(new ServerConfig.Service("ssh", "127.0.0.1", 22), c.service("ssh"));
        assertEquals(new ServerConfig.Service("web", "::1", 8080), c.service("web"));
        assertEquals(new ServerConfig.Service("default", "127.0.0.1", 23), c.service(""));
        assertEquals(null, c.service("nope"));

        Path conf = Files.writeString(dir.resolve("sproxy.conf"), "service = ssh=127.0.0.1:22\nservice = db=127.0.0.1:5432\n");
        ServerConfig f = new SproxyMain().configure("--config", conf.toString());
        assertEquals(2, f.services().size());
    }

    @Test
    void cproxyForwardsExtraPortsToNamedServices() throws Exception {
        ClientConfig c = new CproxyMain().configure("--forward", "5222=ssh", "--forward", "127.0.0.1:5280=web",
                "--forward", "5299=default", "127.0.0.1");
        List<ClientConfig.Forward> f = c.forwards();
        assertEquals(3, f.size());
        assertEquals(5222, f.get(0).port());
        assertEquals("ssh", f.get(0).service());
        assertEquals("web", f.get(1).service());
        assertEquals("", f.get(2).service(), "'default' is sproxy's default service");
        assertEquals(List.of(), new CproxyMain().configure("127.0.0.1").forwards(), "cproxy SERVER alone: 5200 only");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "--service|ssh127.0.0.1:22|needs NAME=HOST:PORT",
        "--service|ssh=127.0.0.1|needs HOST:PORT",
        "--service|ssh=127.0.0.1:99999|port must be from 1 to 65535",
        "--service|SSH=127.0.0.1:22|name must be",
        "--service|default=127.0.0.1:22|not 'default'",
    })
    void badServicesAreUsageErrors(String option, String value, String message) {
        Cli.Result r = Cli.sproxyExpectingNoStart(option, value);
        assertEquals(2, r.status(), r.toString());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().contains(message), r.err());
    }

    @Test
    void aServiceNamedTwiceIsAUsageError() {
        Cli.Result r = Cli.sproxyExpectingNoStart("--service", "ssh=127.0.0.1:22", "--service", "ssh=127.0.0.1:2222");
        assertEquals(2, r.status(), r.toString());
        assertTrue(r.err().contains("names service 'ssh' twice"), r.err());
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "5222ssh|needs [ADDR:]PORT=NAME",
        "52x2=ssh|port must be a number",
        "0=ssh|port must be from 1 to 65535",
        "5222=No Spaces|service name must be",
        "5200=ssh|another listener already has",
    })
    void badForwardsAreUsageErrors(String value, String message) {
        Cli.Result r = Cli.cproxyExpectingNoStart("--forward", value, "127.0.0.1");
        assertEquals(2, r.status(), r.toString());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().contains(message), r.err());
    }

    @Test
    void twoForwardsOnOnePortAreAUsageError() {
        Cli.Result r = Cli.cproxyExpectingNoStart("--forward", "5222=ssh", "--forward", "5222=web", "127.0.0.1");
        assertEquals(2, r.status(), r.toString());
        assertTrue(r.err().contains("another listener already has"), r.err());
    }
}
