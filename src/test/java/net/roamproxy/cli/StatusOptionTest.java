package net.roamproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import net.roamproxy.status.RuntimeDir;
import net.roamproxy.status.StatusClient;

/** --status when no daemon runs or answers, or this user may not ask it, and --json on its own. */
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

    /** Waits 5 s, the time --status gives a daemon to answer. */
    @Test
    @Timeout(30)
    void aDaemonThatDoesNotAnswerIsOneLineNamingItsPortAndExitOne() throws Exception {
        try (ServerSocket reserved = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            int port = reserved.getLocalPort(); // no cproxy of this user can have it meanwhile
            Path socket = RuntimeDir.socketToBind("cproxy", port);
            if (!Files.isDirectory(socket.getParent())) {
                Files.createDirectories(socket.getParent(), PosixFilePermissions.asFileAttribute(
                        PosixFilePermissions.fromString("rwx------")));
            }
            try (ServerSocketChannel mute = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
                mute.bind(UnixDomainSocketAddress.of(socket)); // connections queue; none is ever answered
                try {
                    Cli.Result r = Cli.cproxyExpectingNoStart("--status", "-p", String.valueOf(port));

                    assertEquals(1, r.status(), r.toString());
                    assertEquals(List.of("cproxy: the cproxy on port " + port + " did not answer within 5 s"),
                            r.errLines());
                    assertEquals("", r.out());
                } finally {
                    Files.deleteIfExists(socket);
                }
            }
        }
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
