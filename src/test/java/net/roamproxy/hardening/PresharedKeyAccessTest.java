package net.roamproxy.hardening;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;

import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import net.roamproxy.client.ClientConfig;
import net.roamproxy.client.ClientProxy;
import net.roamproxy.server.ServerConfig;
import net.roamproxy.server.ServerProxy;
import net.roamproxy.session.LinkSettings;
import net.roamproxy.testkit.AppClient;
import net.roamproxy.testkit.Await;
import net.roamproxy.testkit.Closer;
import net.roamproxy.testkit.EchoServer;
import net.roamproxy.testkit.LogCapture;
import net.roamproxy.testkit.RawLink;
import net.roamproxy.testkit.Rig;
import net.roamproxy.testkit.Streams;
import net.roamproxy.trust.ServerKeys;
import net.roamproxy.wire.FrameType;
import net.roamproxy.wire.Handshake.Status;
import net.roamproxy.wire.Handshake;
import net.roamproxy.wire.HostKey;

/**
 * With a pre-shared key (--secret-file) on sproxy, nobody without the key opens a session:
 * the key is mixed into the new session's secret, so cproxy's PROOF fails, sproxy answers with
 * an AUTH_FAILED signed by its host key, cproxy ends that session attempt saying why, and the
 * target never sees a connection. A stranger gets a signed WELCOME like anyone, but nothing it
 * can test a guess against: any PROOF it makes is refused. With the same key on both sides
 * sessions work and resume, and the key itself never crosses the wire.
 */
@Timeout(30)
class PresharedKeyAccessTest {
    private static final LinkSettings LINK = Rig.link(Duration.ofMillis(100));
    private static final byte[] KEY = Handshake.randomBytes(32);
    private static final byte[] OTHER_KEY = Handshake.randomBytes(32);
    private static final String REASON = "--secret-file contents differ";

    @RegisterExtension final Closer closer = new Closer();
    @RegisterExtension final LogCapture logs = LogCapture.closedBy(closer);

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /**
     * cproxy is refused: sproxy warns, cproxy closes the session saying why and closes the
     * application connection; the target never sees a connection, no session is left.
     */
    private void assertNoSession(Rig rig, EchoServer echo, AppClient app) throws InterruptedException {
        try {
            app.write(ascii("secret keystrokes"));
        } catch (IOException e) {
            // cproxy may already have closed it: that is the point
        }
        Await.done(app.ended(), rig.flowDeadline(), "cproxy closes the application connection");
        logs.await(rig.flowDeadline(), "sproxy's WARN: the proof failed", Level.WARN,
                m -> m.contains("refused new session") && m.contains("proof") && m.contains("--secret-file"));
        logs.await(rig.flowDeadline(), "cproxy closes the session with the reason", Level.INFO,
                m -> m.contains(": closed:") && m.contains(REASON));
        assertEquals(0, echo.connectionsAccepted(), "the target never saw a connection");
        assertEquals(0, rig.sproxy().sessionCount(), "sproxy holds no session");
        Await.until(rig.flowDeadline(), "cproxy forgets the session", () -> rig.cproxy().sessionCount() == 0);
        // Counted where the attempts arrive, not in the relay's connections: cproxy may race a
        // second connect and drop it, which the relay counts too.
        assertEquals(1, logs.find(Level.WARN, m -> m.contains("refused new session")).size(),
                "a signed AUTH_FAILED ends the attempt: no redial");
    }

    @Test
    void cproxyWithoutTheKeyCannotOpenASession() throws Exception {
        EchoServer echo = closer.add(new EchoServer());
        Rig rig = closer.add(Rig.with(LINK, echo.port()).serverKey(KEY).start());

        assertNoSession(rig, echo, rig.openApp());
    }

    @Test
    void cproxyWithADifferentKeyCannotOpenASession() throws Exception {
        EchoServer echo = closer.add(new EchoServer());
        Rig rig = closer.add(Rig.with(LINK, echo.port()).serverKey(KEY).clientKey(OTHER_KEY).start());

        assertNoSession(rig, echo, rig.openApp());
    }

    @Test
    void cproxyWithAKeyCannotOpenASessionWithAnSproxyWithoutOneAndSendsItNoApplicationByte() throws Exception {
        EchoServer echo = closer.add(new EchoServer());
        Rig rig = closer.add(Rig.with(LINK, echo.port()).clientKey(KEY).start());

        assertNoSession(rig, echo, rig.openApp());
    }

