package net.roamproxy.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

import net.roamproxy.client.ClientConfig;
import net.roamproxy.client.ClientProxy;
import net.roamproxy.server.ServerConfig;
import net.roamproxy.server.ServerProxy;

/**
 * {@code --secret-file FILE} on both commands: the file's bytes become the pre-shared key; an
 * unusable file is a one-line error naming the file (status 2), and nothing starts; so is a
 * file another user owns or other users may read or change, except root's key shared with this
 * process's group (mode 0640); the hint for making a key never names a file that exists. {@code sproxy --new-secret FILE} makes one.
 */
@Timeout(30)
class SecretFileOptionTest {
    @TempDir
    Path dir;

    private Path key(String name, byte[] bytes) throws IOException {
        Path f = dir.resolve(name);
        Files.write(f, bytes);
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-------"));
        return f;
    }

    private static boolean root() {
        return "root".equals(System.getProperty("user.name"));
    }

    private static byte[] bytes(int n) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (i * 37 + 11);
        }
        return b;
    }

    private static List<Cli.Result> both(String... args) {
        String[] sproxy = concat(new String[] {"-l", "127.0.0.1", "-p", "0"}, args);
        String[] cproxy = concat(sproxy, new String[] {"127.0.0.1"});
        return List.of(Cli.cproxyExpectingNoStart(cproxy), Cli.sproxyExpectingNoStart(sproxy));
    }

    private static String[] concat(String[] a, String[] b) {
        String[] r = new String[a.length + b.length];
        System.arraycopy(a, 0, r, 0, a.length);
        System.arraycopy(b, 0, r, a.length, b.length);
        return r;
    }

    @Test
    void theFilesBytesIncludingATrailingNewlineBecomeThePresharedKeyOfBothCommands() throws Exception {
        byte[] content = "a shared secret of 32 bytes or so\n".getBytes(StandardCharsets.US_ASCII);
        Path f = key("psk", content);

        ServerConfig s = new SproxyMain().configure("--secret-file", f.toString());
        ClientConfig c = new CproxyMain().configure("--secret-file", f.toString(), "127.0.0.1");

        assertArrayEquals(content, s.presharedKey());
        assertArrayEquals(content, c.presharedKey());
    }

    @Test
    void binaryKeyOfExactlyThirtyTwoBytesIsAccepted() throws Exception {
        Path f = key("psk32", bytes(32));

        assertArrayEquals(bytes(32), new SproxyMain().configure("--secret-file", f.toString()).presharedKey());
    }

    @Test
    void withoutTheOptionThereIsNoKey() throws Exception {
        assertEquals(null, new SproxyMain().configure().presharedKey());
        assertEquals(null, new CproxyMain().configure("127.0.0.1").presharedKey());
    }

    @Test
    void emptyFileIsRefusedWithStatusTwoAndAHowToMakeOneThatOverwritesNothing() throws Exception {
        Path f = key("empty", new byte[0]);
        key("empty.new", bytes(32)); // the obvious name is taken: the hint must not suggest it

        for (Cli.Result r : both("--secret-file", f.toString())) {
            assertEquals(2, r.status(), r.toString());
            assertEquals(1, r.errLines().size(), r.err());
            assertTrue(r.err().contains("--secret-file " + f + ": a pre-shared key needs at least 32 random bytes, "
                    + "the file has 0"), r.err());
            String suggested = r.err().replaceAll(".*sproxy --new-secret (\\S+).*\\R?", "$1");
            assertEquals(dir.resolve("empty.new2").toString(), suggested, r.err());
            assertFalse(Files.exists(Path.of(suggested)), "the hint names a file that does not exist");
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 16, 31})
    void fileShorterThanThirtyTwoBytesIsRefusedSayingHowLongItIs(int length) throws Exception {
        Path f = key("short", bytes(length));

        for (Cli.Result r : both("--secret-file", f.toString())) {
            assertEquals(2, r.status(), r.toString());
            assertEquals(1, r.errLines().size(), r.err());
            assertTrue(r.err().contains("at least 32 random bytes, the file has " + length), r.err());
        }
    }

    @Test
    void newSecretWritesThirtyTwoRandomBytesOnlyTheOwnerCanRead() throws Exception {
        Path f = dir.resolve("made");

        Cli.Result r = Cli.sproxy("--new-secret", f.toString());

        assertEquals(0, r.status(), r.toString());
        assertTrue(r.out().contains(f.toString()), r.out());
        assertEquals(32, Files.size(f));
        assertEquals(PosixFilePermissions.fromString("rw-------"), Files.getPosixFilePermissions(f));
        assertArrayEquals(Files.readAllBytes(f), new SproxyMain().configure("--secret-file", f.toString())
                .presharedKey(), "the file it makes is a usable key");
        Path other = dir.resolve("made-too");
        assertEquals(0, Cli.sproxy("--new-secret", other.toString()).status());
        assertFalse(Arrays.equals(Files.readAllBytes(f), Files.readAllBytes(other)), "every key is fresh");
    }

    @Test
    void newSecretNeverOverwritesAFile() throws Exception {
        Path f = key("existing", bytes(40));

        Cli.Result r = Cli.sproxyExpectingNoStart("--new-secret", f.toString());

        assertEquals(2, r.status(), r.toString());
        assertEquals(1, r.errLines().size(), r.err());
        assertTrue(r.err().contains("the file exists"), r.err());
        assertArrayEquals(bytes(40), Files.readAllBytes(f), "left as it was");
    }

    @Test
    void missingFileIsRefusedNamingIt() {
        Path f = dir.resolve("no-such-key");

        for (Cli.Result r : both("--secret-file", f.toString())) {
            assertEquals(2, r.status(), r.toString());
            assertTrue(r.err().contains("--secret-file " + f + ": cannot read it: no such file"), r.err());
        }
    }

    @Test
    void directoryIsRefused() {
        for (Cli.Result r : both("--secret-file", dir.toString())) {
            assertEquals(2, r.status(), r.toString());
            assertTrue(r.err().contains("not a regular file"), r.err());
        }
    }

    @Test
    void fileTheUserCannotReadIsRefused() throws Exception {
        assumeFalse("root".equals(System.getProperty("user.name")), "root reads any file");
        Path f = key("locked", bytes(32));
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("---------"));

        for (Cli.Result r : both("--secret-file", f.toString())) {
            assertEquals(2, r.status(), r.toString());
            assertTrue(r.err().contains("cannot read it: permission denied"), r.err());
        }
    }

    @ParameterizedTest
    @CsvSource({"rw-r--r--, can be read by other users", "rw-----w-, can be changed by other users",
        "rw-rw----, can be changed by other users", "rw----r--, can be read by other users"})
    void fileOtherUsersCanReadOrChangeIsRefusedWithTheFix(String mode, String why) throws Exception {
        Path f = key("open", bytes(32));
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString(mode));

        for (Cli.Result r : both("--secret-file", f.toString())) {
            assertEquals(2, r.status(), r.toString());
            assertEquals(1, r.errLines().size(), r.err());
            assertTrue(r.err().contains("--secret-file " + f + ": the file " + why + ": chmod 600 " + f), r.err());
        }
    }

    @Test
    void fileOfAnotherUserIsRefusedWithChown() throws Exception {
        assumeTrue(root(), "only root can give a file to another user (the CI runs these tests as root)");
        Path f = key("theirs", bytes(32));
        Files.setOwner(f, f.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByName("65534"));

        for (Cli.Result r : both("--secret-file", f.toString())) {
            assertEquals(2, r.status(), r.toString());
            assertTrue(r.err().contains("--secret-file " + f + ": the file is owned by " + Files.getOwner(f).getName()
                    + ", not by root who runs this: chown root " + f), r.err());
        }
    }

    /** The documented setup: root:roamproxy, mode 0640, read by daemons whose group is roamproxy. */
    @Test
    void keyOfRootReadableByTheGroupOfThisProcessIsAccepted() throws Exception {
        assumeTrue(root(), "only root can own the key (the CI runs these tests as root, whose group is root's)");
        Path f = key("shared", bytes(32));
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r-----"));

        assertArrayEquals(bytes(32), new SproxyMain().configure("--secret-file", f.toString()).presharedKey());
        assertArrayEquals(bytes(32), new CproxyMain().configure("--secret-file", f.toString(), "127.0.0.1")
                .presharedKey());
    }

    @Test
    void keyReadableByAGroupThatIsNotThisProcesssIsRefused() throws Exception {
        Path f = key("group", bytes(32));
        Files.setPosixFilePermissions(f, PosixFilePermissions.fromString("rw-r-----"));
        String expected;
        if (root()) {
            Files.getFileAttributeView(f, java.nio.file.attribute.PosixFileAttributeView.class).setGroup(
                    f.getFileSystem().getUserPrincipalLookupService().lookupPrincipalByGroupName("65534"));
            expected = "which is not the group of root: run this as the user the key is shared with";
        } else {
            expected = "(only a key owned by root may be shared with a group, mode 0640)";
        }

        for (Cli.Result r : both("--secret-file", f.toString())) {
            assertEquals(2, r.status(), r.toString());
            assertEquals(1, r.errLines().size(), r.err());
            assertTrue(r.err().contains("--secret-file " + f + ": the file can be read by ") && r.err().contains(expected),
                    r.err());
        }
    }

    @Test
    void hugeFileIsNotAKey() throws Exception {
        Path f = key("huge", new byte[SecretFile.MAX_SIZE + 1]);

        for (Cli.Result r : both("--secret-file", f.toString())) {
            assertEquals(2, r.status(), r.toString());
            assertTrue(r.err().contains("too large for a key"), r.err());
        }
    }

    @Test
    void badSecretFileFromAConfigFileNamesTheConfigLine() throws Exception {
        Path f = key("short", bytes(4));
        Path conf = dir.resolve("sproxy.conf");
        Files.writeString(conf, "# key\nsecret-file = " + f + "\n");

        Cli.Result r = Cli.sproxyExpectingNoStart("-l", "127.0.0.1", "-p", "0", "--config", conf.toString());

        assertEquals(2, r.status(), r.toString());
        assertTrue(r.err().startsWith("sproxy: " + conf + ":2: secret-file " + f + ": "), r.err());
    }

    @Test
    void helpDocumentsTheOption() {
        for (Cli.Result r : List.of(Cli.cproxy("--help"), Cli.sproxy("--help"))) {
            assertTrue(r.out().contains("--secret-file <FILE>"), r.out());
        }
    }

    /** The key read from the file is the one the proxies use: same file, a session works; different files, none opens. */
    @Test
    void proxiesStartedWithTheSameKeyFileRelayAndWithDifferentOnesDoNot() throws Exception {
        Path shared = key("shared", bytes(32));
        Path other = key("other", "a different key of 32 bytes.....".getBytes(StandardCharsets.US_ASCII));
        assertEquals(32, Files.size(other));
        try (ServerSocket echo = echoServer()) {
            assertTrue(relays(shared, shared, echo.getLocalPort()), "same key: bytes come back");
            assertEquals(false, relays(shared, other, echo.getLocalPort()), "different keys: no session");
        }
    }

    private boolean relays(Path serverKey, Path clientKey, int echoPort) throws Exception {
        try (Cli.Capturing<?> sproxy = new Cli.Capturing<>("sproxy", new SproxyMain());
             Cli.Capturing<?> cproxy = new Cli.Capturing<>("cproxy", new CproxyMain())) {
            assertEquals(0, Cli.run(sproxy, "-l", "127.0.0.1", "-p", "0", "--heartbeat", "100", "--target",
                    "127.0.0.1:" + echoPort, "--secret-file", serverKey.toString()).status());
            int linkPort = ((ServerProxy) sproxy.started()).port();
            assertEquals(0, Cli.run(cproxy, "-l", "127.0.0.1", "-p", "0", "-s", String.valueOf(linkPort),
                    "--heartbeat", "100", "--detach-timeout", "2", "--secret-file", clientKey.toString(),
                    "127.0.0.1").status());
            int appPort = ((ClientProxy) cproxy.started()).port();
            try (Socket app = new Socket()) {
                app.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), appPort), 5_000);
                app.setSoTimeout(5_000);
                app.getOutputStream().write("ping".getBytes(StandardCharsets.US_ASCII));
                byte[] got = new byte[4];
                int n = 0;
                try {
                    while (n < 4) {
                        int r = app.getInputStream().read(got, n, 4 - n);
                        if (r < 0) {
                            return false;
                        }
                        n += r;
                    }
                } catch (IOException e) {
                    return false;
                }
                return "ping".equals(new String(got, StandardCharsets.US_ASCII));
            }
        }
    }

    /** A loopback echo server on daemon threads; closing it stops accepting. */
    static ServerSocket echoServer() throws IOException {
        ServerSocket ss = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread t = new Thread(() -> {
            while (!ss.isClosed()) {
                try {
                    Socket s = ss.accept();
                    Thread c = new Thread(() -> {
                        try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
                            in.transferTo(out);
                        } catch (IOException e) {
                            // peer went away
                        }
                    }, "test-echo-conn");
                    c.setDaemon(true);
                    c.start();
                } catch (IOException e) {
                    return;
                }
            }
        }, "test-echo-accept");
        t.setDaemon(true);
        t.start();
        return ss;
    }
}
