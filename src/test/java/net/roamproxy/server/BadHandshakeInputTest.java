package net.roamproxy.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.Arrays;

import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import net.roamproxy.session.LinkSettings;
import net.roamproxy.testkit.Await;
import net.roamproxy.testkit.Closer;
import net.roamproxy.testkit.EchoServer;
import net.roamproxy.testkit.LogCapture;
import net.roamproxy.testkit.RawLink;
import net.roamproxy.testkit.Rig;
import net.roamproxy.wire.Frame;
import net.roamproxy.wire.FrameType;
import net.roamproxy.wire.Hello;
import net.roamproxy.wire.KeyShare;
import net.roamproxy.wire.Wire;

/**
 * What a peer can get wrong in sproxy's handshake, each refused well inside the handshake
 * deadline with one WARN naming the peer, leaving no handshake running, no session and no
 * service connection: a PROOF altered, cut short, replayed from an earlier link or sealed
 * under the other direction's key, and a HELLO of protocol version 2.
 */
@Timeout(30)
class BadHandshakeInputTest {
    /** Handshake timeout: 600 heartbeats of 50 ms, far longer than any case needs. */
    private static final LinkSettings LINK = Rig.link(Duration.ofMillis(50), LinkSettings.DEFAULT_BUFFER_BYTES, 600,
            600);
    private static final Duration WAIT = Duration.ofSeconds(10);

    @RegisterExtension final Closer closer = new Closer();
    @RegisterExtension final LogCapture logs = LogCapture.closedBy(closer);

    enum Bad {
        PROOF_WITH_A_FLIPPED_BIT, PROOF_CUT_SHORT, PROOF_FROM_AN_EARLIER_LINK, PROOF_UNDER_THE_OTHER_DIRECTIONS_KEY,
        HELLO_OF_VERSION_2
    }

    @ParameterizedTest
    @EnumSource(Bad.class)
    void badInputCostsOnlyItsConnectionWithOneWarningAndLeavesNothingBehind(Bad bad) throws Exception {
        EchoServer echo = closer.add(new EchoServer());
        ServerProxy sproxy = new ServerProxy(new ServerConfig(InetAddress.getLoopbackAddress(), 0, "127.0.0.1",
                echo.port(), LINK));
        sproxy.start();
        closer.add(sproxy);
        RawLink raw = closer.add(RawLink.connect(sproxy.port()));

        send(bad, raw, sproxy.port());

        assertTrue(raw.closedByPeerWithin(WAIT), bad + ": sproxy closes the connection");
        logs.await(WAIT, bad + ": a WARN naming the peer", Level.WARN, m -> m.contains(raw.peerName()));
        Await.until(WAIT, "no handshake left running", () -> sproxy.handshakesInProgress() == 0);
        assertEquals(1, logs.find(Level.WARN, m -> m.contains(raw.peerName())).size(), "logged once");
        assertEquals(0, sproxy.sessionCount(), "no session");
        assertEquals(0, echo.connectionsAccepted(), "no service connection");
    }

    @Test
    void aConnectionClosedBeforeItsHelloIsNoWarning() throws Exception {
        ServerProxy sproxy = new ServerProxy(new ServerConfig(InetAddress.getLoopbackAddress(), 0, "127.0.0.1", 9,
                LINK));
        sproxy.start();
        closer.add(sproxy);
        RawLink probe = RawLink.connect(sproxy.port());
        String peer = probe.peerName();
        Await.until(WAIT, "sproxy took the connection", () -> sproxy.handshakesInProgress() == 1);

        probe.close(); // a port scan, or a load balancer's health check

        Await.until(WAIT, "its handshake ended", () -> sproxy.handshakesInProgress() == 0);
        assertEquals(0, logs.find(Level.WARN, m -> m.contains(peer)).size(), "nothing an operator must look at");
    }

    private static void send(Bad bad, RawLink raw, int port) throws IOException {
        switch (bad) {
            case PROOF_WITH_A_FLIPPED_BIT -> {
                byte[] proof = sealedProof(raw);
                proof[Wire.HEADER_SIZE + 3] ^= 0x10;
                raw.sendRaw(proof);
            }
            case PROOF_CUT_SHORT -> {
                raw.sendRaw(Arrays.copyOf(sealedProof(raw), Wire.HEADER_SIZE + 10));
                raw.shutdownOutput();
            }
            case PROOF_FROM_AN_EARLIER_LINK -> {
                byte[] earlier;
                try (RawLink first = RawLink.connect(port)) {
                    earlier = sealedProof(first);
                }
                sealedProof(raw); // this link's own handshake, up to where its PROOF is due
                raw.sendRaw(earlier);
            }
            case PROOF_UNDER_THE_OTHER_DIRECTIONS_KEY -> raw.sendRaw(raw.newSessionProofReflected(WAIT));
            case HELLO_OF_VERSION_2 -> {
                byte[] hello = Wire.encode(new Frame(FrameType.HELLO, 0, 0,
                        Hello.forNew(KeyShare.generate().publicKey(), RawLink.WINDOW, "").encode()));
                hello[2] = 2;
                raw.sendRaw(hello);
            }
        }
    }

    private static byte[] sealedProof(RawLink raw) throws IOException {
        return raw.newSessionProof(WAIT);
    }
}
