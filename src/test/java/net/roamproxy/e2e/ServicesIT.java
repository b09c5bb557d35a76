package net.roamproxy.e2e;

import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Several services through one cproxy/sproxy pair, and {@code --status}, end to end the way
 * the user runs it (issue 14): real inetd + telnetd and a real OpenSSH sshd in the server
 * namespace, {@code sproxy --service ssh=127.0.0.1:22} and {@code cproxy --forward 5222=ssh},
 * telnet to port 5200 and ssh to port 5222 in the client namespace, both running ping across
 * one address change. The test runs {@code src/test/e2e/services_e2e.py} (see its header),
 * streams its output here and requires exit status 0; the script removes its namespaces,
 * processes and temp dir itself, also when it is sent SIGTERM at the time limit.
 *
 * <p>Skipped unless running as root. As root, a missing tool or a missing packaged tree is a
 * failure, not a skip (on Debian: {@code apt-get install -y telnetd openbsd-inetd telnet
 * iputils-ping iproute2 util-linux python3 openssh-server openssh-client}).
 */
class ServicesIT {
    private static E2eScript harness;

    @BeforeAll
    static void requireRootToolsAndPackagedTree() {
        harness = E2eScript.require("services_e2e.py", List.of("python3", "ip", "ss", "inetd", "telnet",
                "ping", "setsid", "unshare", "mount", "sh", "sshd", "ssh", "ssh-keygen"));
    }

    /**
     * Telnet (the default service) and ssh (service {@code ssh}) through the one pair: ping in
     * each shows every icmp_seq exactly once across the address change, and
     * {@code --status --json} on both hosts lists exactly those two sessions, with the same ids
     * and service names on both sides, 0 resumes before the change and 1 each after it; the
     * plain {@code --status} of both daemons names both services.
     */
    @Test
    void telnetAndSshThroughOnePairStayGaplessAcrossAnAddressChangeAndStatusShowsOneResumeForEach()
            throws Exception {
        harness.run("services");
    }

    /**
     * SIGHUP to both daemons while ping runs in telnet, as {@code systemctl reload} sends it:
     * every icmp_seq exactly once, the ssh service the reload added to sproxy's config file is
     * usable at once, and both sessions stay linked with no resume (a reload drops no link).
     */
    @Test
    void aReloadWhilePingRunsKeepsEveryIcmpSeqAndOffersTheServiceItAdded() throws Exception {
        harness.run("reload");
    }
}
