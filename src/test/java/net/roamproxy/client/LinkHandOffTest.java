package net.roamproxy.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;

import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import net.roamproxy.session.LinkSettings;
import net.roamproxy.testkit.AppClient;
import net.roamproxy.testkit.Await;
import net.roamproxy.testkit.Closer;
import net.roamproxy.testkit.FakeSproxy;
import net.roamproxy.testkit.LogCapture;
import net.roamproxy.testkit.Rig;
import net.roamproxy.wire.HostKey;

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
        FakeSproxy link = closer.add(FakeSproxy.accept(fake));

        // cproxy has sent nothing yet, so a resume from offset 5 is impossible: an authentic
        // sproxy that says so is broken, and the session cannot go on with it.
        link.openSession(HostKey.generate(), 7, 5, DEADLINE);

        Await.done(app.ended(), DEADLINE, "the application's connection ends with the session");
        assertTrue(link.closedByPeerWithin(DEADLINE), "cproxy closed the link it could not use");
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
}
