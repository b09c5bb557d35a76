package net.roamproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;

import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import net.roamproxy.client.ClientProxy;
import net.roamproxy.net.LastResort;
import net.roamproxy.testkit.Closer;
import net.roamproxy.testkit.LogCapture;

/** {@code cproxy}: exit statuses and messages for help, bad input, and start-up failures; one real start. */
@Timeout(30)
class CproxyMainTest {
    @RegisterExtension final Closer closer = new Closer();
    @RegisterExtension final LogCapture logs = LogCapture.closedBy(closer);


    /** Reserved by RFC 2606: never resolves, so resolution fails without depending on the network. */
    static final String UNRESOLVABLE = "roamproxy-test.invalid";

    @Test
    void helpExitsZeroAndShowsUsageWithTheDefaultPorts() {
        Cli.Result r = Cli.cproxy("--help");

        assertEquals(0, r.status(), r.toString());
        assertTrue(r.out().contains("cproxy [OPTIONS] SERVER"), r.out());
        assertTrue(r.out().contains("(default 5200)"), r.out());
        assertTrue(r.out().contains("(default 6200)"), r.out());
        assertTrue(r.out().contains("--heartbeat"), r.out());
        assertEquals("", r.err());
    }

    @Test
    void shortHelpOptionWorksToo() {
        Cli.Result r = Cli.cproxy("-h");

        assertEquals(0, r.status(), r.toString());
        assertTrue(r.out().contains("usage: cproxy"), r.out());
    }

    @Test
    void versionExitsZeroAndPrintsOneLineNamingTheProduct() {
        Cli.Result r = Cli.cproxy("--version");

        assertEquals(0, r.status(), r.toString());
        assertEquals(1, r.out().lines().count(), r.out());
        assertTrue(r.out().startsWith("cproxy (roamproxy) "), r.out());
        assertTrue(r.out().strip().length() > "cproxy (roamproxy) ".length(), "a version follows: " + r.out());
        assertEquals("", r.err());
    }

    @Test
    void missingServerIsAUsageErrorOnOneLine() {
        Cli.Result r = Cli.cproxy();

        assertEquals(2, r.status(), r.toString());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().startsWith("cproxy: "), r.err());
        assertTrue(r.err().contains("SERVER"), r.err());
        assertTrue(r.err().contains("--help"), r.err());
        assertEquals("", r.out());
    }

    @Test
    void moreThanOneServerIsAUsageError() {
        Cli.Result r = Cli.cproxyExpectingNoStart("-l", "127.0.0.1", "-p", "0", "10.0.0.1", "10.0.0.2");

        assertEquals(2, r.status(), r.toString());
        assertTrue(r.err().contains("10.0.0.2"), r.err());
    }

    @Test
    void unknownOptionIsAUsageErrorNamingIt() {
        Cli.Result r = Cli.cproxy("--frobnicate", "127.0.0.1");

        assertEquals(2, r.status(), r.toString());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().contains("frobnicate"), r.err());
    }

    @Test
    void portAboveTheRangeIsAUsageErrorNamingTheOption() {
        Cli.Result r = Cli.cproxyExpectingNoStart("-l", "127.0.0.1", "--port", "70000", "127.0.0.1");

        assertEquals(2, r.status(), r.toString());
        assertTrue(r.err().contains("--port"), r.err());
        assertTrue(r.err().contains("70000"), r.err());
    }

    @Test
    void negativePortIsAUsageError() {
        Cli.Result r = Cli.cproxyExpectingNoStart("-l", "127.0.0.1", "-p", "-1", "127.0.0.1");

        assertEquals(2, r.status(), r.toString());
        assertTrue(r.err().contains("--port"), r.err());
    }

    @Test
    void serverPortZeroIsAUsageErrorBecauseOneCannotDialIt() {
        Cli.Result r = Cli.cproxyExpectingNoStart("-l", "127.0.0.1", "-p", "0", "--server-port", "0", "127.0.0.1");

        assertEquals(2, r.status(), r.toString());
        assertTrue(r.err().contains("--server-port"), r.err());
    }

    @Test
    void listenAddressThatDoesNotResolveFailsWithStatusOne() {
        Cli.Result r = Cli.cproxyExpectingNoStart("-l", UNRESOLVABLE, "-p", "0", "127.0.0.1");

        assertEquals(1, r.status(), r.toString());
        assertTrue(r.err().contains("listen"), r.err());
    }

    @Test
    void portAlreadyInUseFailsWithStatusOneSayingItCannotListen() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            String port = String.valueOf(taken.getLocalPort());

            Cli.Result r = Cli.cproxyExpectingNoStart("-l", "127.0.0.1", "-p", port, "127.0.0.1");

            assertEquals(1, r.status(), r.toString());
            assertEquals(1, r.errLines().size(), r.err());
            assertTrue(r.err().contains("cannot listen"), r.err());
            assertTrue(r.err().contains(":" + port), r.err());
        }
    }

    @Test
    void validArgumentsStartAProxyThatListensAndRunReturnsZeroWithoutBlocking() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        try (Cli.Capturing<?> cproxy = new Cli.Capturing<>("cproxy", new CproxyMain())) {
            Cli.Result r = Cli.run(cproxy, "-l", "127.0.0.1", "-p", "0", "-s", String.valueOf(closedPort),
                    "--heartbeat", "100", "127.0.0.1");

            assertEquals(0, r.status(), r.toString());
            ClientProxy proxy = assertInstanceOf(ClientProxy.class, cproxy.started());
            assertInstanceOf(LastResort.class, Thread.getDefaultUncaughtExceptionHandler(),
                    "a daemon logs what no thread handles");
            try (Socket app = new Socket()) {
                app.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), proxy.port()), 5_000);
                assertTrue(app.isConnected());
            }
        }
    }

    @Test
    void aServerNameThatDoesNotResolveYetStillStartsCproxyWithAWarning() throws Exception {
        // .invalid never resolves (RFC 6761): a laptop started before it has a network.
        try (Cli.Capturing<?> cproxy = new Cli.Capturing<>("cproxy", new CproxyMain())) {
            Cli.Result r = Cli.run(cproxy, "-l", "127.0.0.1", "-p", "0", "sproxy.example.invalid");

            assertEquals(0, r.status(), r.toString());
            assertInstanceOf(ClientProxy.class, cproxy.started());
            logs.await(Duration.ofSeconds(10), "the warning", Level.WARN,
                    m -> m.contains("sproxy's host 'sproxy.example.invalid' does not resolve yet"));
        }
    }

    @Test
    void maxSessionsDefaultsToSproxysAndOutsideItsRangeIsAUsageError() throws Exception {
        assertEquals(1024, new CproxyMain().configure("127.0.0.1").maxSessions());
        assertEquals(2, new CproxyMain().configure("--max-sessions", "2", "127.0.0.1").maxSessions());

        Cli.Result r = Cli.cproxyExpectingNoStart("-l", "127.0.0.1", "-p", "0", "--max-sessions", "0", "127.0.0.1");

        assertEquals(2, r.status(), r.toString());
        assertTrue(r.err().contains("--max-sessions"), r.err());
    }

    @Test
    void aBadOptionIsStillReportedFirstWhenTheServerDoesNotResolve() {
        Cli.Result r = Cli.cproxyExpectingNoStart("--port", "nope", "sproxy.example.invalid");

        assertEquals(2, r.status(), r.toString());
        assertTrue(r.err().contains("--port"), r.err());
    }
}
