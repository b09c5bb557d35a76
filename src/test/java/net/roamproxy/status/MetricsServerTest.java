package net.roamproxy.status;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.ConnectException;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import net.roamproxy.metrics.Metrics;
import net.roamproxy.testkit.Await;
import net.roamproxy.testkit.Closer;
import net.roamproxy.testkit.LogCapture;
import net.roamproxy.testkit.PrometheusParser;

/** The HTTP side of --metrics: one path, the format's content type, daemon threads, a clear error for a taken port. */
@Timeout(30)
class MetricsServerTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    @RegisterExtension final Closer closer = new Closer();
    @RegisterExtension final LogCapture logs = LogCapture.closedBy(closer);

    /** A response: status, content type and body. */
    record Response(int status, String contentType, String body, String allow) {
    }

    static Response request(String method, InetSocketAddress at, String path) throws IOException {
        HttpURLConnection c = (HttpURLConnection) new URL("http", at.getAddress().getHostAddress(), at.getPort(), path)
                .openConnection();
        try {
            c.setRequestMethod(method);
            c.setConnectTimeout(10_000);
            c.setReadTimeout(10_000);
            int status = c.getResponseCode();
            InputStream in = status < 400 ? c.getInputStream() : c.getErrorStream();
            String body = in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return new Response(status, c.getContentType(), body, c.getHeaderField("Allow"));
        } finally {
            c.disconnect();
        }
    }

    private MetricsServer start() throws IOException {
        return closer.add(MetricsServer.start("test", new InetSocketAddress(LOOPBACK, 0),
                new Metrics("test", List.of("BUSY"), () -> new Metrics.Live(1, 1, 0, 0))));
    }

    @Test
    void getMetricsAnswersTheExpositionFormatAndSaysWhereItIsInOneInfoLine() throws Exception {
        MetricsServer server = start();
        Response r = request("GET", server.address(), "/metrics");
        assertEquals(200, r.status());
        assertEquals("text/plain; version=0.0.4; charset=utf-8", r.contentType());
        assertEquals(1, PrometheusParser.parse(r.body()).value("roamproxy_sessions"));
        assertEquals(1, PrometheusParser.parse(request("GET", server.address(), "/metrics?x=1").body())
                .value("roamproxy_links"), "a query string changes nothing");
        assertEquals(1, logs.find(Level.INFO, m -> m.equals("test metrics at http://127.0.0.1:"
                + server.address().getPort() + "/metrics")).size(), logs.dump(0));

        Response head = request("HEAD", server.address(), "/metrics");
        assertEquals(200, head.status());
        assertEquals("", head.body());
    }

    @ParameterizedTest
    @ValueSource(strings = {"/", "/metrics/", "/metricsx", "/favicon.ico", "/metrics/../status"})
    void everyOtherPathIsNotFound(String path) throws Exception {
        assertEquals(404, request("GET", start().address(), path).status());
    }

    @Test
    void otherMethodsAreNotAllowed() throws Exception {
        Response r = request("POST", start().address(), "/metrics");
        assertEquals(405, r.status());
        assertEquals("GET, HEAD", r.allow());
    }

    @Test
    void itsThreadsAreDaemonsAndCloseStopsListening() throws Exception {
        MetricsServer server = start();
        InetSocketAddress at = server.address();
        request("GET", at, "/metrics"); // so that a request thread exists
        List<Thread> threads = Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().equals("HTTP-Dispatcher") || t.getName().startsWith("test-metrics-"))
                .toList();
        assertTrue(threads.stream().anyMatch(t -> t.getName().equals("HTTP-Dispatcher")), threads.toString());
        assertTrue(threads.stream().anyMatch(t -> t.getName().startsWith("test-metrics-")), threads.toString());
        for (Thread t : threads) {
            assertTrue(t.isDaemon(), t.getName() + " keeps no stopping JVM alive");
        }

        server.close();
        server.close(); // idempotent
        Await.until(Duration.ofSeconds(10), "the port refuses connections", () -> refused(at));
        Await.until(Duration.ofSeconds(10), "the request threads end", () -> Thread.getAllStackTraces().keySet()
                .stream().noneMatch(t -> t.getName().startsWith("test-metrics-") && t.isAlive()));
    }

    private static boolean refused(InetSocketAddress at) {
        try (Socket s = new Socket(at.getAddress(), at.getPort())) {
            return false;
        } catch (ConnectException e) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    void aPortInUseIsOneLineNamingTheAddress() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, LOOPBACK)) {
            IOException e = assertThrows(IOException.class, () -> MetricsServer.start("test",
                    new InetSocketAddress(LOOPBACK, taken.getLocalPort()), Metrics.unshared("test")));
            assertTrue(e.getMessage().startsWith("cannot listen for metrics on 127.0.0.1:" + taken.getLocalPort()
                    + ": "), e.getMessage());
            assertEquals(1, e.getMessage().lines().count());
        }
    }

    @Test
    void aWildcardAddressIsLoggedAsATemplate() {
        assertEquals("http://<any address of this host>:9200/metrics",
                MetricsServer.url(new InetSocketAddress(9200)));
        assertEquals("http://[::1]:9200/metrics", MetricsServer.url(new InetSocketAddress("::1", 9200)));
    }
}
