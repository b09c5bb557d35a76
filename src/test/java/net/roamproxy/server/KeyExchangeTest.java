package net.roamproxy.server;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import net.roamproxy.session.Link;
import net.roamproxy.testkit.Closer;
import net.roamproxy.testkit.RawLink;
import net.roamproxy.trust.ServerKeys;
import net.roamproxy.wire.Frame;
import net.roamproxy.wire.FrameType;
import net.roamproxy.wire.FrameWriter;
import net.roamproxy.wire.Handshake;
import net.roamproxy.wire.Hello;
import net.roamproxy.wire.HostKey;
import net.roamproxy.wire.KeyShareStock;
import net.roamproxy.wire.Transcript;

/**
 * sproxy's WELCOME for a new session and its check of cproxy's PROOF, against a cproxy played
 * by {@link RawLink}, which checks the WELCOME's signature as cproxy does.
 */
@Timeout(20)
class KeyExchangeTest {
    private static final int TIMEOUT_MS = 10_000;

    @RegisterExtension final Closer closer = new Closer();

    private final ServerKeys keys = new ServerKeys(HostKey.generate(), Handshake.randomBytes(32));

    /**
     * Runs sproxy's side of a new session's key exchange, holding {@code presharedKey}, against a
     * cproxy without one; returns whether cproxy's PROOF checked out.
     */
    private boolean proofChecksOut(byte[] presharedKey) throws Exception {
        ServerSocket listener = closer.add(new ServerSocket(0, 1, InetAddress.getLoopbackAddress()));
        RawLink cproxy = closer.add(RawLink.connect(listener.getLocalPort()));
        Link link = new Link(listener.accept());
        closer.add((AutoCloseable) link::close);
        // cproxy's side on a thread of its own: each side blocks reading what the other sends.
        CompletableFuture<Void> client = CompletableFuture.runAsync(() -> {
            try {
                cproxy.sendRaw(cproxy.newSessionProof(Duration.ofMillis(TIMEOUT_MS)));
            } catch (IOException e) {
                throw new AssertionError(e);
            }
        });
        Transcript transcript = new Transcript();
        KeyExchange exchange = new KeyExchange(keys, presharedKey, new KeyShareStock(() -> 0), link,
                new FrameWriter<>(link, link.peer()), transcript, TIMEOUT_MS);
        link.expectNext(FrameType.HELLO, Hello.MAX_SIZE);
        Frame first = link.read(TIMEOUT_MS);
        transcript.add(first);
        byte[] secret = exchange.welcomeNew(Hello.decode(first), 42, 1 << 16);
        client.get(TIMEOUT_MS, TimeUnit.MILLISECONDS);
        return exchange.proofChecksOut(secret);
    }

    @Test
    void aCproxyThatDerivedTheSameKeysFromOurSignedWelcomeProvesThem() throws Exception {
        assertTrue(proofChecksOut(null));
    }

    @Test
    void aCproxyWithoutOurPresharedKeyCannotProveTheKeys() throws Exception {
        assertFalse(proofChecksOut(Handshake.randomBytes(32)));
    }
}
