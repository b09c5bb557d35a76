package net.roamproxy.hardening;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import net.roamproxy.link.LinkSettings;
import net.roamproxy.protocol.Hello;
import net.roamproxy.protocol.Wire;
import net.roamproxy.testkit.AppClient;
import net.roamproxy.testkit.Await;
import net.roamproxy.testkit.Closer;
import net.roamproxy.testkit.EchoServer;
import net.roamproxy.testkit.Rig;
import net.roamproxy.testkit.LogCapture;

/**
 * sproxy creates a session for a HELLO, but the link dies before its WELCOME gets back. cproxy
 * cannot resume what it never heard of, so it asks for a new session again, with the same
 * new-session token: sproxy must continue the session it made, not open a second one and leave
 * the first (with its telnetd connection) orphaned until the detach timeout.
 */
class LostWelcomeTest {
    @RegisterExtension final Closer closer = new Closer();
    @RegisterExtension final LogCapture logs = LogCapture.closedBy(closer);

    @Test
    @Timeout(30)
    void aRetriedNewSessionContinuesTheSessionWhoseWelcomeWasLost() throws Exception {
        LinkSettings link = Rig.link(Duration.ofMillis(100));
        EchoServer echo = closer.add(new EchoServer());
        Rig rig = closer.add(Rig.with(link, echo.port()).start());
        // The HELLO (and nothing more) gets through; then the link is reset, before the WELCOME.
        var cut = rig.relay().cutAfter(Wire.HEADER_SIZE + Hello.SIZE);

        AppClient app = rig.openApp();
        cut.get(rig.flowDeadline().toMillis(), TimeUnit.MILLISECONDS);
        logs.await(rig.flowDeadline(), "sproxy continuing the session on cproxy's second HELLO", Level.INFO,
                m -> m.contains("asks again for the new session"));
        app.write("still one session".getBytes(StandardCharsets.US_ASCII));
        Await.until(rig.flowDeadline(), "the echo", () -> app.receivedCount() >= 17);

        assertEquals(1, echo.connectionsAccepted(), "one target connection, not one per HELLO");
        assertEquals(1, rig.sproxy().sessionCount(), "one session on sproxy");
        assertEquals(2, rig.relay().connectionsAccepted(), "the lost first link and the one that worked");
    }
}
