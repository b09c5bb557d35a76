package net.roamproxy.hardening;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Locale;

import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import net.roamproxy.client.ClientConfig;
import net.roamproxy.client.ClientProxy;
import net.roamproxy.link.LinkSettings;
import net.roamproxy.protocol.Frame;
import net.roamproxy.protocol.FrameType;
import net.roamproxy.protocol.Handshake.Mode;
import net.roamproxy.protocol.Handshake.Status;
import net.roamproxy.protocol.Handshake;
import net.roamproxy.protocol.PresharedKey;
import net.roamproxy.server.ServerConfig;
import net.roamproxy.server.ServerProxy;
import net.roamproxy.testkit.AppClient;
import net.roamproxy.testkit.Await;
import net.roamproxy.testkit.Closer;
import net.roamproxy.testkit.EchoServer;
import net.roamproxy.testkit.Rig;
import net.roamproxy.testkit.Streams;
import net.roamproxy.testkit.LogCapture;

/**
 * With a pre-shared key on sproxy, nobody without the key opens a session: the application
 * connection is closed and the target never sees a connection. With the same key on both
 * sides sessions work and resume; the key itself never crosses the wire; and a cproxy with a
 * key refuses an sproxy that cannot prove it, before a single application byte leaves.
 */
@Timeout(30)
class PresharedKeyAccessTest {
    private static final LinkSettings LINK = Rig.link(Duration.ofMillis(100));
    private static final byte[] KEY = Streams.pseudoRandom(77, 32);
    private static final byte[] OTHER_KEY = Streams.pseudoRandom(78, 32);

    @RegisterExtension final Closer closer = new Closer();
    @RegisterExtension final LogCapture logs = LogCapture.closedBy(closer);

    private static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }

    /** cproxy is refused: the application connection ends, the target never sees a connection. */
    private static void assertNoSession(Rig rig, EchoServer echo, AppClient app) throws InterruptedException {
        try {
            app.write(ascii("secret keystrokes"));
        } catch (IOException e) {
            // cproxy may already have closed it: that is the point
        }
        Await.done(app.ended(), rig.flowDeadline(), "cproxy closes the application connection");
        assertEquals(0, echo.connectionsAccepted(), "the target never saw a connection");
        assertEquals(0, rig.sproxy().sessionCount(), "sproxy holds no session");
        Await.until(rig.flowDeadline(), "cproxy forgets the session", () -> rig.cproxy().sessionCount() == 0);
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

        Await.until(rig.relinkDeadline(), "cproxy proves the key again and resumes",
                () -> rig.relay().connectionsAccepted() > dialled && app.receivedCount() >= sent.size());
        Streams.assertSameStream("echo across the cut", sent.toByteArray(), app.received());
        assertEquals(1, echo.connectionsAccepted(), "resumed, not recreated");
        assertFalse(app.ended().isDone());
    }

    @Test
    void cproxyWithAKeyRefusesAnSproxyWithoutOneBeforeSendingAnyApplicationByte() throws Exception {
        EchoServer echo = closer.add(new EchoServer());
        Rig rig = closer.add(Rig.with(LINK, echo.port()).clientKey(KEY).start());
        AppClient app = rig.openApp();

        app.write(ascii("secret keystrokes"));

        Await.done(app.ended(), rig.flowDeadline(), "cproxy closes the application connection");
        assertTrue(echo.connections().stream().allMatch(c -> c.bytesEchoed() == 0),
                "no application byte reached the unproven sproxy's target");
    }

    @Test
    void strangerWithoutTheKeyIsChallengedAndAWrongProofIsRefused() throws Exception {
        EchoServer echo = closer.add(new EchoServer());
        Rig rig = closer.add(Rig.with(LINK, echo.port()).serverKey(KEY).start());

        try (RawLink raw = RawLink.connect(rig.sproxyPort())) {
            raw.helloNew();
            Frame challenge = raw.read(rig.flowDeadline());
            assertEquals(FrameType.CHALLENGE, challenge.type(), "sproxy challenges before anything else");
            raw.send(new Frame(FrameType.PROOF, 0, 0, Streams.pseudoRandom(81, PresharedKey.PROOF_SIZE)));
            RawLink.Answer w = raw.welcome(rig.flowDeadline());
            assertEquals(Status.AUTH_FAILED, w.status());
            assertTrue(raw.closedByPeerWithin(rig.flowDeadline()), "sproxy closes the connection");
            String peer = raw.peerName();
            logs.await(rig.flowDeadline(), "a WARN naming the peer and the key", Level.WARN,
                    m -> m.contains(peer) && m.toLowerCase(Locale.ROOT).contains("key"));
        }
        try (RawLink raw = RawLink.connect(rig.sproxyPort())) {
            // Skipping the proof gets nowhere either: a DATA frame where the PROOF must be.
            raw.helloNew();
            assertEquals(FrameType.CHALLENGE, raw.read(rig.flowDeadline()).type());
            raw.send(new Frame(FrameType.DATA, 0, 0, ascii("let me in")));
            assertTrue(raw.closedByPeerWithin(rig.flowDeadline()), "sproxy closes the connection");
        }
        assertEquals(0, echo.connectionsAccepted(), "the target never saw a connection");
        assertEquals(0, rig.sproxy().sessionCount());
    }

    @Test
    void theKeyNeverCrossesTheWire() throws Exception {
        EchoServer echo = closer.add(new EchoServer());
        InetAddress loopback = InetAddress.getLoopbackAddress();
        ServerProxy sproxy = new ServerProxy(new ServerConfig(loopback, 0, "127.0.0.1", echo.port(), LINK,
                ServerConfig.DEFAULT_MAX_SESSIONS, ServerConfig.DEFAULT_MAX_HANDSHAKES, KEY));
        closer.add(sproxy);
        sproxy.start();
        TapRelay tap = closer.add(new TapRelay(sproxy.port()));
        ClientProxy cproxy = new ClientProxy(new ClientConfig(loopback, 0, "127.0.0.1", tap.port(), LINK, KEY));
        closer.add(cproxy);
        cproxy.start();
        AppClient app = closer.add(AppClient.connect("keyed", cproxy.port()));
        byte[] text = ascii("hello through a keyed link");

        app.write(text);

        Await.until(Duration.ofSeconds(5), "echo through the keyed link", () -> app.receivedCount() >= text.length);
        byte[] up = tap.upstream();
        byte[] down = tap.downstream();
        assertTrue(up.length > text.length && down.length > text.length, "the tap saw the link's traffic");
        for (byte[] wire : new byte[][] {up, down}) {
            assertFalse(contains(wire, KEY), "the key appears on the wire");
            assertFalse(contains(wire, Arrays.copyOf(KEY, PresharedKey.MIN_KEY_SIZE)), "the key's start appears on"
                    + " the wire");
            assertFalse(contains(wire, HexFormat.of().formatHex(KEY).getBytes(StandardCharsets.US_ASCII)),
                    "the key appears on the wire in hex");
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
