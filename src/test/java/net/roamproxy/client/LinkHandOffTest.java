package net.roamproxy.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;

import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import net.roamproxy.link.LinkSettings;
import net.roamproxy.protocol.Frame;
import net.roamproxy.protocol.FrameReader;
import net.roamproxy.protocol.FrameType;
import net.roamproxy.protocol.Welcome;
import net.roamproxy.protocol.Wire;
import net.roamproxy.testkit.AppClient;
import net.roamproxy.testkit.Await;
import net.roamproxy.testkit.Closer;
import net.roamproxy.testkit.LogCapture;
import net.roamproxy.testkit.Rig;
import net.roamproxy.testkit.Welcomes;

/**
 * What cproxy does with a link that its session cannot use, and with a session that never
 * gets one: the link is closed by the session that owns it, and dialing gives up at the
 * detach timeout, which the log states in the unit the operator configured.
 */
@Timeout(30)
class LinkHandOffTest {
    private static final Duration HEARTBEAT = Duration.ofMillis(50);
    /** Detach timeout: 6 heartbeats (0.3 s). */
    private static final LinkSettings LINK = Rig.link(HEARTBEAT, LinkSettings.DEFAULT_BUFFER_BYTES, 10, 6);
    private static final Duration DEADLINE = Duration.ofSeconds(10);

    @RegisterExtension final Closer closer = new Closer();
    @RegisterExtension final LogCapture logs = LogCapture.closedBy(closer);

    private ClientProxy cproxy(int serverPort) throws IOException {
        ClientProxy c = new ClientProxy(new ClientConfig(InetAddress.getLoopbackAddress(), 0, "127.0.0.1", serverPort,
                LINK, null, false, null));
        c.start();
        return closer.add(c);
    }

    @Test
    void aWelcomeAckingBytesNeverSentEndsTheSessionAndClosesThatLink() throws Exception {
        ServerSocket fake = closer.add(new ServerSocket(0, 1, InetAddress.getLoopbackAddress()));
        ClientProxy cproxy = cproxy(fake.getLocalPort());
        AppClient app = closer.add(AppClient.connect("app", cproxy.port()));
        Socket link = closer.add(fake.accept());
        FrameReader reader = new FrameReader(link.getInputStream());
        link.setSoTimeout((int) DEADLINE.toMillis());
        Frame hello = reader.next();
        assertEquals(FrameType.HELLO, hello.type());

        // cproxy has sent nothing yet, so a resume from offset 5 is impossible.
        Welcome welcome = Welcomes.newSession(hello, 7);
        link.getOutputStream().write(Wire.encode(new Frame(FrameType.WELCOME, 0, 5, welcome.encode())));

        Await.done(app.ended(), DEADLINE, "the application's connection ends with the session");
        assertTrue(closedByPeer(link, DEADLINE), "cproxy closed the link it could not use");
    }

    @Test
    void aNewSessionStopsDialingAtTheDetachTimeoutAndSaysSoInItsUnit() throws Exception {
        int closedPort;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = s.getLocalPort();
        }
        ClientProxy cproxy = cproxy(closedPort);
        AppClient app = closer.add(AppClient.connect("app", cproxy.port()));

        Await.done(app.ended(), DEADLINE, "the application's connection ends when dialing gives up");
        logs.await(DEADLINE, "the give-up line", Level.INFO,
                m -> m.contains("could not reach sproxy for 0.3 s (--detach-timeout)"));
        Await.until(DEADLINE, "the session is gone", () -> cproxy.sessionCount() == 0);
    }

    /** Reads and discards until EOF or reset; false if still open at {@code timeout}. */
    private static boolean closedByPeer(Socket s, Duration timeout) throws IOException {
        s.setSoTimeout((int) timeout.toMillis());
        InputStream in = s.getInputStream();
        byte[] buf = new byte[4096];
        try {
            while (in.read(buf) >= 0) {
                // discard heartbeats
            }
            return true;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException reset) {
            return true;
        }
    }
}
