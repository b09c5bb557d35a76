package net.roamproxy.e2e;

import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * TCP half-close end to end, the way the user runs it: the packaged {@code bin/cproxy} and
 * {@code bin/sproxy} in two network namespaces, the client's address changed in the middle of
 * each transfer. Each test runs one scenario of {@code src/test/e2e/halfclose_e2e.py} (see its
 * header). Skipped unless running as root.
 */
class HalfCloseRoamingIT {
    private static E2eScript harness;

    @BeforeAll
    static void requireRootToolsAndPackagedTree() {
        harness = E2eScript.require("halfclose_e2e.py",
                List.of("python3", "ip", "ss", "inetd", "telnet", "unshare", "mount", "sh"));
    }

    @Test
    void aClientThatShutsDownItsSideAfterTwoMegabytesReceivesTheServersDigestAndTailAcrossAnAddressChange()
            throws Exception {
        harness.run("reply");
    }

    @Test
    void aServerThatShutsDownItsSideAfterTwoHundredKilobytesReceivesTheClientsMegabyteAcrossAnAddressChange()
            throws Exception {
        harness.run("upload");
    }

    @Test
    void telnetLogoutAfterAnAddressChangeEndsTheSessionOnBothProxiesAtOnce() throws Exception {
        harness.run("logout");
    }
}
