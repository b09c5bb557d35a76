package net.roamproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import net.roamproxy.metrics.LinkLoss;
import net.roamproxy.session.LinkSettings;
import net.roamproxy.status.MetricsServer;
import net.roamproxy.testkit.AppClient;
import net.roamproxy.testkit.Await;
import net.roamproxy.testkit.Closer;
import net.roamproxy.testkit.EchoServer;
import net.roamproxy.testkit.PrometheusParser.Scrape;
import net.roamproxy.testkit.PrometheusParser;
import net.roamproxy.testkit.Rig;
import net.roamproxy.testkit.Streams;

/**
 * The whole product in one JVM with both daemons' metrics served over HTTP: a session carries
 * bytes, loses its link and resumes, and what each daemon then serves, read strictly as the
 * exposition format, says so. Only what the metrics promise is asserted (at least the bytes
 * sent, a count that matches its histogram), never a timing.
 */
@Timeout(60)
class MetricsTest {
    private static final LinkSettings LINK = Rig.link(Duration.ofMillis(200));
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    @RegisterExtension final Closer closer = new Closer();

    /** The metrics of both daemons of {@code chain}, each on its own ephemeral loopback port. */
    private Map<String, MetricsServer> serve(Rig chain) throws Exception {
        return Map.of(
                "cproxy", closer.add(MetricsServer.start("cproxy", new InetSocketAddress(LOOPBACK, 0),
                        chain.cproxy().metrics())),
                "sproxy", closer.add(MetricsServer.start("sproxy", new InetSocketAddress(LOOPBACK, 0),
                        chain.sproxy().metrics())));
    }

    @Test
    void bytesALostLinkAndItsResumeAreCountedByBothDaemons() throws Exception {
        EchoServer echo = closer.add(new EchoServer());
        Rig chain = closer.add(Rig.with(LINK, echo.port()).start());
        Map<String, MetricsServer> metrics = serve(chain);
        AppClient app = chain.openApp();
        ByteArrayOutputStream sent = new ByteArrayOutputStream();

        byte[] before = Streams.pseudoRandom(31, 40_000);
        app.write(before);
        sent.write(before);
        awaitEcho(chain, app, sent.toByteArray(), chain.flowDeadline());
        assertEquals(1, chain.relay().cut(), "the session's one link is cut");
        byte[] after = Streams.pseudoRandom(32, 40_000);
        app.write(after);
        sent.write(after);
        // Echoed only over a new link: by now both daemons have resumed the session.
        awaitEcho(chain, app, sent.toByteArray(), chain.relinkDeadline().plus(chain.flowDeadline()));

        long bytes = sent.size();
        for (Map.Entry<String, MetricsServer> e : metrics.entrySet()) {
            String daemon = e.getKey();
            Scrape s = PrometheusParser.scrape(e.getValue().address());
            assertEquals(1, s.sum("roamproxy_build_info"), daemon);
            assertEquals(1, s.family("roamproxy_build_info").samples().stream()
                    .filter(x -> x.labels().get("daemon").equals(daemon)).count(), daemon + " says which it is");
            assertEquals(1, s.value("roamproxy_sessions"), daemon + ": one session");
            assertTrue(s.value("roamproxy_links") <= 1, daemon + ": at most one link for one session");
            assertTrue(s.value("roamproxy_relayed_bytes_total", "direction", "application_to_link") >= bytes,
                    daemon + ": every byte its application gave it");
            assertTrue(s.value("roamproxy_relayed_bytes_total", "direction", "link_to_application") >= bytes,
                    daemon + ": every byte it gave its application");
            double resumes = s.value("roamproxy_resumes_total");
            assertTrue(resumes >= 1, daemon + ": resumed after the cut, resumes " + resumes);
            assertEquals(resumes, s.value("roamproxy_resume_duration_seconds_count"),
                    daemon + ": one resume time for each resume");
            assertEquals(resumes, s.value("roamproxy_resume_duration_seconds_bucket", "le", "+Inf"), daemon);
            assertTrue(s.value("roamproxy_resume_duration_seconds_sum") >= 0, daemon);
            assertTrue(s.sum("roamproxy_link_losses_total") >= 1, daemon + ": the cut link is counted as lost");
            assertEquals(LinkLoss.values().length, s.family("roamproxy_link_losses_total").samples().size(),
                    daemon + ": one series for each reason");
            assertEquals(0, s.sum("roamproxy_refusals_total"), daemon + ": nothing was refused");
            assertTrue(s.value("roamproxy_buffer_memory_bytes", "buffer", "replay") >= 0, daemon);
        }
    }

    @Test
    void aRefusalIsCountedByItsReasonWhereItIsSentAndWhereItIsReceived() throws Exception {
        EchoServer echo = closer.add(new EchoServer());
        Rig chain = closer.add(Rig.with(LINK, echo.port()).maxSessions(1).start());
        Map<String, MetricsServer> metrics = serve(chain);
        AppClient first = chain.openApp();
        byte[] hello = Streams.pseudoRandom(33, 1000);
        first.write(hello);
        awaitEcho(chain, first, hello, chain.flowDeadline());

        AppClient second = chain.openApp();
        Await.done(second.ended(), chain.flowDeadline(), "cproxy ends the session sproxy refused");

        // sproxy counts before it sends, cproxy before it ends the session: both are counted by now.
        Scrape sproxy = PrometheusParser.scrape(metrics.get("sproxy").address());
        Scrape cproxy = PrometheusParser.scrape(metrics.get("cproxy").address());
        assertEquals(1, sproxy.value("roamproxy_refusals_total", "reason", "BUSY"));
        assertEquals(1, cproxy.value("roamproxy_refusals_total", "reason", "BUSY"));
        assertEquals(1, sproxy.sum("roamproxy_refusals_total"));
        assertEquals(1, cproxy.sum("roamproxy_refusals_total"));
        assertEquals(0, sproxy.value("roamproxy_refusals_total", "reason", "AUTH_FAILED"), "every reason is there");
        assertEquals(1, sproxy.value("roamproxy_sessions"), "the refused session never existed on sproxy");
        Await.until(chain.flowDeadline(), "cproxy forgets the refused session",
                () -> sessions(metrics.get("cproxy")) == 1);
    }

    private static double sessions(MetricsServer server) {
        try {
            return PrometheusParser.scrape(server.address()).value("roamproxy_sessions");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static void awaitEcho(Rig chain, AppClient app, byte[] expected, Duration deadline)
            throws InterruptedException {
        Await.until(deadline, () -> app + " echo of " + expected.length + " bytes, got " + app.receivedCount(),
                () -> app.receivedCount() >= expected.length);
        Streams.assertSameStream(app + " echo", expected, app.received());
    }
}
