package net.roamproxy.server;

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
 * sproxy's accept loop survives a handshake thread that cannot be made (out of memory, a
 * process limit): that connection is reset, its handshake place given back, the failure
 * logged, and sproxy goes on accepting; cproxy dials again and the session works.
 */
@Timeout(30)
class HandshakeThreadFailureTest {
    @RegisterExtension final Closer closer = new Closer();
    @RegisterExtension final LogCapture logs = LogCapture.closedBy(closer);

    @Test
    void aHandshakeThreadThatCannotBeMadeCostsOneConnectionAndLeaksNoPlace() throws Exception {
        AtomicInteger handshakeThreads = new AtomicInteger();
        closer.add(Threads.interpose(next -> (name, body) -> {
            if (name.startsWith("sproxy-handshake-") && handshakeThreads.incrementAndGet() <= 2) {
                throw new OutOfMemoryError("unable to create native thread: possibly out of memory (test)");
            }
            return next.start(name, body);
        }));
        EchoServer echo = closer.add(new EchoServer());
        Rig rig = closer.add(Rig.with(Rig.link(Duration.ofMillis(100)), echo.port()).maxHandshakes(4).start());
        ServerProxy sproxy = rig.sproxy();
        assertEquals(0, sproxy.handshakesInProgress());

        AppClient app = rig.openApp();
        byte[] hello = "hello after two failed handshake threads".getBytes(StandardCharsets.US_ASCII);
        app.write(hello);

        Await.until(rig.flowDeadline(), "the echo, over a session made on the third try",
                () -> app.receivedCount() >= hello.length);
        Streams.assertSameStream("echo", hello, app.received());
        assertTrue(handshakeThreads.get() >= 3, "two handshake threads failed, a later one worked");
        LogCapture.Line line = logs.await(rig.flowDeadline(), "the failure, logged", Level.ERROR,
                m -> m.contains("accepting links failed") && m.contains("unable to create native thread"));
        assertTrue(line.message().contains("still accepting"), line.toString());
        Await.until(rig.flowDeadline(), () -> "every handshake place is free again, "
                + sproxy.handshakesInProgress() + " in use", () -> sproxy.handshakesInProgress() == 0);
        assertEquals(1, sproxy.sessionCount());

        AppClient second = rig.openApp();
        second.write(hello);
        Await.until(rig.flowDeadline(), "a second session", () -> second.receivedCount() >= hello.length);
        assertEquals(2, sproxy.sessionCount());
    }
}
