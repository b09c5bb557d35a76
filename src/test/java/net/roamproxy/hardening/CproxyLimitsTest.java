package net.roamproxy.hardening;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import net.roamproxy.testkit.AppClient;
import net.roamproxy.testkit.Await;
import net.roamproxy.testkit.Closer;
import net.roamproxy.testkit.EchoServer;
import net.roamproxy.testkit.LogCapture;
import net.roamproxy.testkit.Rig;
import net.roamproxy.testkit.Streams;

/**
 * cproxy's session limit ({@code --max-sessions}): a local connection beyond it is closed at
 * once, before anything reaches sproxy, and logged; the sessions running carry on, and a
 * place freed by one that ends takes a new session.
 */
@Timeout(30)
class CproxyLimitsTest {
    @RegisterExtension final Closer closer = new Closer();
    @RegisterExtension final LogCapture logs = LogCapture.closedBy(closer);

    private static void echoOnce(Rig rig, AppClient app, ByteArrayOutputStream sent, String text) throws Exception {
        byte[] b = text.getBytes(StandardCharsets.US_ASCII);
        app.write(b);
        sent.write(b);
        Await.until(rig.flowDeadline(), () -> app + " echo of " + sent.size() + " bytes",
                () -> app.receivedCount() >= sent.size());
        Streams.assertSameStream(app + " echo", sent.toByteArray(), app.received());
    }

    @Test
    void aLocalConnectionBeyondTheLimitIsClosedAtOnceAndTheRunningSessionsCarryOn() throws Exception {
        EchoServer echo = closer.add(new EchoServer());
        Rig rig = closer.add(Rig.with(Rig.link(Duration.ofMillis(200)), echo.port()).cproxyMaxSessions(2).start());
        AppClient first = rig.openApp();
        AppClient second = rig.openApp();
        ByteArrayOutputStream sentFirst = new ByteArrayOutputStream();
        ByteArrayOutputStream sentSecond = new ByteArrayOutputStream();
        echoOnce(rig, first, sentFirst, "one");
        echoOnce(rig, second, sentSecond, "two");

        AppClient third = rig.openApp();

        Await.done(third.ended(), rig.flowDeadline(), "cproxy closes the connection beyond its limit");
        LogCapture.Line line = logs.await(rig.flowDeadline(), "a WARN naming the limit", Level.WARN,
                m -> m.contains("--max-sessions"));
        assertTrue(line.message().contains("2 sessions"), line.toString());
        assertEquals(2, rig.cproxy().sessionCount());
        assertEquals(2, rig.sproxy().sessionCount(), "the third never reached sproxy");
        echoOnce(rig, first, sentFirst, "-still-one");
        echoOnce(rig, second, sentSecond, "-still-two");

        first.close();
        Await.until(rig.flowDeadline(), "the first session ends", () -> rig.cproxy().sessionCount() == 1);
        AppClient fourth = rig.openApp();
        echoOnce(rig, fourth, new ByteArrayOutputStream(), "four");
        assertEquals(3, echo.connectionsAccepted(), "a freed place takes a new session");
    }
}
