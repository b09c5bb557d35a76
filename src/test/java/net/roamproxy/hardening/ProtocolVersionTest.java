package net.roamproxy.hardening;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.DataInputStream;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.HexFormat;

import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import net.roamproxy.client.ClientConfig;
import net.roamproxy.client.ClientProxy;
import net.roamproxy.link.LinkSettings;
import net.roamproxy.protocol.Wire;
import net.roamproxy.server.ServerConfig;
import net.roamproxy.server.ServerProxy;
import net.roamproxy.testkit.AppClient;
import net.roamproxy.testkit.Await;
import net.roamproxy.testkit.Closer;
import net.roamproxy.testkit.EchoServer;
import net.roamproxy.testkit.LogCapture;
import net.roamproxy.testkit.Rig;

/**
 * Peers of protocol version 1 (before key-agreed secrets) and this build refuse each other
 * with a message that says what to do, each in a form the other understands.
 */
@Timeout(30)
class ProtocolVersionTest {
    private static final LinkSettings LINK = Rig.link(Duration.ofMillis(200));
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    /**
     * A version-1 HELLO for a new session, as the previous release sent it: header (magic,
     * version 1, type 1, length 45, seq 0, ack 0), mode 0, id 0, token, window, nonce.
     */
    private static final byte[] VERSION_1_HELLO = HexFormat.of().parseHex("5250" + "01" + "01" + "0000002d"
            + "0000000000000000" + "0000000000000000" + "00" + "0000000000000000"
            + "11111111111111111111111111111111" + "00100000" + "22222222222222222222222222222222");

    @RegisterExtension final Closer closer = new Closer();
    @RegisterExtension final LogCapture logs = LogCapture.closedBy(closer);

    @Test
    void aVersionOneCproxyGetsAVersionOneRefusalItCanRead() throws Exception {
        EchoServer echo = closer.add(new EchoServer());
        ServerProxy sproxy = closer.add(new ServerProxy(new ServerConfig(LOOPBACK, 0, "127.0.0.1", echo.port(), LINK,
                ServerConfig.DEFAULT_MAX_SESSIONS, ServerConfig.DEFAULT_MAX_HANDSHAKES, null)));
        sproxy.start();

        try (Socket s = new Socket(LOOPBACK, sproxy.port())) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(VERSION_1_HELLO);
            byte[] answer = new byte[Wire.HEADER_SIZE + 45];
            new DataInputStream(s.getInputStream()).readFully(answer);
            assertEquals("5250" + "01" + "02" + "0000002d", HexFormat.of().formatHex(answer, 0, 8),
                    "a version-1 WELCOME header");
            assertEquals(3, answer[Wire.HEADER_SIZE], "version 1's code for VERSION_MISMATCH");
            assertEquals(1, java.nio.ByteBuffer.wrap(answer, Wire.HEADER_SIZE + 25, 4).getInt(), "a window version 1 accepts");
            assertTrue(closedByPeer(s), "then sproxy closes the connection");
        }
        logs.await(Duration.ofSeconds(5), "a WARN saying which version and what to do", Level.WARN,
                m -> m.contains("protocol version 1") && m.contains("upgrade"));
        assertEquals(0, echo.connectionsAccepted());
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
    void cproxyFacingAVersionOneSproxyClosesTheSessionSayingToUpgrade() throws Exception {
        // A version-1 sproxy answers a HELLO it cannot read with its own VERSION_MISMATCH.
        ServerSocket old = closer.add(new ServerSocket(0, 5, LOOPBACK));
        Thread t = new Thread(() -> {
            try (Socket s = old.accept()) {
                InputStream in = s.getInputStream();
                in.readNBytes(Wire.HEADER_SIZE);
                byte[] refusal = HexFormat.of().parseHex("5250" + "01" + "02" + "0000002d" + "0000000000000000"
                        + "0000000000000000" + "03" + "0000000000000000" + "00000000000000000000000000000000"
                        + "00000001" + "00000000000000000000000000000000");
                s.getOutputStream().write(refusal);
                in.readAllBytes();
            } catch (Exception ignored) {
                // the test's assertions say what went wrong
            }
        }, "old-sproxy");
        t.setDaemon(true);
        t.start();
        ClientProxy cproxy = closer.add(new ClientProxy(new ClientConfig(LOOPBACK, 0, "127.0.0.1", old.getLocalPort(),
                LINK)));
        cproxy.start();

        AppClient app = closer.add(AppClient.connect("app", cproxy.port()));

        Await.done(app.ended(), Duration.ofSeconds(10), "cproxy closes the application connection");
        logs.await(Duration.ofSeconds(5), "the reason, naming both versions", Level.INFO,
                m -> m.contains("protocol version 1") && m.contains("speaks " + Wire.VERSION) && m.contains("upgrade"));
        assertTrue(Await.poll(Duration.ofSeconds(5), () -> cproxy.sessionCount() == 0), "no session left");
    }
}
