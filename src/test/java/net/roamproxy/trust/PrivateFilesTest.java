package net.roamproxy.trust;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.GroupPrincipal;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.nio.file.attribute.UserPrincipal;
import java.nio.file.attribute.UserPrincipalLookupService;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import net.roamproxy.wire.HostKey;

/**
 * Private key files as ssh takes them: this user's (or root's), mode 0600 or 0400; and the one
 * exception for a pre-shared key, root's and readable by this process's own group.
 */
class PrivateFilesTest {
    /** The user and group nobody, nogroup: another owner a test run by root can give a file to. */
    static final int NOBODY = 65534;

    @TempDir Path dir;

    private Path file(String mode) throws IOException {
        Path f = dir.resolve("key");
        Files.write(f, HostKey.generate().pkcs8());
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(mode));
        return f;
    }

    private static boolean root() {
        return PrivateFiles.uid() == 0;
    }

    /** Gives {@code f} to another user and group; only root can, and the tests that need it say so. */
    static void giveToNobody(Path f, boolean owner, boolean group) throws IOException {
        UserPrincipalLookupService names = f.getFileSystem().getUserPrincipalLookupService();
        PosixFileAttributeView v = Files.getFileAttributeView(f, PosixFileAttributeView.class);
        if (owner) {
            UserPrincipal nobody = names.lookupPrincipalByName(String.valueOf(NOBODY));
            v.setOwner(nobody);
        }
        if (group) {
            GroupPrincipal nogroup = names.lookupPrincipalByGroupName(String.valueOf(NOBODY));
            v.setGroup(nogroup);
        }
    }

    @ParameterizedTest
    @CsvSource({"rw-------", "r--------"})
    void aKeyOnlyItsOwnerMayUseIsAccepted(String mode) throws Exception {
        assertNull(PrivateFiles.keyProblem(file(mode), "host key"));
    }

    @ParameterizedTest
    @CsvSource({
        "rw-r-----, can be read by other users", "rw----r--, can be read by other users",
        "rw--w----, can be changed by other users", "rw-----w-, can be changed by other users",
        "rw-rw-rw-, can be changed by other users", "rw---x---, has permissions for other users (mode 0010)"})
    void aKeyOtherUsersMayUseIsRefusedWithChmod600(String mode, String why) throws Exception {
        Path f = file(mode);

        assertEquals("host key " + f + " " + why + ": chmod 600 " + f, PrivateFiles.keyProblem(f, "host key " + f));
    }

    @Test
    void aKeyOwnedByAnotherUserIsRefusedWithChown() throws Exception {
        assumeTrue(root(), "only root can give a file to another user (the CI runs these tests as root)");
        Path f = file("rw-------");
        giveToNobody(f, true, false);

        String problem = PrivateFiles.keyProblem(f, "host key " + f);

        String owner = Files.getOwner(f).getName();
        assertEquals("host key " + f + " is owned by " + owner + ", not by " + PrivateFiles.userName()
                + " who runs this: chown " + PrivateFiles.userName() + " " + f, problem);
    }

    @Test
    void aKeyOwnedByRootIsAcceptedForAnyUserAsRootCanReadItAnyway() throws Exception {
        Path f = file("rw-------");
        assumeTrue(root() || Files.getAttribute(f, "unix:uid").equals(0), "the file is root's");

        assertNull(PrivateFiles.keyProblem(f, "host key"));
        assertNull(PrivateFiles.sharedKeyProblem(f, "the file"));
    }

    @Test
    void aSharedKeyOfRootReadableByThisProcesssGroupIsAccepted() throws Exception {
        assumeTrue(root(), "only root can own the file (the CI runs these tests as root)");
        Path f = file("rw-r-----"); // root, and root's group: this process's, as roamproxy's is the daemons'

        assertNull(PrivateFiles.sharedKeyProblem(f, "the file"));
        assertEquals("the file can be read by other users: chmod 600 " + f, PrivateFiles.keyProblem(f, "the file"),
                "never for a host key");
    }

    @Test
    void aSharedKeyReadableByAnotherGroupIsRefused() throws Exception {
        assumeTrue(root(), "only root can give a file to another group (the CI runs these tests as root)");
        Path f = file("rw-r-----");
        giveToNobody(f, false, true);

        String problem = PrivateFiles.sharedKeyProblem(f, "the file");

        String group = Files.readAttributes(f, java.nio.file.attribute.PosixFileAttributes.class).group().getName();
        assertEquals("the file can be read by the group " + group + ", which is not the group of "
                + PrivateFiles.userName() + ": run this as the user the key is shared with, whose group is " + group
                + " (as the daemons run), or make it private: chmod 600 " + f, problem);
    }

    @Test
    void aSharedKeyOwnedByAUserOtherThanRootMayNotBeReadByItsGroup() throws Exception {
        Path f = file("rw-r-----");
        if (root()) {
            giveToNobody(f, true, false); // as root: a key of nobody's; otherwise this user's own
        }

        String problem = PrivateFiles.sharedKeyProblem(f, "the file");

        if (root()) {
            assertEquals(true, problem.startsWith("the file is owned by "), problem);
        } else {
            assertEquals("the file can be read by its group " + Files.readAttributes(f,
                    java.nio.file.attribute.PosixFileAttributes.class).group().getName() + ": chmod 600 " + f
                    + " (only a key owned by root may be shared with a group, mode 0640)", problem);
        }
    }

    @ParameterizedTest
    @CsvSource({"rw-rw----, can be changed by other users", "rw-r--r--, can be read by other users",
        "rw-r-x---, can be read by other users", "rw-r---w-, can be changed by other users"})
    void aSharedKeyMayNeverBeWrittenByItsGroupNorUsedByOthers(String mode, String why) throws Exception {
        Path f = file(mode);

        assertEquals("the file " + why + ": chmod 600 " + f, PrivateFiles.sharedKeyProblem(f, "the file"));
    }

    @Test
    void serverKeysRefuseAKeyFileOfAnotherUserWithKeyFileException() throws Exception {
        assumeTrue(root(), "only root can give a file to another user (the CI runs these tests as root)");
        Path host = file("rw-------");
        giveToNobody(host, true, true);

        KeyFileException e = assertThrows(KeyFileException.class, () -> ServerKeys.readHostKey(host));

        assertEquals(true, e.getMessage().startsWith("host key " + host + " is owned by "), e.getMessage());
    }

    @Test
    void serverKeysRefuseARefusalKeyOtherUsersCanReadAndMakeNoNewOne() throws Exception {
        Path host = dir.resolve("host_key");
        Path refusal = dir.resolve("refusal_key");
        Files.write(refusal, new byte[32]);
        Files.setPosixFilePermissions(refusal, PosixFilePermissions.fromString("rw-r--r--"));

        KeyFileException e = assertThrows(KeyFileException.class, () -> ServerKeys.loadOrCreate(host, refusal));

        assertEquals("refusal key " + refusal + " can be read by other users: chmod 600 " + refusal, e.getMessage());
        assertEquals(32, Files.size(refusal), "left as it is");
    }
}
