package net.roamproxy.hardening;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

/**
 * cproxy's session limit ({@code --max-sessions}): a local connection beyond it is closed at
 * once, before anything reaches sproxy, and logged; the sessions running carry on, and a
 * place freed by one that ends takes a new session.
 */
@Timeout(30)
class CproxyLimitsTest {
    @RegisterExtension final Closer closer = new Closer();
    @RegisterExtension final LogCapture logs = LogCapture.closedBy(closer);

    @Test
    void aLocalConnectionBeyondTheLimitIsClosedAtOnceAndTheRunningSessionsCarryOn() throws Exception {
        EchoServer echo = closer.add(new EchoServer());
        Rig rig = closer.add(Rig.with(Rig.link(Duration.ofMillis(200)), echo.port()).cproxyMaxSessions(2).start());
        AppClient first = rig.openApp();
        AppClient second = rig.openApp();
        rig.echo(first, "one");
        rig.echo(second, "two");

        AppClient third = rig.openApp();

        Await.done(third.ended(), rig.flowDeadline(), "cproxy closes the connection beyond its limit");
        LogCapture.Line line = logs.await(rig.flowDeadline(), "a WARN naming the limit", Level.WARN,
                m -> m.contains("--max-sessions"));
        assertTrue(line.message().contains("2 sessions"), line.toString());
        assertEquals(2, rig.cproxy().sessionCount());
        assertEquals(2, rig.sproxy().sessionCount(), "the third never reached sproxy");
        rig.echo(first, "-still-one");
        rig.echo(second, "-still-two");

        first.close();
        Await.until(rig.flowDeadline(), "the first session ends", () -> rig.cproxy().sessionCount() == 1);
        AppClient fourth = rig.openApp();
        rig.echo(fourth, "four");
        assertEquals(3, echo.connectionsAccepted(), "a freed place takes a new session");
    }
}
