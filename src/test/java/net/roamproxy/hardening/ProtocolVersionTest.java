package net.roamproxy.hardening;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import net.roamproxy.server.ServerConfig;
import net.roamproxy.server.ServerProxy;
import net.roamproxy.session.LinkSettings;
import net.roamproxy.testkit.AppClient;
import net.roamproxy.testkit.Await;
import net.roamproxy.testkit.Closer;
import net.roamproxy.testkit.EchoServer;
import net.roamproxy.testkit.LogCapture;
import net.roamproxy.testkit.Rig;
import net.roamproxy.wire.Wire;

/**
 * Peers of protocol versions 1 and 2 get sproxy's refusal in their own version's format, so
 * they say "upgrade" instead of retrying. A cproxy of this version never falls back: an answer
 * in another version is a failed dial like any unauthenticated answer (an attacker can send
 * one), so cproxy keeps dialling, and reports what it met once it reaches sproxy again.
 */
@Timeout(30)
class ProtocolVersionTest {
    private static final LinkSettings LINK = Rig.link(Duration.ofMillis(100));
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private static final int HELLO = 1;
    /**
     * A version-1 HELLO for a new session, as that release sent it: header (magic, version 1,
     * type 1, length 45, seq 0, ack 0), mode 0, id 0, token, window, nonce.
     */
    private static final byte[] VERSION_1_HELLO = HexFormat.of().parseHex("5250" + "01" + "01" + "0000002d"
            + "0000000000000000" + "0000000000000000" + "00" + "0000000000000000"
            + "11111111111111111111111111111111" + "00100000" + "22222222222222222222222222222222");
    /** A version-2 HELLO for a new session: its header (version 2, type 1, length 77) and a payload of that length. */
    private static final byte[] VERSION_2_HELLO = HexFormat.of().parseHex("5250" + "02" + "01" + "0000004d"
            + "0000000000000000" + "0000000000000000" + "01" + "0000000000000000" + "33".repeat(32) + "00100000"
            + "44".repeat(32));
    /** Version 1's WELCOME VERSION_MISMATCH (status 3, window 1 at payload offset 25; 45 bytes). */
    private static final byte[] VERSION_1_MISMATCH = legacyWelcome(1, 45, 3, 25);
    /** Version 2's WELCOME VERSION_MISMATCH (status 4, window 1 at payload offset 41; 77 bytes). */
    private static final byte[] VERSION_2_MISMATCH = legacyWelcome(2, 77, 4, 41);

    @RegisterExtension final Closer closer = new Closer();
    @RegisterExtension final LogCapture logs = LogCapture.closedBy(closer);

    private static byte[] legacyWelcome(int version, int payload, int status, int windowAt) {
        byte[] b = new byte[Wire.HEADER_SIZE + payload];
        Wire.putShort(b, 0, Wire.MAGIC);
        b[2] = (byte) version;
        b[3] = 2;
        Wire.putInt(b, 4, payload);
        b[Wire.HEADER_SIZE] = (byte) status;
        Wire.putInt(b, Wire.HEADER_SIZE + windowAt, 1);
        return b;
    }

    private ServerProxy sproxy(EchoServer echo) throws Exception {
        ServerProxy sproxy = closer.add(new ServerProxy(new ServerConfig(LOOPBACK, 0, "127.0.0.1", echo.port(),
                LINK)));
        sproxy.start();
        return sproxy;
    }

    /** Sends {@code hello} to sproxy and returns its whole answer of {@code size} bytes, then checks it closes. */
    private static byte[] answerTo(ServerProxy sproxy, byte[] hello, int size) throws Exception {
        try (Socket s = new Socket(LOOPBACK, sproxy.port())) {
            s.setSoTimeout((int) LINK.handshakeTimeout().toMillis());
            s.getOutputStream().write(hello);
            byte[] answer = new byte[size];
            new DataInputStream(s.getInputStream()).readFully(answer);
            assertTrue(closedByPeer(s), "then sproxy closes the connection");
            return answer;
        }
    }

    /** End of stream or a reset, rather than more bytes or a timeout. */
    private static boolean closedByPeer(Socket s) {
        try {
            return s.getInputStream().read() < 0;
        } catch (java.net.SocketTimeoutException e) {
            return false;
        } catch (java.io.IOException e) {
            return true;
        }
    }

