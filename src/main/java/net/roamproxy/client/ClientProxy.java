package net.roamproxy.client;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import net.roamproxy.link.Relay;
import net.roamproxy.link.Sockets;

/**
 * cproxy: accepts local application connections and relays each as its own session to sproxy.
 *
 * <p>Threads: {@code cproxy-accept} accepts; each connection becomes a {@link Relay} whose
 * worker dials sproxy itself, first for a new session and again after every lost link.
 * Lifecycle: {@link #start()} once, {@link #close()} any time.
 */
public final class ClientProxy implements AutoCloseable {
    private static final Logger log = LogManager.getLogger(ClientProxy.class);

    private final ClientConfig config;
    private final Set<Relay> sessions = ConcurrentHashMap.newKeySet();
    private final AtomicInteger counter = new AtomicInteger();
    private volatile boolean closed;
    private ServerSocket listener;

    public ClientProxy(ClientConfig config) {
        this.config = config;
    }

    /** Binds the local port and starts accepting. */
    public void start() throws IOException {
        ServerSocket ss = Sockets.listen(config.listenAddress(), config.listenPort(), 128);
        listener = ss;
        new Thread(this::acceptLoop, "cproxy-accept").start();
        log.info("cproxy listening on {}, relaying to sproxy at {}:{}", Sockets.describe(ss.getLocalSocketAddress()),
                config.serverHost(), config.serverPort());
    }

    /** The bound port (useful when configured as 0). */
    public int port() {
        return listener.getLocalPort();
    }

    private void acceptLoop() {
        while (!closed) {
            Socket app;
            try {
                app = listener.accept();
            } catch (IOException e) {
                if (!closed) {
                    log.error("accepting local connections failed, cproxy stops accepting: {}", e.getMessage());
                }
                return;
            }
            int n = counter.incrementAndGet();
            Relay relay = new Relay("session #" + n, "cproxy-session-" + n, app, config.link(), new Dialer(config),
                    sessions::remove);
            sessions.add(relay);
            log.info("{}: local connection from {}", relay.name(), Sockets.describe(app.getRemoteSocketAddress()));
            try {
                relay.start();
            } catch (IOException e) {
                relay.close("local connection failed: " + e.getMessage());
            }
            if (closed) {
                relay.close("cproxy is shutting down");
            }
        }
    }

    /** Number of live sessions. */
    public int sessionCount() {
        return sessions.size();
    }

    /** Stops accepting, then closes every session; waits a bounded time for them to finish. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        Sockets.closeQuietly(listener);
        Relay.closeAll(List.copyOf(sessions), "cproxy is shutting down", 1000);
        log.info("cproxy stopped");
    }
}
