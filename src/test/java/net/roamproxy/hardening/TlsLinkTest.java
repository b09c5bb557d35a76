package net.roamproxy.hardening;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;

import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import net.roamproxy.client.ClientConfig;
import net.roamproxy.link.LinkSettings;
import net.roamproxy.tls.TlsServer;
import net.roamproxy.testkit.AppClient;
import net.roamproxy.testkit.Await;
import net.roamproxy.testkit.Closer;
import net.roamproxy.testkit.EchoServer;
import net.roamproxy.testkit.LogCapture;
import net.roamproxy.testkit.Rig;
import net.roamproxy.testkit.Streams;

/**
 * TLS on the link: sessions work and resume over it, cproxy trusts sproxy's certificate on
 * first use and refuses a different one later, a pinned fingerprint is enforced, and TLS on
 * one side only is refused on both sides with a clear line, never a hang.
 */
@Timeout(60)
class TlsLinkTest {
    private static final LinkSettings LINK = Rig.link(Duration.ofMillis(100));
    /** A fingerprint no certificate has. */
    private static final String WRONG = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

    @RegisterExtension final Closer closer = new Closer();
    @RegisterExtension final LogCapture logs = LogCapture.closedBy(closer);
    @TempDir Path dir;

    private Path keystore() {
        return dir.resolve("state").resolve("sproxy-tls.p12");
    }

    private ClientConfig.Tls tofu() {
        return new ClientConfig.Tls(null, dir.resolve("known_servers"));
    }

    private static void echo(Rig rig, AppClient app, ByteArrayOutputStream sent, byte[] more) throws Exception {
        app.write(more);
        sent.write(more);
        Await.until(rig.flowDeadline(), () -> "echo at " + app.receivedCount() + "/" + sent.size(),
                () -> app.receivedCount() >= sent.size());
        Streams.assertSameStream("echo", sent.toByteArray(), app.received());
    }

    private void assertRefusedBeforeAnySession(Rig rig, EchoServer echo, AppClient app) throws Exception {
        Await.done(app.ended(), rig.flowDeadline(), "cproxy closes the application connection");
        assertEquals(0, echo.connectionsAccepted(), "no session reached the target");
        assertEquals(0, rig.sproxy().sessionCount());
    }

