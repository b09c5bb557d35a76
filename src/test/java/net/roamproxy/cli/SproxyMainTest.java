package net.roamproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import net.roamproxy.server.ServerConfig;
import net.roamproxy.server.ServerProxy;

/** {@code sproxy}: exit statuses and messages for help, bad input, and start-up failures; one real start. */
@Timeout(30)
class SproxyMainTest {

    @Test
    void helpExitsZeroAndShowsUsageWithTheDefaultPortAndTarget() {
        Cli.Result r = Cli.sproxy("--help");

        assertEquals(0, r.status(), r.toString());
        assertTrue(r.out().contains("usage: sproxy [OPTIONS]"), r.out());
        assertTrue(r.out().contains("(default 6200)"), r.out());
        assertTrue(r.out().contains("127.0.0.1:23"), r.out());
        assertTrue(r.out().contains("--target"), r.out());
        assertEquals("", r.err());
    }

    @Test
    void versionExitsZeroAndPrintsOneLineNamingTheProduct() {
        Cli.Result r = Cli.sproxy("-V");

        assertEquals(0, r.status(), r.toString());
        assertEquals(1, r.out().lines().count(), r.out());
        assertTrue(r.out().startsWith("sproxy (roamproxy) "), r.out());
    }

    @Test
    void unexpectedArgumentIsAUsageErrorOnOneLine() {
        Cli.Result r = Cli.sproxyExpectingNoStart("-l", "127.0.0.1", "-p", "0", "somehost");

        assertEquals(2, r.status(), r.toString());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().startsWith("sproxy: "), r.err());
        assertTrue(r.err().contains("somehost"), r.err());
        assertEquals("", r.out());
    }

    @Test
    void unknownOptionIsAUsageError() {
        Cli.Result r = Cli.sproxy("--frobnicate");

        assertEquals(2, r.status(), r.toString());
        assertTrue(r.err().contains("frobnicate"), r.err());
    }

    @Test
    void portAboveTheRangeIsAUsageErrorNamingTheOption() {
        Cli.Result r = Cli.sproxyExpectingNoStart("-l", "127.0.0.1", "--port", "70000");

        assertEquals(2, r.status(), r.toString());
        assertTrue(r.err().contains("--port"), r.err());
        assertTrue(r.err().contains("70000"), r.err());
    }

    @ParameterizedTest
    @ValueSource(strings = {"nohost", ":23", "host:"})
    void targetWithoutHostAndPortIsAUsageErrorNamingTheOption(String target) {
        Cli.Result r = Cli.sproxyExpectingNoStart("-l", "127.0.0.1", "-p", "0", "--target", target);

        assertEquals(2, r.status(), r.toString());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().contains("--target"), r.err());
        assertTrue(r.err().contains(target), r.err());
    }

    @Test
    void bracketedIpv6AddressWithoutAPortIsAUsageError() {
        Cli.Result r = Cli.sproxyExpectingNoStart("-l", "127.0.0.1", "-p", "0", "--target", "[::1]");

        assertEquals(2, r.status(), r.toString());
        assertTrue(r.err().contains("--target"), r.err());
    }

    @ParameterizedTest
    @ValueSource(strings = {"host:99999", "host:0", "host:-5"})
    void targetPortOutsideTheRangeIsAUsageErrorNamingTheOption(String target) {
        Cli.Result r = Cli.sproxyExpectingNoStart("-l", "127.0.0.1", "-p", "0", "--target", target);

        assertEquals(2, r.status(), r.toString());
        assertTrue(r.err().contains("--target"), r.err());
        assertTrue(r.err().contains(target.substring(target.indexOf(':') + 1)), r.err());
    }

    @Test
    void targetPortThatIsNotANumberIsAUsageError() {
        Cli.Result r = Cli.sproxyExpectingNoStart("-l", "127.0.0.1", "-p", "0", "--target", "host:telnet");

        assertEquals(2, r.status(), r.toString());
        assertTrue(r.err().contains("--target"), r.err());
        assertTrue(r.err().contains("telnet"), r.err());
    }

    @Test
    void targetHostThatDoesNotResolveFailsWithStatusOne() {
        Cli.Result r = Cli.sproxyExpectingNoStart("-l", "127.0.0.1", "-p", "0", "--target", CproxyMainTest.UNRESOLVABLE + ":23");

        assertEquals(1, r.status(), r.toString());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().contains("cannot resolve"), r.err());
        assertTrue(r.err().contains(CproxyMainTest.UNRESOLVABLE), r.err());
    }

    @Test
    void listenAddressThatDoesNotResolveFailsWithStatusOne() {
        Cli.Result r = Cli.sproxyExpectingNoStart("-l", CproxyMainTest.UNRESOLVABLE, "-p", "0");

        assertEquals(1, r.status(), r.toString());
        assertTrue(r.err().contains(CproxyMainTest.UNRESOLVABLE), r.err());
    }

    @Test
    void portAlreadyInUseFailsWithStatusOneSayingItCannotListen() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            String port = String.valueOf(taken.getLocalPort());

            Cli.Result r = Cli.sproxyExpectingNoStart("-l", "127.0.0.1", "-p", port);

            assertEquals(1, r.status(), r.toString());
            assertEquals(1, r.errLines().size(), r.err());
            assertTrue(r.err().contains("cannot listen"), r.err());
            assertTrue(r.err().contains("127.0.0.1:" + port), r.err());
        }
    }

    @Test
    void usageErrorsStartNothing() throws Exception {
        try (Cli.Capturing<?> sproxy = new Cli.Capturing<>("sproxy", new SproxyMain())) {
            Cli.Result r = Cli.run(sproxy, "-l", "127.0.0.1", "-p", "0", "--target", "host:99999");

            assertEquals(2, r.status(), r.toString());
            assertNull(sproxy.started());
        }
    }

    @Test
    void validArgumentsStartAProxyThatListensAndRunReturnsZeroWithoutBlocking() throws Exception {
        try (Cli.Capturing<?> sproxy = new Cli.Capturing<>("sproxy", new SproxyMain())) {
            Cli.Result r = Cli.run(sproxy, "-l", "127.0.0.1", "-p", "0", "--target", "[::1]:2323");

            assertEquals(0, r.status(), r.toString());
            assertEquals("", r.err());
            ServerProxy proxy = assertInstanceOf(ServerProxy.class, sproxy.started());
            try (Socket link = new Socket()) {
                link.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), proxy.port()), 5_000);
                assertTrue(link.isConnected());
            }
        }
    }

    @Test
    void sessionAndHandshakeLimitsReachTheConfiguration() throws Exception {
        ServerConfig c = new SproxyMain().configure("--max-sessions", "12", "--max-handshakes", "3");

        assertEquals(12, c.maxSessions());
        assertEquals(3, c.maxHandshakes());
    }

    @Test
    void limitsDefaultToTheServerConfigDefaults() throws Exception {
        ServerConfig c = new SproxyMain().configure();

        assertEquals(ServerConfig.DEFAULT_MAX_SESSIONS, c.maxSessions());
        assertEquals(ServerConfig.DEFAULT_MAX_HANDSHAKES, c.maxHandshakes());
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
        "--max-sessions, 0",
        "--max-sessions, -1",
        "--max-sessions, 1000001",
        "--max-sessions, many",
        "--max-handshakes, 0",
        "--max-handshakes, 100001",
        "--max-handshakes, 2.5",
    })
    void limitOutsideItsRangeIsAUsageErrorNamingTheOptionAndValue(String option, String value) {
        Cli.Result r = Cli.sproxyExpectingNoStart("-l", "127.0.0.1", "-p", "0", option, value);

        assertEquals(2, r.status(), r.toString());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().contains(option + " "), r.err());
        assertTrue(r.err().contains(value), r.err());
    }

    @Test
    void helpListsTheLimitsWithTheirDefaults() {
        String out = Cli.sproxy("--help").out().replaceAll("\\s+", " ");

        assertTrue(out.contains("--max-sessions <N>"), out);
        assertTrue(out.contains("(default " + ServerConfig.DEFAULT_MAX_SESSIONS + ")"), out);
        assertTrue(out.contains("--max-handshakes <N>"), out);
        assertTrue(out.contains("(default " + ServerConfig.DEFAULT_MAX_HANDSHAKES + ")"), out);
    }

    @Test
    void cproxyHasNoHandshakeLimit() {
        // cproxy has a session limit of its own, but no handshakes to bound: it accepts no links.
        Cli.Result r = Cli.cproxy("--max-handshakes", "5", "127.0.0.1");

        assertEquals(2, r.status(), r.toString());
        assertTrue(r.err().contains("max-handshakes"), r.err());
    }
}
