package net.roamproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import net.roamproxy.status.StatusClient;

/** --status when no daemon runs or this user may not ask it, and --json on its own. */
class StatusOptionTest {

    @Test
    void statusWithNoDaemonRunningPrintsOneLineAndExitsOne() {
        Cli.Result r = Cli.cproxyExpectingNoStart("--status", "-p", "1");
        assertEquals(1, r.status(), r.toString());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().startsWith("cproxy: no cproxy is running on port 1 for this user (looked for /"), r.err());
        assertFalse(r.err().contains("[") || r.err().contains("(no "), "plain words, no nested list: " + r.err());
    }

    @Test
    void aStatusSocketInADirectoryThisUserMayNotEnterIsPermissionDeniedNotNotRunning(@TempDir Path dir)
            throws Exception {
        assumeFalse("root".equals(System.getProperty("user.name")), "root may enter any directory");
        Path closed = Files.createDirectory(dir.resolve("run"));
        Files.setPosixFilePermissions(closed, PosixFilePermissions.fromString("---------"));

        AccessDeniedException e = assertThrows(AccessDeniedException.class,
                () -> StatusClient.ask(List.of(closed.resolve("cproxy-5200.sock")), false));

        assertTrue(e.getFile().endsWith("cproxy-5200.sock"), e.getFile());
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