    @Test
    void aVersionOneCproxyGetsAVersionOneRefusalItCanRead() throws Exception {
        EchoServer echo = closer.add(new EchoServer());
        ServerProxy sproxy = sproxy(echo);

        byte[] answer = answerTo(sproxy, VERSION_1_HELLO, Wire.HEADER_SIZE + 45);

        assertEquals("5250" + "01" + "02" + "0000002d", HexFormat.of().formatHex(answer, 0, 8),
                "a version-1 WELCOME header");
        assertEquals(HexFormat.of().formatHex(VERSION_1_MISMATCH), HexFormat.of().formatHex(answer),
                "version 1's VERSION_MISMATCH (3) with a window version 1 accepts, every other field zero");
        logs.await(LINK.handshakeTimeout(), "a WARN saying which version and what to do", Level.WARN,
                m -> m.contains("protocol version 1") && m.contains("upgrade"));
        assertEquals(0, echo.connectionsAccepted());
        assertEquals(0, sproxy.sessionCount());
    }

    @Test
    void aVersionTwoCproxyGetsAVersionTwoRefusalItCanRead() throws Exception {
        EchoServer echo = closer.add(new EchoServer());
        ServerProxy sproxy = sproxy(echo);

        byte[] answer = answerTo(sproxy, VERSION_2_HELLO, Wire.HEADER_SIZE + 77);

        assertEquals("5250" + "02" + "02" + "0000004d", HexFormat.of().formatHex(answer, 0, 8),
                "a version-2 WELCOME header");
        assertEquals(4, answer[Wire.HEADER_SIZE], "version 2's code for VERSION_MISMATCH");
        assertEquals(1, Wire.getInt(answer, Wire.HEADER_SIZE + 41), "a window version 2 accepts");
        assertEquals(HexFormat.of().formatHex(VERSION_2_MISMATCH), HexFormat.of().formatHex(answer),
                "every other field zero");
        logs.await(LINK.handshakeTimeout(), "a WARN saying which version and what to do", Level.WARN,
                m -> m.contains("protocol version 2") && m.contains("upgrade"));
        assertEquals(0, echo.connectionsAccepted());
        assertEquals(0, sproxy.sessionCount());
    }

    @Test
    void cproxyAnsweredInAnotherVersionNeverFallsBackAndKeepsDialingUntilItReachesSproxy() throws Exception {
        EchoServer echo = closer.add(new EchoServer());
        MitmChain chain = new MitmChain(closer, LINK, echo.port());
        MitmRelay relay = chain.relay;
        // Whoever answers cproxy's first two HELLOs speaks version 2, then version 1; the third reaches sproxy.
        List<CompletableFuture<MitmRelay.Seen>> answered = List.of(
                relay.arm("a version-2 refusal", s -> s.type() == HELLO, s -> {
                    s.conn().answer(s.direction(), VERSION_2_MISMATCH);
                    s.conn().finishToClient();
                }),
                relay.arm("a version-1 refusal", s -> s.type() == HELLO, s -> {
                    s.conn().answer(s.direction(), VERSION_1_MISMATCH);
                    s.conn().finishToClient();
                }));

        AppClient app = chain.openApp();
        byte[] text = "still version 3".getBytes(StandardCharsets.US_ASCII);
        app.write(text);

        for (CompletableFuture<MitmRelay.Seen> a : answered) {
            Await.done(a, chain.flowDeadline(), "cproxy dials and says HELLO");
        }
        Await.until(chain.relinkDeadline(), "the echo, once cproxy reaches the real sproxy",
                () -> app.receivedCount() >= text.length);
        LogCapture.Line report = logs.await(chain.flowDeadline(), "cproxy's outage report", Level.WARN,
                m -> m.contains("handshake(s) with sproxy failed"));
        assertTrue(report.message().contains("2 handshake(s) with sproxy failed")
                && report.message().contains("2 answers in another protocol version")
                && report.message().contains("reached sproxy again"), report.toString());
        assertEquals(1, logs.find(Level.WARN, m -> m.contains("handshake(s) with sproxy failed")).size(),
                "one report for the outage");
        // At least three, not exactly: a loaded machine can cost the new session its first link
        // (a 100 ms heartbeat), which cproxy then dials again and resumes.
        assertTrue(relay.dials().size() >= 3, "two failed dials, then the one that worked: " + relay.dials().size());
        for (MitmRelay.Conn c : relay.connections()) {
            for (byte[] f : c.frames(MitmRelay.Direction.UP)) {
                assertEquals(Wire.VERSION, f[2] & 0xff, "cproxy only ever speaks version " + Wire.VERSION + " (" + c
                        + ")");
            }
        }
        assertFalse(app.ended().isDone(), "the application connection stays open");
        assertTrue(logs.find(Level.INFO, m -> m.contains(": closed:")).isEmpty(), "no session closed");
        assertEquals(1, echo.connectionsAccepted());
    }
}
