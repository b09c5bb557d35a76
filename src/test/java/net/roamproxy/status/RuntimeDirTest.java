package net.roamproxy.status;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import net.roamproxy.testkit.Closer;
import net.roamproxy.testkit.LogCapture;
import net.roamproxy.trust.PrivateFiles;

/**
 * A status directory where other users may make files, as /tmp/roamproxy-USER in /tmp, must be
 * this user's own, mode 0700, and not a link; else the daemon makes no socket there and
 * {@code --status} does not ask there. The tests make such a place of their own: a directory
 * every user may write in, as /tmp.
 */
@Timeout(30)
class RuntimeDirTest {
    @RegisterExtension final Closer closer = new Closer();
    @RegisterExtension final LogCapture logs = LogCapture.closedBy(closer);
    @TempDir Path temp;
    private Path tmp;
    private Path dir;

    @BeforeEach
    void aPlaceEveryUserMayWriteIn() throws Exception {
        tmp = Files.createDirectory(temp.resolve("tmp"));
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxrwxrwx"));
        dir = tmp.resolve("roamproxy-" + PrivateFiles.userName());
    }

    private String refusal(String why) {
        return "refusing " + dir + ": " + why + " (it should be yours, mode 0700); remove it";
    }

    /** The daemon makes no socket (and says why in a WARN), and --status will not ask there. */
    private void refusedByBoth(String why) throws Exception {
        Path socket = dir.resolve("sproxy-6200.sock");
        assertNull(StatusServer.startOrWarn("sproxy", socket, List::of), "no status server");
        assertFalse(Files.exists(socket, LinkOption.NOFOLLOW_LINKS), "no socket made");
        assertEquals(1, logs.find(Level.WARN, m -> m.contains("no status socket at " + socket + " (" + refusal(why)
                + "); sproxy --status will not find this daemon")).size(), logs.lines().toString());

        RuntimeDir.Refused e = assertThrows(RuntimeDir.Refused.class, () -> StatusClient.ask(List.of(socket), false));
        assertEquals(refusal(why), e.getMessage());
    }

    @Test
    void theDaemonMakesItWithMode0700AndAnswersThere() throws Exception {
        Path socket = dir.resolve("cproxy-5200.sock");
        StatusServer s = closer.add(StatusServer.startOrWarn("cproxy", socket, List::of));

        assertTrue(s != null, "started");
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(dir)));
        assertEquals("rw-rw----", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
        assertEquals("cproxy: 0 sessions\n", StatusClient.ask(List.of(socket), false));
        s.close();
        assertTrue(closer.add(StatusServer.startOrWarn("cproxy", socket, List::of)) != null,
                "its own directory, made before, is used again");
        assertEquals("cproxy: 0 sessions\n", StatusClient.ask(List.of(socket), false));
    }

    @Test
    void aDirectoryOtherUsersMayWriteInIsRefused() throws Exception {
        Files.createDirectory(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxrwxrwx"));

        refusedByBoth("mode 0777");
    }

    @Test
    void aDirectoryOtherUsersMayEnterIsRefused() throws Exception {
        Files.createDirectory(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-x---"));

        refusedByBoth("mode 0750");
    }

    @Test
    void aLinkToADirectoryOfOursIsRefused() throws Exception {
        Path ours = Files.createDirectory(temp.resolve("ours"));
        Files.setPosixFilePermissions(ours, PosixFilePermissions.fromString("rwx------"));
        Files.createSymbolicLink(dir, ours);

        refusedByBoth("it is a symbolic link");
        try (var left = Files.list(ours)) {
            assertEquals(0, left.count(), "nothing made through the link");
        }
    }

    @Test
    void aFileInItsPlaceIsRefused() throws Exception {
        Files.writeString(dir, "not a directory");

        refusedByBoth("it is not a directory");
    }

    @Test
    void aDirectoryOfAnotherUserIsRefusedNamingTheOwner() throws Exception {
        assumeTrue(PrivateFiles.uid() == 0, "only root can give a directory to another user (the CI runs these "
                + "tests as root)");
        Files.createDirectory(dir);
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        Files.setOwner(dir, dir.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("65534"));

        refusedByBoth("owned by " + Files.getOwner(dir, LinkOption.NOFOLLOW_LINKS).getName());
    }

    @Test
    void elsewhereAnExistingDirectoryIsTakenAsItIs() throws Exception {
        // systemd makes /run/roamproxy mode 0750 for the group roamproxy; /run admits no one else.
        Path run = Files.createDirectory(temp.resolve("run"));
        Files.setPosixFilePermissions(run, PosixFilePermissions.fromString("rwxr-xr-x"));
        Path shared = Files.createDirectory(run.resolve("roamproxy"));
        Files.setPosixFilePermissions(shared, PosixFilePermissions.fromString("rwxr-x---"));
        Path socket = shared.resolve("sproxy-6200.sock");

        closer.add(StatusServer.startOrWarn("sproxy", socket, List::of));

        assertEquals("sproxy: 0 sessions\n", StatusClient.ask(List.of(socket), false));
        assertEquals("rwxr-x---", PosixFilePermissions.toString(Files.getPosixFilePermissions(shared)));
    }

    @Test
    void theFallbackIsInTmpWhereTheRulesApply() throws Exception {
        String user = "test-" + UUID.randomUUID();
        Path fallback = RuntimeDir.dirs(Map.of(), user).get(0);
        assertEquals(Path.of("/tmp", "roamproxy-" + user), fallback);
        try {
            RuntimeDir.prepare(fallback);
            assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(fallback)));
            Files.setPosixFilePermissions(fallback, PosixFilePermissions.fromString("rwxrwxrwx"));

            RuntimeDir.Refused e = assertThrows(RuntimeDir.Refused.class, () -> RuntimeDir.prepare(fallback));

            assertEquals("refusing " + fallback + ": mode 0777 (it should be yours, mode 0700); remove it",
                    e.getMessage());
        } finally {
            Files.deleteIfExists(fallback);
        }
    }
}
