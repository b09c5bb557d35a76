package net.roamproxy.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import net.roamproxy.session.LinkSettings;
import net.roamproxy.testkit.Await;
import net.roamproxy.testkit.Closer;
import net.roamproxy.testkit.EchoServer;
import net.roamproxy.testkit.RawLink;
import net.roamproxy.wire.FrameType;
import net.roamproxy.wire.Handshake;

/**
 * cproxy paces a crowd of dials by what it hears: a new session's dial counts until sproxy's
 * TOKEN, a resume's until the session's first frame on the new link. So sproxy must have given
 * back the connection's handshake place before it sends either. If it gave it back only after,
 * a busy CPU that delays the handshake thread would let one cproxy's paced crowd run into its
 * per-source share of places and be turned away.
 */
@Timeout(30)
class HandshakePlaceTest {
    private static final Duration DEADLINE = Duration.ofSeconds(10);

    @RegisterExtension final Closer closer = new Closer();

    @Test
    void thePlaceIsGivenBackBeforeTheFrameThatEndsTheHandshakeForCproxy() throws Exception {
        EchoServer echo = closer.add(new EchoServer());
        ServerProxy sproxy = closer.add(new ServerProxy(new ServerConfig(InetAddress.getLoopbackAddress(), 0,
                "127.0.0.1", echo.port(), LinkSettings.defaults()), TargetConnector.PLAIN));
        sproxy.start();

        RawLink first = closer.add(RawLink.connect(sproxy.port()));
        RawLink.Credentials session = first.openSession(DEADLINE);
        assertEquals(0, sproxy.handshakesInProgress(), "a handshake place still held when the TOKEN came");

        // sproxy files the session just after its TOKEN; a real cproxy resumes only after a loss.
        Await.until(DEADLINE, "the session is filed", () -> sproxy.sessionCount() == 1);
        RawLink second = closer.add(RawLink.connect(sproxy.port()));
        RawLink.Answer answer = second.resume(session.id(), session.secret(), 0, DEADLINE);
        assertEquals(Handshake.Status.RESUMED, answer.status());
        assertEquals(FrameType.HEARTBEAT, second.read(DEADLINE).type(), "the session's first frame on its new link");
        assertEquals(0, sproxy.handshakesInProgress(),
                "a handshake place still held when the session's first frame on the resumed link came");
    }
}
