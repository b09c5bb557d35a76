package net.roamproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** --status when no daemon runs, and --json on its own. */
class StatusOptionTest {

    @Test
    void statusWithNoDaemonRunningPrintsOneLineAndExitsOne() {
        Cli.Result r = Cli.cproxyExpectingNoStart("--status", "-p", "1");
        assertEquals(1, r.status(), r.toString());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().startsWith("cproxy: no cproxy is running on port 1"), r.err());
    }

    @Test
    void statusNeedsNoServerArgument() {
        Cli.Result r = Cli.sproxyExpectingNoStart("--status", "-p", "1");
        assertEquals(1, r.status(), r.toString());
        assertTrue(r.err().contains("no sproxy is running on port 1"), r.err());
    }

    @Test
    void jsonWithoutStatusIsAUsageError() {
        Cli.Result r = Cli.cproxyExpectingNoStart("--json", "127.0.0.1");
        assertEquals(2, r.status(), r.toString());
        assertTrue(r.err().contains("--json goes with --status"), r.err());
    }
}
