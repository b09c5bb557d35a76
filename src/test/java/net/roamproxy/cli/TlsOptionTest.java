package net.roamproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import net.roamproxy.client.ClientConfig;
import net.roamproxy.server.ServerConfig;
import net.roamproxy.tls.Fingerprint;

/** The TLS options of both commands: what they set, and each bad combination as a usage error. */
class TlsOptionTest {
    private static final String GOOD = "SHA256:" + "A".repeat(43);

    @TempDir Path dir;

    @Test
    void sproxyFingerprintMakesTheKeyStoreOnceAndPrintsTheSameFingerprintEveryTime() throws Exception {
        Path ks = dir.resolve("sub").resolve("sproxy.p12");

        Cli.Result first = Cli.sproxyExpectingNoStart("--fingerprint", "--tls-keystore", ks.toString());
        Cli.Result second = Cli.sproxyExpectingNoStart("--fingerprint", "--tls-keystore", ks.toString());

        assertEquals(0, first.status(), first.toString());
        String fp = first.out().strip();
        assertTrue(Fingerprint.valid(fp), first.toString());
        assertEquals(fp, second.out().strip(), "the key store is reused, not remade");
        assertTrue(Files.isRegularFile(ks));
    }

    @Test
    void tlsIsOffByDefaultAndTurnedOnByTheFlagOrTheFile() throws Exception {
        assertNull(new SproxyMain().configure().tlsKeystore());
        assertNull(new CproxyMain().configure("127.0.0.1").tls());
        Path ks = dir.resolve("k.p12");
        ServerConfig s = new SproxyMain().configure("--tls", "--tls-keystore", ks.toString());
        assertEquals(ks, s.tlsKeystore());
        Path conf = Files.writeString(dir.resolve("cproxy.conf"), "tls = true\nserver-fingerprint = " + GOOD + "\n");
        ClientConfig c = new CproxyMain().configure("--config", conf.toString(), "127.0.0.1");
        assertEquals(GOOD, c.tls().pinnedFingerprint());
    }

    @Test
    void aMalformedPinnedFingerprintIsAUsageError() {
        Cli.Result r = Cli.cproxyExpectingNoStart("--tls", "--server-fingerprint", "SHA256:short", "127.0.0.1");
        assertEquals(2, r.status(), r.toString());
        assertTrue(r.err().contains("--server-fingerprint needs SHA256:"), r.err());
    }

    @Test
    void tlsOptionsWithoutTlsAreUsageErrors() {
        Cli.Result c = Cli.cproxyExpectingNoStart("--server-fingerprint", GOOD, "127.0.0.1");
        assertEquals(2, c.status(), c.toString());
        assertTrue(c.err().contains("--server-fingerprint needs --tls"), c.err());
        Cli.Result s = Cli.sproxyExpectingNoStart("--tls-keystore", dir.resolve("x").toString());
        assertEquals(2, s.status(), s.toString());
        assertTrue(s.err().contains("--tls-keystore needs --tls"), s.err());
    }

    @Test
    void aBrokenKnownServersFileStopsCproxyAtStartNamingTheLine() throws Exception {
        Path known = Files.writeString(dir.resolve("known"), "# ok\n127.0.0.1:6200 not-a-fingerprint\n");
        Cli.Result r = Cli.cproxyExpectingNoStart("--tls", "--known-servers", known.toString(), "-p", "0",
                "127.0.0.1");
        assertEquals(1, r.status(), r.toString());
        assertTrue(r.err().contains(known + ":2:"), r.err());
    }
}
