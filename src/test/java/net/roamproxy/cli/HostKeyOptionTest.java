package net.roamproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import net.roamproxy.server.ServerProxy;
import net.roamproxy.wire.HostKey;

/**
 * sproxy's host key: made with mode 0600 on first start and kept across restarts;
 * {@code --fingerprint} only reads it, and says so when there is none yet; a key file that
 * other users can read or change, that another user owns, or that holds no key, stops sproxy
 * with status 2 and one line naming the file and the fix.
 */
@Timeout(30)
class HostKeyOptionTest {
    @TempDir
    Path dir;

    @Test
    void fingerprintWithoutAKeySaysSoAndMakesNone() {
        Path key = dir.resolve("host_key");

        Cli.Result r = Cli.sproxyExpectingNoStart("--host-key", key.toString(), "--fingerprint");

        assertEquals(1, r.status(), r.toString());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().contains("no host key at " + key + " yet"), r.err());
        assertFalse(Files.exists(key), "--fingerprint only reads");
    }

    @Test
    void theFirstStartMakesAKeyOnlyTheOwnerCanReadAndFingerprintPrintsItsFingerprint() throws Exception {
        Path key = dir.resolve("keys/host_key");
        String started;
        try (Cli.Capturing<?> sproxy = new Cli.Capturing<>("sproxy", new SproxyMain())) {
            assertEquals(0, Cli.run(sproxy, "-l", "127.0.0.1", "-p", "0", "--host-key", key.toString()).status());
            assertTrue(sproxy.started() instanceof ServerProxy, "sproxy started");
            started = HostKey.fromPkcs8(Files.readAllBytes(key)).fingerprint();
        }
        assertEquals(PosixFilePermissions.fromString("rw-------"), Files.getPosixFilePermissions(key));

        Cli.Result r = Cli.sproxy("--host-key", key.toString(), "--fingerprint");

        assertEquals(0, r.status(), r.toString());
        assertEquals(started, r.out().strip());
        assertTrue(HostKey.validFingerprint(r.out().strip()), r.out());
        try (Cli.Capturing<?> again = new Cli.Capturing<>("sproxy", new SproxyMain())) {
            assertEquals(0, Cli.run(again, "-l", "127.0.0.1", "-p", "0", "--host-key", key.toString()).status());
        }
        assertEquals(started, Cli.sproxy("--host-key", key.toString(), "--fingerprint").out().strip(),
                "a restart keeps the key");
    }

    @Test
    void aKeyFileOtherUsersCanReadIsRefusedNamingIt() throws Exception {
        Path key = dir.resolve("host_key");
        Files.write(key, HostKey.generate().pkcs8());
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-r--r--"));

        for (Cli.Result r : new Cli.Result[] {Cli.sproxyExpectingNoStart("--host-key", key.toString(), "--fingerprint"),
            Cli.sproxyExpectingNoStart("-l", "127.0.0.1", "-p", "0", "--host-key", key.toString())}) {
            assertEquals(2, r.status(), r.toString());
            assertEquals(1, r.errLines().size(), r.err());
            assertTrue(r.err().contains("host key " + key + " can be read by other users: chmod 600 " + key), r.err());
        }
    }

    @Test
    void aKeyFileOtherUsersCanChangeIsRefusedNamingIt() throws Exception {
        Path key = dir.resolve("host_key");
        Files.write(key, HostKey.generate().pkcs8());
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw--w----"));

        Cli.Result r = Cli.sproxyExpectingNoStart("-l", "127.0.0.1", "-p", "0", "--host-key", key.toString());

        assertEquals(2, r.status(), r.toString());
        assertEquals(List.of("sproxy: host key " + key + " can be changed by other users: chmod 600 " + key),
                r.errLines());
    }

    @Test
    void aKeyFileOfAnotherUserIsRefusedNamingTheOwnerAndTheFix() throws Exception {
        assumeTrue("root".equals(System.getProperty("user.name")),
                "only root can give a file to another user (the CI runs these tests as root)");
        Path key = dir.resolve("host_key");
        Files.write(key, HostKey.generate().pkcs8());
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        Files.setOwner(key, key.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("65534"));
        String owner = Files.getOwner(key).getName();

        for (Cli.Result r : new Cli.Result[] {Cli.sproxyExpectingNoStart("--host-key", key.toString(), "--fingerprint"),
            Cli.sproxyExpectingNoStart("-l", "127.0.0.1", "-p", "0", "--host-key", key.toString())}) {
            assertEquals(2, r.status(), r.toString());
            assertEquals(List.of("sproxy: host key " + key + " is owned by " + owner + ", not by root who runs this: "
                    + "chown root " + key), r.errLines());
        }
    }

    @Test
    void aDirectoryWhereTheKeyBelongsIsRefusedNamingIt() throws Exception {
        Path key = Files.createDirectory(dir.resolve("host_key"));

        Cli.Result r = Cli.sproxyExpectingNoStart("--host-key", key.toString(), "--fingerprint");

        assertEquals(2, r.status(), r.toString());
        assertEquals(List.of("sproxy: host key " + key + " is not a file"), r.errLines());
    }

    @Test
    void aKeyFileThatHoldsNoKeyIsRefusedNamingIt() throws Exception {
        Path key = dir.resolve("host_key");
        Files.write(key, "not a key".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));

        Cli.Result r = Cli.sproxyExpectingNoStart("-l", "127.0.0.1", "-p", "0", "--host-key", key.toString());

        assertEquals(2, r.status(), "a damaged key will not mend itself: no point in systemd retrying; " + r);
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().contains("host key " + key + " holds no Ed25519 private key"), r.err());
    }

    @Test
    void theRetiredTlsOptionsSayWhatToDoOnTheCommandLineAndInAConfigFile() throws Exception {
        Cli.Result flag = Cli.cproxyExpectingNoStart("--tls", "127.0.0.1");
        assertEquals(2, flag.status(), flag.toString());
        assertTrue(flag.err().contains("--tls is gone: every link is now always encrypted and authenticated"),
                flag.err());
        Path conf = dir.resolve("sproxy.conf");
        Files.writeString(conf, "tls-keystore = /var/lib/roamproxy/sproxy-tls.p12\n");
        Cli.Result key = Cli.sproxyExpectingNoStart("--config", conf.toString());
        assertEquals(2, key.status(), key.toString());
        assertTrue(key.err().contains(conf + ":1: unknown key 'tls-keystore' (sproxy now has a host key instead "
                + "(--host-key): remove it)"), key.err());
    }

    @Test
    void helpNamesTheOptionsAndTheTlsOptionsAreGone() {
        Cli.Result s = Cli.sproxy("--help");
        assertTrue(s.out().contains("--host-key <FILE>") && s.out().contains("--new-secret <FILE>"), s.out());
        assertFalse(s.out().contains("--tls"), s.out());
        assertFalse(Cli.cproxy("--help").out().contains("--tls"));
    }
}
