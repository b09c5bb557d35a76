package net.roamproxy.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import net.roamproxy.metrics.PrometheusText;
import net.roamproxy.session.LinkSettings;
import net.roamproxy.testkit.AppClient;
import net.roamproxy.testkit.Await;
import net.roamproxy.testkit.Closer;
import net.roamproxy.testkit.FakeSproxy;
import net.roamproxy.testkit.PrometheusParser;
import net.roamproxy.testkit.Rig;
import net.roamproxy.testkit.Streams;
import net.roamproxy.wire.Frame;
import net.roamproxy.wire.FrameType;
import net.roamproxy.wire.HostKey;

/**
 * An orderly end never resets the link while our last frames are still queued in it: a peer
 * that reads slowly still gets every byte and the end of the stream, so it never has to wait
 * out the detach timeout for an end that a reset discarded.
 */
@Timeout(30)
class OrderlyEndTest {
    /** Heartbeats every second: the fake peer below sends none, and must not be taken for dead. */
    private static final LinkSettings LINK = Rig.link(Duration.ofSeconds(1));
    private static final Duration DEADLINE = Duration.ofSeconds(15);
    private static final int BYTES = 512 * 1024;

    @RegisterExtension final Closer closer = new Closer();

    @Test
    void aSlowPeerReadsEveryByteAndTheEndWithoutAReset() throws Exception {
        ServerSocket fake = closer.add(new ServerSocket());
        fake.setReceiveBufferSize(4096); // inherited by the accepted link: cproxy's frames queue on its side
        fake.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1);
        ClientProxy cproxy = new ClientProxy(new ClientConfig(InetAddress.getLoopbackAddress(), 0, "127.0.0.1",
                fake.getLocalPort(), LINK, null, false, null));
        cproxy.start();
        closer.add(cproxy);
        AppClient app = closer.add(AppClient.connect("app", cproxy.port()));
        FakeSproxy link = closer.add(FakeSproxy.accept(fake));
        link.openSession(HostKey.generate(), 9, 0, DEADLINE);

        byte[] upload = Streams.pseudoRandom(41, BYTES);
        app.write(upload);
        app.shutdownOutput();
        // Our (fake sproxy's) stream is empty and ends at once: cproxy has both ends to send.
        link.sendSealed(FrameType.END, 0, 0, new byte[0]);
        Await.done(app.ended(), DEADLINE, "cproxy passes our end to the application");
        // A peer that reads late: it starts reading only once cproxy has taken in the whole
        // upload (and with it the application's end), so that what cproxy sends waits in its
        // socket meanwhile. An orderly end must not reset the link now (before the fix the
        // session closed here, resetting the link and discarding its queued DATA and END).
        Await.until(DEADLINE, () -> "cproxy takes in the whole upload: " + fromApplication(cproxy) + " of " + BYTES,
                () -> fromApplication(cproxy) >= BYTES);

        long received = 0;
        Frame end = null;
        try {
            while (end == null) {
                Frame f = link.read(DEADLINE);
                if (f.type() == FrameType.DATA) {
                    assertEquals(received, f.seq(), "in order");
                    received += f.length();
                } else if (f.type() == FrameType.END) {
                    end = f;
                }
            }
        } catch (EOFException e) {
            throw new AssertionError("the link ended after " + received + " of " + BYTES + " bytes without an END", e);
        } catch (IOException e) {
            throw new AssertionError("the link was reset after " + received + " of " + BYTES + " bytes", e);
        }
        assertEquals(BYTES, received);
        assertEquals(BYTES, end.seq(), "the END follows the last byte");
        link.sendSealed(FrameType.ACK, 1, BYTES + 1, new byte[0]);
        link.shutdownOutput(); // our FIN: both directions are over
        Await.until(DEADLINE, "cproxy ends the session", () -> cproxy.sessionCount() == 0);
        assertTrue(Await.done(app.ended(), DEADLINE, "application connection"), "closed cleanly");
    }

    /** Bytes cproxy has taken in from its applications, as its metrics count them. */
    private static long fromApplication(ClientProxy cproxy) {
        return (long) PrometheusParser.parse(PrometheusText.render(cproxy.metrics()))
                .value("roamproxy_relayed_bytes_total", "direction", "application_to_link");
    }
}
