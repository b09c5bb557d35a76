package net.roamproxy.e2e;

import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two sproxy instances behind HAProxy (contrib/haproxy/roamproxy.cfg), end to end the way an
 * operator runs them: HAProxy on 6200 in the server namespace, {@code sproxy --instance 1} on
 * 127.0.0.1:6201 and {@code --instance 2} on 127.0.0.1:6202 sharing one host key file, each
 * with its own state directory, both relaying to inetd + telnetd. The test runs
 * {@code src/test/e2e/haproxy_e2e.py} (see its header), streams its output here and requires
 * exit status 0; the script removes its namespaces, processes and temp dir itself, also when
 * it is sent SIGTERM at the time limit.
 *
 * <p>Skipped unless running as root. As root, a missing tool or a missing packaged tree is a
 * failure, not a skip (on Debian: {@code apt-get install -y telnetd openbsd-inetd telnet
 * iputils-ping iproute2 util-linux python3 haproxy}).
 */
class HaproxyIT {
    private static E2eScript harness;

    @BeforeAll
    static void requireRootToolsAndPackagedTree() {
        harness = E2eScript.require("haproxy_e2e.py", List.of("python3", "ip", "ss", "inetd", "telnet",
                "ping", "setsid", "unshare", "mount", "sh", "haproxy"));
    }

    /**
     * Eight telnet sessions running ping, spread over both instances: across two address
     * changes every resume reaches its own instance (no wrong-instance refusal, no session
     * of one instance in the other's log) and every icmp_seq arrives exactly once. Then
     * instance 1 is killed and started again with its state directory: its sessions end with
     * the authenticated unknown-session refusal, instance 2's keep running.
     */
    @Test
    void resumesReachTheirOwnInstanceAcrossAddressChangesAndARestartedInstanceEndsOnlyItsOwnSessions()
            throws Exception {
        harness.run("haproxy");
    }
}
