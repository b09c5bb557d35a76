package net.roamproxy.status;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import net.roamproxy.metrics.Metrics;
import net.roamproxy.metrics.PrometheusText;
import net.roamproxy.net.Sockets;

/**
 * Serves {@code --metrics}: {@code GET /metrics} answers the daemon's {@link Metrics} in the
 * Prometheus text format; every other path is 404, every other method 405. The JDK's own HTTP
 * server does it, so metrics add no library. There is no authentication: the address is
 * loopback unless the operator chooses another.
 *
 * <p>Threads, all daemon threads, so that they never keep a stopping JVM alive: the JDK's
 * {@code HTTP-Dispatcher} (which takes the daemon status of the thread that starts the server,
 * so a daemon thread starts it) and two {@code <daemon>-metrics-N} threads answering requests;
 * two, so that one client that sends its request slowly cannot stop every scrape. A scrape
 * renders a few kilobytes, computed then from the counters and the session table.
 *
 * <p>Lifecycle: {@link #start} once, {@link #close} any time (idempotent).
 */
public final class MetricsServer implements AutoCloseable {
    private static final Logger log = LogManager.getLogger(MetricsServer.class);
    public static final String PATH = "/metrics";
    private static final int BACKLOG = 16;
    private static final int THREADS = 2;

    private final HttpServer server;
    private final ExecutorService executor;
    private final Metrics metrics;
    private volatile boolean closed;

    private MetricsServer(HttpServer server, ExecutorService executor, Metrics metrics) {
        this.server = server;
        this.executor = executor;
        this.metrics = metrics;
    }

    /**
     * Listens on {@code at} and serves {@code metrics} from now on.
     *
     * @param daemon names the threads and the log line
     * @throws IOException the address cannot be bound (in use, not this host's), in one line naming it
     */
    public static MetricsServer start(String daemon, InetSocketAddress at, Metrics metrics) throws IOException {
        HttpServer http;
        try {
            http = HttpServer.create(at, BACKLOG);
        } catch (IOException e) {
            throw new IOException("cannot listen for metrics on " + Sockets.describe(at) + ": " + e.getMessage(), e);
        }
        AtomicInteger n = new AtomicInteger();
        ExecutorService executor = Executors.newFixedThreadPool(THREADS, r -> {
            Thread t = new Thread(r, daemon + "-metrics-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        MetricsServer s = new MetricsServer(http, executor, metrics);
        http.createContext("/", s::handle);
        http.setExecutor(executor);
        startOnDaemonThread(http, daemon);
        log.info("{} metrics at {}", daemon, url(http.getAddress()));
        return s;
    }

    /**
     * Starts {@code http} from a daemon thread: its dispatcher thread is made by {@code start}
     * and inherits that thread's daemon status, which the API offers no other way to set.
     */
    private static void startOnDaemonThread(HttpServer http, String daemon) throws IOException {
        RuntimeException[] failed = new RuntimeException[1];
        Thread starter = new Thread(() -> {
            try {
                http.start();
            } catch (RuntimeException e) {
                failed[0] = e;
            }
        }, daemon + "-metrics-start");
        starter.setDaemon(true);
        starter.start();
        try {
            starter.join();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            http.stop(0);
            throw new IOException("interrupted while starting the metrics server");
        }
        if (failed[0] != null) {
            http.stop(0);
            throw failed[0];
        }
    }

    /** Where to scrape: the URL for a specific address, a template for a wildcard one. */
    static String url(InetSocketAddress a) {
        if (a.getAddress() != null && a.getAddress().isAnyLocalAddress()) {
            return "http://<any address of this host>:" + a.getPort() + PATH;
        }
        return "http://" + Sockets.describe(a) + PATH;
    }

    /** The bound address (its port is useful when configured as 0). */
    public InetSocketAddress address() {
        return server.getAddress();
    }

    private void handle(HttpExchange x) throws IOException {
        try {
            if (!x.getRequestURI().getPath().equals(PATH)) {
                respond(x, 404, "not found: the metrics are at " + PATH + "\n");
                return;
            }
            String method = x.getRequestMethod();
            if (!method.equals("GET") && !method.equals("HEAD")) {
                x.getResponseHeaders().set("Allow", "GET, HEAD");
                respond(x, 405, "only GET and HEAD\n");
                return;
            }
            byte[] body = PrometheusText.render(metrics).getBytes(StandardCharsets.UTF_8);
            x.getResponseHeaders().set("Content-Type", PrometheusText.CONTENT_TYPE);
            if (method.equals("HEAD")) {
                x.sendResponseHeaders(200, -1);
            } else {
                x.sendResponseHeaders(200, body.length);
                try (OutputStream out = x.getResponseBody()) {
                    out.write(body);
                }
            }
        } catch (RuntimeException e) {
            // Our bug, not the client's: the scrape fails visibly, and the daemon carries on.
            log.error("metrics request failed: internal error", e);
            respond(x, 500, "internal error\n");
        } finally {
            x.close();
        }
    }

    private static void respond(HttpExchange x, int status, String text) throws IOException {
        byte[] body = text.getBytes(StandardCharsets.UTF_8);
        x.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        x.sendResponseHeaders(status, body.length);
        try (OutputStream out = x.getResponseBody()) {
            out.write(body);
        }
    }

    /** Stops listening and answering at once; a scrape under way is cut off. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        server.stop(0);
        executor.shutdownNow();
    }
}