    @Test
    void cproxyWithTheSameKeyOpensASessionThatResumesAfterACut() throws Exception {
        EchoServer echo = closer.add(new EchoServer());
        Rig rig = closer.add(Rig.with(LINK, echo.port()).serverKey(KEY).clientKey(KEY.clone()).start());
        AppClient app = rig.openApp();
        ByteArrayOutputStream sent = new ByteArrayOutputStream();
        sent.write(Streams.pseudoRandom(79, 100_000));
        app.write(sent.toByteArray());
        Await.until(rig.flowDeadline(), "echo", () -> app.receivedCount() >= sent.size());
        int dialled = rig.relay().connectionsAccepted();

        rig.relay().cut();
        byte[] more = Streams.pseudoRandom(80, 100_000);
        app.write(more);
        sent.write(more);

        Await.until(rig.relinkDeadline(), "cproxy resumes and the echo completes",
                () -> rig.relay().connectionsAccepted() > dialled && app.receivedCount() >= sent.size());
        Streams.assertSameStream("echo across the cut", sent.toByteArray(), app.received());
        assertEquals(1, echo.connectionsAccepted(), "resumed, not recreated");
        assertFalse(app.ended().isDone());
    }

    @Test
    void aStrangerWithoutTheKeyGetsASignedWelcomeButEveryProofItMakesIsRefused() throws Exception {
        EchoServer echo = closer.add(new EchoServer());
        ServerKeys keys = new ServerKeys(HostKey.generate(), Handshake.randomBytes(32));
        Rig rig = closer.add(Rig.with(LINK, echo.port()).serverKey(KEY).serverKeys(keys).start());
        byte[] hostKey = keys.hostKey().publicKey();

        for (byte[] guess : new byte[][] {null, OTHER_KEY, new byte[32]}) {
            try (RawLink raw = RawLink.connect(rig.sproxyPort())) {
                RawLink.Answer a = raw.proveNewSession(guess, rig.flowDeadline());
                assertEquals(FrameType.REFUSED, a.frame().type(), "sproxy refuses the PROOF: " + a.frame());
                assertEquals(Status.AUTH_FAILED, a.status());
                assertTrue(raw.signedRefusal(a, hostKey), "the refusal is signed by sproxy's host key");
                assertTrue(raw.closedByPeerWithin(rig.flowDeadline()), "sproxy closes the connection");
                String peer = raw.peerName();
                logs.await(rig.flowDeadline(), "a WARN naming the stranger and the failed proof", Level.WARN,
                        m -> m.contains(peer) && m.contains("proof") && m.contains("--secret-file"));
            }
        }
        try (RawLink raw = RawLink.connect(rig.sproxyPort())) {
            // Skipping the proof gets nowhere either: a sealed-looking DATA frame where the PROOF must be.
            raw.helloNew();
            assertEquals(FrameType.WELCOME, raw.read(rig.flowDeadline()).type());
            raw.sendRaw(Hostile.sealedHeader(FrameType.DATA, 9));
            raw.sendRaw(Arrays.copyOf(ascii("let me in"), 9 + 16));
            assertTrue(raw.closedByPeerWithin(rig.flowDeadline()), "sproxy closes the connection");
        }
        assertEquals(0, echo.connectionsAccepted(), "the target never saw a connection");
        assertEquals(0, rig.sproxy().sessionCount(), "no session was created");
    }

    @Test
    void theKeyNeverCrossesTheWire() throws Exception {
        EchoServer echo = closer.add(new EchoServer());
        java.net.InetAddress loopback = java.net.InetAddress.getLoopbackAddress();
        ServerProxy sproxy = closer.add(new ServerProxy(new ServerConfig(loopback, 0, "127.0.0.1", echo.port(), LINK,
                ServerConfig.DEFAULT_MAX_SESSIONS, ServerConfig.DEFAULT_MAX_HANDSHAKES, KEY)));
        sproxy.start();
        TapRelay tap = closer.add(new TapRelay(sproxy.port()));
        ClientProxy cproxy = closer.add(new ClientProxy(new ClientConfig(loopback, 0, "127.0.0.1", tap.port(), LINK,
                KEY)));
        cproxy.start();
        AppClient app = closer.add(AppClient.connect("keyed", cproxy.port()));
        byte[] text = ascii("hello through a keyed link");

        app.write(text);

        Await.until(LINK.heartbeatInterval().multipliedBy(50), "echo through the keyed link",
                () -> app.receivedCount() >= text.length);
        byte[] up = tap.upstream();
        byte[] down = tap.downstream();
        assertTrue(up.length > text.length && down.length > text.length, "the tap saw the link's traffic");
        for (byte[] wire : new byte[][] {up, down}) {
            assertFalse(contains(wire, KEY), "the key appears on the wire");
            assertFalse(contains(wire, Arrays.copyOf(KEY, 8)), "the key's start appears on the wire");
            assertFalse(contains(wire, HexFormat.of().formatHex(KEY).getBytes(StandardCharsets.US_ASCII)),
                    "the key appears on the wire in hex");
            assertFalse(contains(wire, text), "the application's bytes appear in clear on the wire");
        }
    }

    private static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
