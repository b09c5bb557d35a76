package net.roamproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code key = value} format of {@code --config} files, on its own: what is accepted and how each mistake is reported. */
class ConfigFileTest {
    private static final Set<String> KEYS = Set.of("port", "listen", "detach-timeout", "secret-file");
    private static final Path FILE = Path.of("/etc/roamproxy/test.conf");

    private static ConfigFile parse(String... lines) throws UsageException {
        return ConfigFile.parse(FILE, List.of(lines), KEYS);
    }

    private static String error(String... lines) {
        return assertThrows(UsageException.class, () -> parse(lines)).getMessage();
    }

    @Test
    void keyValueLinesAreReadWithSpacesAroundTheEqualsSignTrimmed() throws Exception {
        ConfigFile f = parse("port = 5201", "listen=127.0.0.2", "  detach-timeout   =   60  ");

        assertEquals("5201", f.get("port").value());
        assertEquals("127.0.0.2", f.get("listen").value());
        assertEquals("60", f.get("detach-timeout").value());
        assertEquals(3, f.get("detach-timeout").line());
    }

    @Test
    void commentsAndBlankLinesAreIgnoredAndLineNumbersStillCount() throws Exception {
        ConfigFile f = parse("# sproxy settings", "", "   # indented comment", "\t", "#port = 1", "port = 7");

        assertEquals("7", f.get("port").value());
        assertEquals(6, f.get("port").line());
        assertNull(f.get("listen"));
    }

    @Test
    void valueKeepsEverythingAfterTheFirstEqualsSign() throws Exception {
        assertEquals("a=b", parse("secret-file = a=b").get("secret-file").value());
    }

    @Test
    void byteOrderMarkAtTheStartIsIgnored() throws Exception {
        assertEquals("5", parse("\uFEFFport = 5").get("port").value());
    }

    @Test
    void unknownKeyIsAnErrorNamingFileLineAndKeyAndListingTheKnownKeys() {
        String e = error("# x", "prot = 5200");

        assertEquals(FILE + ":2: unknown key 'prot' (known keys: detach-timeout, listen, port, secret-file)", e);
    }

    @Test
    void keyWrittenAsAnOptionWithDashesGetsAHint() {
        String e = error("--port = 5200");

        assertTrue(e.startsWith(FILE + ":1: unknown key '--port'"), e);
        assertTrue(e.contains("without dashes: port"), e);
    }

    @Test
    void lineWithoutEqualsSignIsAnErrorQuotingTheLine() {
        assertEquals(FILE + ":1: expected 'key = value', got 'port 5200'", error("port 5200"));
    }

    @Test
    void emptyKeyIsAnError() {
        assertEquals(FILE + ":1: no key before '='", error("= 5"));
    }

    @Test
    void emptyValueIsAnErrorNamingTheKey() {
        assertEquals(FILE + ":3: port has no value", error("", "", "port =   "));
    }

    @Test
    void keySetTwiceIsAnErrorNamingBothLines() {
        assertEquals(FILE + ":4: port is already set on line 1", error("port = 1", "", "listen = ::1", "port = 2"));
    }

    @Test
    void missingFileIsAnErrorSayingSo(@TempDir Path dir) {
        Path missing = dir.resolve("nope.conf");

        String e = assertThrows(UsageException.class, () -> ConfigFile.read(missing, KEYS)).getMessage();

        assertEquals("cannot read config file " + missing + ": no such file", e);
    }

    @Test
    void directoryIsNotAConfigFile(@TempDir Path dir) {
        String e = assertThrows(UsageException.class, () -> ConfigFile.read(dir, KEYS)).getMessage();

        assertEquals("config file " + dir + " is a directory", e);
    }

    @Test
    void fileThatIsNotUtf8IsRefused(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("latin1.conf");
        Files.write(f, new byte[] {'p', 'o', 'r', 't', '=', (byte) 0xE9, '\n'});

        String e = assertThrows(UsageException.class, () -> ConfigFile.read(f, KEYS)).getMessage();

        assertEquals("config file " + f + " is not UTF-8 text", e);
    }

    @Test
    void fileOnDiskIsReadWithItsLineNumbers(@TempDir Path dir) throws Exception {
        Path f = dir.resolve("ok.conf");
        Files.writeString(f, "# comment\r\nport = 9\r\n", StandardCharsets.UTF_8);

        ConfigFile c = ConfigFile.read(f, KEYS);

        assertEquals("9", c.get("port").value());
        assertEquals(2, c.get("port").line());
        assertEquals(f, c.path());
    }
}
