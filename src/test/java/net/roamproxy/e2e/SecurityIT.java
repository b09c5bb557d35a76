package net.roamproxy.e2e;

import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * End to end, as an attacker on the client's network sees roamproxy: {@code tcpdump} records
 * the client's link during the login and an address change, and a third host replays the
 * recorded resume to sproxy. Real inetd + telnetd, a real telnet on a pty running ping, the
 * packaged {@code bin/cproxy} and {@code bin/sproxy}, three network namespaces. Each test runs
 * one scenario of {@code src/test/e2e/security_e2e.py} (see its header), streams its output
 * here and requires exit status 0.
 *
 * <p>Skipped unless running as root. As root, a missing tool or a missing packaged tree is a
 * failure, not a skip.
 */
class SecurityIT {
    private static E2eScript harness;

    @BeforeAll
    static void requireRootToolsAndPackagedTree() {
        harness = E2eScript.require("security_e2e.py", List.of("python3", "ip", "ss", "inetd", "telnet", "ping",
                "setsid", "unshare", "mount", "sh", "tcpdump", "telnetd|in.telnetd"));
    }

    /**
     * Default settings: the resume cproxy sent after the address change, recorded with tcpdump
     * and replayed twice from a third host (step by step, then all at once), gets a fresh
     * CHALLENGE and WELCOME BAD_PROOF, one WARN naming the attacker, and leaves the live link
     * alone; ping in telnet shows every icmp_seq exactly once. The capture shows the typed
     * marker and the ping output in clear (the control for the TLS test).
     */
    @Test
    void resumeRecordedOnTheWireAndReplayedFromAThirdHostIsRefusedWhilePingStaysGapless() throws Exception {
        runScenario("replay");
    }

    /**
     * With --tls on both sides: the capture of the link holds neither the typed marker nor any
     * ping output, while the same check finds both on the client's loopback; the recorded resume
     * connection replayed from a third host fails sproxy's TLS handshake, and ping in telnet
     * shows every icmp_seq exactly once.
     */
    @Test
    void withTlsTheLinkCaptureHoldsNoPlaintextAndAReplayedResumeFailsTheTlsHandshake() throws Exception {
        runScenario("tls");
    }

    private static void runScenario(String scenario) throws Exception {
        harness.run(scenario);
    }
}
