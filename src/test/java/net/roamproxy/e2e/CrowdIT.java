package net.roamproxy.e2e;

import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A crowd of sessions resuming at once, end to end: 1,000 sessions through one cproxy and one
 * sproxy (default limits) to an echo service, and five times the client host hands over to a
 * new address and drops the old one, so that every link breaks at the same moment. The test
 * runs {@code src/test/e2e/soak_e2e.py crowd} (see its header), streams its output here and
 * requires exit status 0: every session back after every change, none lost, refused or
 * limited, every byte echoed exactly. How long the crowd took is printed, not asserted.
 *
 * <p>Skipped unless running as root. As root, a missing tool or a missing packaged tree is a
 * failure, not a skip.
 */
class CrowdIT {
    private static E2eScript harness;

    @BeforeAll
    static void requireRootToolsAndPackagedTree() {
        harness = E2eScript.require("soak_e2e.py", List.of("python3", "ip", "ss", "inetd", "telnet", "ping",
                "setsid", "unshare", "mount", "sh", "sysctl", "telnetd|in.telnetd"));
    }

    @Test
    void aThousandSessionsResumeTogetherAfterEachNetworkChangeAndNoneIsRefusedOrLosesAByte() throws Exception {
        harness.run("crowd");
    }
}