    @Test
    void aSessionRunsAndResumesOverTlsAndTheFirstCertificateIsRecorded() throws Exception {
        EchoServer echo = closer.add(new EchoServer());
        Rig rig = closer.add(Rig.with(LINK, echo.port()).serverTls(keystore()).clientTls(tofu()).start());
        AppClient app = rig.openApp();
        ByteArrayOutputStream sent = new ByteArrayOutputStream();

        echo(rig, app, sent, Streams.pseudoRandom(1, 100_000));
        rig.relay().cut();
        echo(rig, app, sent, Streams.pseudoRandom(2, 100_000));

        assertEquals(1, echo.connectionsAccepted(), "resumed, not recreated");
        String fingerprint = TlsServer.loadOrCreate(keystore()).fingerprint();
        String known = Files.readString(dir.resolve("known_servers"));
        assertTrue(known.contains("127.0.0.1:" + rig.relay().port() + " " + fingerprint), known);
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(keystore())));
        logs.await(rig.flowDeadline(), "sproxy logs its fingerprint", Level.INFO, m -> m.contains(fingerprint));
        logs.await(rig.flowDeadline(), "cproxy says it trusted it on first use", Level.INFO,
                m -> m.contains("trusted on first use") && m.contains(fingerprint));

        app.close(); // a logout: ends the session on both sides, over TLS as without
        Await.done(echo.connection(0).ended(), rig.flowDeadline(), "the target connection ends");
        Await.until(rig.flowDeadline(), "no session left on sproxy", () -> rig.sproxy().sessionCount() == 0);
    }

    @Test
    void aDifferentCertificateLaterIsRefusedWithAnErrorNamingBothFingerprints() throws Exception {
        EchoServer echo = closer.add(new EchoServer());
        Rig rig = closer.add(Rig.with(LINK, echo.port()).serverTls(keystore()).clientTls(tofu()).start());
        Files.writeString(dir.resolve("known_servers"), "127.0.0.1:" + rig.relay().port() + " " + WRONG + "\n");

        AppClient app = rig.openApp();

        assertRefusedBeforeAnySession(rig, echo, app);
        String actual = TlsServer.loadOrCreate(keystore()).fingerprint();
        logs.await(rig.flowDeadline(), "an ERROR naming both fingerprints and the fix", Level.ERROR,
                m -> m.contains(actual) && m.contains(WRONG) && m.contains("remove the line"));
    }

    @Test
    void aPinnedFingerprintIsEnforced() throws Exception {
        EchoServer echo = closer.add(new EchoServer());
        String actual = TlsServer.loadOrCreate(keystore()).fingerprint();
        Rig good = closer.add(Rig.with(LINK, echo.port()).serverTls(keystore())
                .clientTls(new ClientConfig.Tls(actual, dir.resolve("unused"))).start());
        echo(good, good.openApp(), new ByteArrayOutputStream(), "pinned".getBytes(StandardCharsets.US_ASCII));
        assertFalse(Files.exists(dir.resolve("unused")), "pinning writes no known-servers file");

        EchoServer echo2 = closer.add(new EchoServer());
        Rig bad = closer.add(Rig.with(LINK, echo2.port()).serverTls(keystore())
                .clientTls(new ClientConfig.Tls(WRONG, dir.resolve("unused"))).start());
        assertRefusedBeforeAnySession(bad, echo2, bad.openApp());
        logs.await(bad.flowDeadline(), "an ERROR naming both fingerprints", Level.ERROR,
                m -> m.contains(actual) && m.contains(WRONG) && m.contains("--server-fingerprint"));
    }

    @Test
    void tlsOnlyOnCproxyIsRefusedOnBothSidesWithAClearLine() throws Exception {
        EchoServer echo = closer.add(new EchoServer());
        Rig rig = closer.add(Rig.with(LINK, echo.port()).clientTls(tofu()).start());

        assertRefusedBeforeAnySession(rig, echo, rig.openApp());
        logs.await(rig.flowDeadline(), "sproxy says the peer speaks TLS", Level.WARN,
                m -> m.contains("speaks TLS") && m.contains("without --tls"));
        logs.await(rig.flowDeadline(), "cproxy says sproxy runs without TLS", Level.INFO,
                m -> m.contains("refused the TLS handshake") && m.contains("--tls"));
    }

    @Test
    void tlsOnlyOnSproxyIsRefusedOnBothSidesWithAClearLine() throws Exception {
        EchoServer echo = closer.add(new EchoServer());
        Rig rig = closer.add(Rig.with(LINK, echo.port()).serverTls(keystore()).start());

        assertRefusedBeforeAnySession(rig, echo, rig.openApp());
        logs.await(rig.flowDeadline(), "sproxy says the peer does not use TLS", Level.WARN,
                m -> m.contains("does not use TLS") && m.contains("--tls"));
        logs.await(rig.flowDeadline(), "cproxy says sproxy requires TLS", Level.INFO,
                m -> m.contains("requires TLS") && m.contains("--tls"));
    }

    @Test
    void threeHundredGarbageClientHellosAreDroppedWithoutLeftoversAndALegitimateSessionStillOpens() throws Exception {
        EchoServer echo = closer.add(new EchoServer());
        Rig rig = closer.add(Rig.with(LINK, echo.port()).serverTls(keystore()).clientTls(tofu()).start());
        byte[][] junk = {
            {0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5}, // a handshake record with a nonsense body
            {0x16, 0x03, 0x01, 0x40, 0x00}, // a record header promising 16 KiB, then nothing
            Streams.pseudoRandom(7, 300), // noise
        };
        for (int i = 0; i < 300; i++) {
            try (Socket s = new Socket("127.0.0.1", rig.sproxyPort())) {
                s.getOutputStream().write(junk[i % junk.length]);
                s.shutdownOutput();
                s.setSoTimeout((int) rig.flowDeadline().toMillis());
                s.getInputStream().readAllBytes(); // until sproxy closes it
            } catch (java.io.IOException e) {
                // a reset is as good as a close here
            }
        }

        AppClient app = rig.openApp();
        echo(rig, app, new ByteArrayOutputStream(), "through".getBytes(StandardCharsets.US_ASCII));
        assertEquals(1, rig.sproxy().sessionCount());
        Await.until(rig.flowDeadline(), "no handshake thread left behind", () -> Thread.getAllStackTraces().keySet()
                .stream().noneMatch(t -> t.isAlive() && t.getName().startsWith("sproxy-handshake-")
                        && !t.getName().equals("sproxy-handshake-timer")));
        logs.await(rig.flowDeadline(), "each one logged as a failed TLS handshake", Level.WARN,
                m -> m.contains("TLS handshake failed"));
    }
}
