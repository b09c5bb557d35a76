package net.roamproxy.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import net.roamproxy.net.Threads;
import net.roamproxy.testkit.AppClient;
import net.roamproxy.testkit.Await;
import net.roamproxy.testkit.Closer;
import net.roamproxy.testkit.EchoServer;
import net.roamproxy.testkit.LogCapture;
import net.roamproxy.testkit.Rig;
import net.roamproxy.testkit.Streams;

/**
 * cproxy's accept loop survives a session whose thread cannot be made (out of memory, a
 * process limit): that application connection is closed, its session place given back, the
 * failure logged, and cproxy goes on accepting; the next connection gets a working session.
 */
@Timeout(30)
class SessionThreadFailureTest {
    @RegisterExtension final Closer closer = new Closer();
    @RegisterExtension final LogCapture logs = LogCapture.closedBy(closer);

    @Test
    void aSessionThreadThatCannotBeMadeCostsOneConnectionAndLeaksNoPlace() throws Exception {
        AtomicInteger linkThreads = new AtomicInteger();
        closer.add(Threads.interpose(next -> (name, body) -> {
            if (name.startsWith("cproxy-session-") && name.endsWith("-link") && linkThreads.incrementAndGet() == 1) {
                throw new OutOfMemoryError("unable to create native thread: possibly out of memory (test)");
            }
            return next.start(name, body);
        }));
        EchoServer echo = closer.add(new EchoServer());
        Rig rig = closer.add(Rig.with(Rig.link(Duration.ofMillis(100)), echo.port()).start());
        ClientProxy cproxy = rig.cproxy();
        int places = cproxy.freePlaces();

        AppClient first = rig.openApp();

        Await.done(first.ended(), rig.flowDeadline(), "the connection whose session could not start is closed");
        LogCapture.Line line = logs.await(rig.flowDeadline(), "the failure, logged", Level.ERROR,
                m -> m.contains("accepting local connections failed") && m.contains("unable to create native thread"));
        assertTrue(line.message().contains("still accepting"), line.toString());
        logs.await(rig.flowDeadline(), "the session's close, with the reason", Level.INFO,
                m -> m.contains("session #1: closed: cannot start its threads"));
        Await.until(rig.flowDeadline(), () -> "its place is free again: " + cproxy.freePlaces() + " of " + places,
                () -> cproxy.freePlaces() == places);

        AppClient second = rig.openApp();
        byte[] hello = "hello from the next connection".getBytes(StandardCharsets.US_ASCII);
        second.write(hello);

        Await.until(rig.flowDeadline(), "the echo", () -> second.receivedCount() >= hello.length);
        Streams.assertSameStream("echo", hello, second.received());
        assertEquals(1, cproxy.sessionCount());
        assertEquals(places - 1, cproxy.freePlaces());
        assertEquals(1, echo.connectionsAccepted(), "the failed session never reached sproxy");
    }
}
