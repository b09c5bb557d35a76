package net.roamproxy.e2e;

import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * End to end, as an attacker sees roamproxy's link protocol 3 with default settings: one who
 * records the client's network and replays it from a third host, one on the path between
 * the proxies who tampers with every kind of frame, and one who floods sproxy's port. Real inetd + telnetd, a real telnet on a pty
 * running ping, the packaged {@code bin/cproxy} and {@code bin/sproxy}, three network
 * namespaces, {@code tcpdump} and {@code nft}. Each test runs one scenario of
 * {@code src/test/e2e/security_e2e.py} (see its header), streams its output here and requires
 * exit status 0.
 *
 * <p>Skipped unless running as root. As root, a missing tool or a missing packaged tree is a
 * failure, not a skip.
 */
class SecurityIT {
    private static E2eScript harness;

    @BeforeAll
    static void requireRootToolsAndPackagedTree() {
        harness = E2eScript.require("security_e2e.py", List.of("python3", "ip", "ss", "inetd", "telnet", "ping",
                "setsid", "unshare", "mount", "sh", "tcpdump", "nft", "sysctl", "telnetd|in.telnetd"));
    }

    /**
     * The client's link, recorded with tcpdump from before the login through an address change,
     * holds neither a typed marker, nor ping output, nor the login prompt, while the same check
     * finds all three on the client's loopback; every frame is version 3 and encrypted after
     * HELLO and WELCOME, and tshark with the Wireshark dissector (contrib/wireshark) shows the
     * same frames, none flagged. The recorded new-session and resume connections, replayed from a third
     * host flight by flight and all at once, get at most a fresh WELCOME and then the connection
     * closed, one WARN each, no session and no telnetd; the live link stays and ping in telnet
     * shows every icmp_seq exactly once.
     */
    @Test
    void recordedLinkHoldsNoPlaintextAndItsReplaysFromAThirdHostGetNoSessionWhilePingStaysGapless()
            throws Exception {
        runScenario("capture");
    }

    /**
     * An on-path relay (an nftables DNAT in the server namespace) flips a bit in a DATA payload
     * and in a header, forges REFUSED answers to resumes (UNKNOWN_SESSION with a random MAC or
     * none, VERSION_MISMATCH), injects garbage, replays an earlier frame, truncates a frame and
     * resets the link: each tamper only drops that link (with a WARN where a proxy detects it),
     * cproxy comes back each time, no session ends, nothing altered reaches telnet, and after the
     * attacker goes ping shows every icmp_seq exactly once.
     */
    @Test
    void tamperingOnThePathOnlyDropsLinksAndTheSessionSurvivesGaplessWithNothingAlteredReachingTelnet()
            throws Exception {
        runScenario("onpath");
    }

    /**
     * Strangers on a third host hammer sproxy's port the whole time: 600 silent connections, 200
     * that dribble a HELLO byte by byte, and HELLO NEWs that never go on to a PROOF, each reopened
     * the moment it ends. Meanwhile ping in telnet resumes after the client's address change
     * with every icmp_seq exactly once, and a new login works; sproxy logs that the
     * attacker holds its quarter of the handshake places and opens it no session.
     */
    @Test
    void floodOfSilentSlowAndUnfinishedHandshakesFromOneHostLeavesRoamingAndNewLoginsWorking() throws Exception {
        runScenario("flood");
    }

    /** As the flood, with a pre-shared key on both proxies ({@code --secret-file}). */
    @Test
    void floodWithAPresharedKeyLeavesRoamingAndNewLoginsWorking() throws Exception {
        runScenario("flood-psk");
    }

    private static void runScenario(String scenario) throws Exception {
        harness.run(scenario);
    }
}
