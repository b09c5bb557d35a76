package net.roamproxy.e2e;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * End to end, the way the user runs it: real inetd + telnetd, a real telnet on a pty, the
 * packaged {@code bin/cproxy} and {@code bin/sproxy}, two network namespaces and
 * {@code ip addr del} / {@code ip addr add}. Each test runs one scenario of
 * {@code src/test/e2e/roam_e2e.py} (see its header), streams its output here and requires
 * exit status 0.
 *
 * <p>Skipped unless running as root. As root, a missing tool or a missing packaged tree is a
 * failure, not a skip.
 */
class TelnetRoamingIT {
    private static E2eScript harness;

    @BeforeAll
    static void requireRootToolsAndPackagedTree() {
        harness = E2eScript.require("roam_e2e.py", List.of("python3", "ip", "ss", "inetd", "telnet", "ping", "setsid",
                "unshare", "mount", "sh", "getent", "telnetd|in.telnetd"));
    }

    private static void runScenario(String scenario) throws Exception {
        harness.run(scenario);
    }

    @Test
    void pingInsideTelnetShowsNoGapAndNoRepeatAcrossAnAddressChange() throws Exception {
        runScenario("roam");
    }

    @Test
    void abandonedSessionIsClosedOnTheServerAndANewTelnetGetsAFreshShell() throws Exception {
        runScenario("abandon");
    }

    @Test
    void threeConcurrentTelnetSessionsAllSurviveOneAddressChangeWithoutGaps() throws Exception {
        runScenario("concurrent");
    }

    @Test
    void withoutTheProxiesAPlainTelnetSessionStaysHungAfterTheAddressChange() throws Exception {
        runScenario("baseline");
    }

    @Test
    void pingInsideTelnetShowsNoGapAndNoRepeatAcrossAnAddressChangeWhileTenPercentOfPacketsAreDropped()
            throws Exception {
        assertTrue(E2eScript.onPath("nft"), "running as root but the packet-loss scenario needs nft on PATH;"
                + " on Debian: apt-get install -y nftables");
        runScenario("loss");
    }

    @Test
    void addressReplacedInPlaceFiveTimesIsNoticedByCproxyAtOnceAndPingShowsNoGapAndNoRepeat()
            throws Exception {
        runScenario("inplace");
    }

    @Test
    void pingShowsNoGapAndNoRepeatAcrossOutagesWhileTheDefaultRouteLeadsToAGatewayThatDropsEverything()
            throws Exception {
        assertTrue(E2eScript.onPath("nft"), "running as root but the gateway scenario needs nft on PATH;"
                + " on Debian: apt-get install -y nftables");
        runScenario("gateway");
    }

    @Test
    void sessionNamedByHostNameMovesFromIpv4ToIpv6AndBackResumingOverTheServerAddressOfEachFamily()
            throws Exception {
        runScenario("dualstack");
    }
}
