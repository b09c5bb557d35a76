package net.roamproxy.server;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Comparator;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import net.roamproxy.link.Link;
import net.roamproxy.link.Session;
import net.roamproxy.link.Sockets;
import net.roamproxy.link.Threads;
import net.roamproxy.session.MemoryBudget;
import net.roamproxy.status.RuntimeDir;
import net.roamproxy.status.StatusServer;

/**
 * sproxy: accepts links from cproxy and tells new sessions from resumed ones.
 *
 * <p>Threads: {@code sproxy-accept} only accepts. Each accepted connection gets a short-lived
 * {@code sproxy-handshake-N} thread running a {@link ServerHandshake}, so a silent or slow
 * peer can never stall the accept loop; at most {@code maxHandshakes} run at once, and
 * {@code sproxy-handshake-timer} closes any that outlives the handshake timeout, however
 * slowly it dribbles bytes. A new session gets a fresh target connection and its own
 * {@link Session}; a resume is handed to the existing session through its {@link ResumeQueue}.
 *
 * <p>Lifecycle: {@link #start()} once, {@link #close()} any time (idempotent).
 */
public final class ServerProxy implements AutoCloseable {
    private static final Logger log = LogManager.getLogger(ServerProxy.class);
    /** A full handshake table is reported at most this often. */
    private static final long LIMIT_REPORT_NANOS = TimeUnit.SECONDS.toNanos(5);

    /** Replaced whole by {@link #reload}; each handshake uses the one current when it began. */
    private volatile ServerConfig config;
    private final SessionTable sessions;
    private final TargetConnector connector;
    private final Slots handshakeSlots;
    private final AtomicInteger handshakes = new AtomicInteger();
    /** Connections still in their handshake, so that shutdown can close them too. */
    private final Set<Socket> inHandshake = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "sproxy-handshake-timer");
        t.setDaemon(true);
        return t;
    });
    private volatile boolean closed;
    private ServerSocket listener;
    private StatusServer status;
    private long lastLimitReport = System.nanoTime() - LIMIT_REPORT_NANOS;
    private int droppedSinceReport;

    public ServerProxy(ServerConfig config) {
        this(config, TargetConnector.PLAIN);
    }

    /** With the target connections opened by {@code connector} (tests slow it down). */
    ServerProxy(ServerConfig config, TargetConnector connector) {
        this.config = config;
        this.sessions = new SessionTable(new MemoryBudget(config.link().memoryBytes()));
        this.connector = connector;
        this.handshakeSlots = new Slots(config.maxHandshakes());
    }

    /** Binds the listening port and starts accepting. */
    public void start() throws IOException {
        // After one address change every cproxy redials at once: a deep accept queue (the kernel
        // caps it at net.core.somaxconn) keeps those SYNs from being dropped and retried 1 s later.
        ServerSocket ss = Sockets.listen(config.listenAddress(), config.listenPort(), 4096);
        listener = ss;
        new Thread(this::acceptLoop, "sproxy-accept").start();
        status = StatusServer.startOrWarn("sproxy", RuntimeDir.socketToBind("sproxy", ss.getLocalPort()),
                sessions::status, sessions.budget());
        log.info("sproxy listening on {}, relaying new sessions to {}:{}; host key {}{}",
                Sockets.describe(ss.getLocalSocketAddress()), config.targetHost(), config.targetPort(),
                config.keys().hostKey().fingerprint(),
                config.presharedKey() == null ? "" : "; new sessions must prove the pre-shared key");
    }

    /** The bound port (useful when configured as 0). */
    public int port() {
        return listener.getLocalPort();
    }

    private void acceptLoop() {
        while (!closed) {
            Socket s;
            try {
                s = listener.accept();
            } catch (IOException e) {
                if (!closed) {
                    log.error("accepting links failed, sproxy stops accepting: {}", e.getMessage());
                }
                return;
            }
            if (!handshakeSlots.tryAcquire()) {
                Link.reset(s);
                reportFullHandshakeTable(s);
                continue;
            }
            Threads.start("sproxy-handshake-" + handshakes.incrementAndGet(), () -> handshake(s));
        }
    }

    private void reportFullHandshakeTable(Socket s) {
        droppedSinceReport++;
        long now = System.nanoTime();
        if (now - lastLimitReport >= LIMIT_REPORT_NANOS) {
            log.warn("{} connections are already in their handshake (--max-handshakes); dropped {} connection(s), "
                    + "the latest from {}", config.maxHandshakes(), droppedSinceReport,
                    Sockets.describe(s.getRemoteSocketAddress()));
            lastLimitReport = now;
            droppedSinceReport = 0;
        }
    }

    private void handshake(Socket s) {
        String peer = Sockets.describe(s.getRemoteSocketAddress());
        // Whoever sets this first owns the link: the handshake claiming it before it connects the
        // target or hands the link over, or the deadline closing it. Never both.
        AtomicBoolean settled = new AtomicBoolean();
        AtomicBoolean expired = new AtomicBoolean();
        ScheduledFuture<?> deadline = null;
        int timeout = (int) config.link().handshakeTimeout().toMillis();
        inHandshake.add(s);
        try {
            if (closed) {
                Link.reset(s);
                return;
            }
            deadline = timer.schedule(() -> {
                if (settled.compareAndSet(false, true)) {
                    expired.set(true);
                    Link.reset(s);
                }
            }, timeout, TimeUnit.MILLISECONDS);
            new ServerHandshake(config, sessions, new Link(s), () -> settled.compareAndSet(false, true), connector)
                    .run();
            settled.set(true);
        } catch (RejectedExecutionException e) {
            Link.reset(s); // sproxy is shutting down
        } catch (IOException e) {
            log.warn("dropped connection from {} during its handshake: {}", peer, expired.get()
                    ? "not completed within " + config.link().handshakeTimeout().toMillis() + " ms" : e.getMessage());
            Link.reset(s);
        } catch (RuntimeException e) {
            // Our bug, not the peer's: it costs this connection only, and says so.
            log.error("dropped connection from {} during its handshake: internal error", peer, e);
            Link.reset(s);
        } finally {
            inHandshake.remove(s);
            if (deadline != null) {
                deadline.cancel(false);
            }
            handshakeSlots.release();
        }
    }

    /**
     * Applies a new configuration while sessions live (SIGHUP): services, the default target,
     * the limits and the pre-shared key hold for every handshake from now on, and link timings
     * for the sessions opened from now on. The listening address and port, and the keys, stay
     * until a restart.
     *
     * @return what now applies, for the log line
     */
    public synchronized String reload(ServerConfig fresh) {
        ServerConfig old = config;
        config = new ServerConfig(old.listenAddress(), old.listenPort(), fresh.targetHost(), fresh.targetPort(),
                fresh.link(), fresh.maxSessions(), fresh.maxHandshakes(), fresh.presharedKey(), old.keys(),
                fresh.services());
        handshakeSlots.resize(old.maxHandshakes(), fresh.maxHandshakes());
        boolean moved = !Objects.equals(old.listenAddress(), fresh.listenAddress())
                || old.listenPort() != fresh.listenPort() && fresh.listenPort() != 0;
        return "services " + servicesText(config) + ", at most " + config.maxSessions() + " sessions and "
                + config.maxHandshakes() + " handshakes" + (moved ? "; the listening address and port stay until a "
                + "restart" : "");
    }

    private static String servicesText(ServerConfig c) {
        StringBuilder b = new StringBuilder(ServerConfig.DEFAULT_SERVICE + "=" + c.targetHost() + ":" + c.targetPort());
        c.services().values().stream().sorted(Comparator.comparing(ServerConfig.Service::name))
                .forEach(v -> b.append(", ").append(v.name()).append('=').append(v.host()).append(':').append(v.port()));
        return b.toString();
    }

    /** Handshake places: a semaphore whose number of places a reload can change. */
    private static final class Slots extends Semaphore {
        private static final long serialVersionUID = 1L;

        Slots(int places) {
            super(places);
        }

        void resize(int from, int to) {
            if (to > from) {
                release(to - from);
            } else if (to < from) {
                reducePermits(from - to); // handshakes running now finish; fewer start
            }
        }
    }

    /** Handshakes still running, each on its own thread: for tests that nothing is left behind. */
    int handshakesInProgress() {
        return config.maxHandshakes() - handshakeSlots.availablePermits();
    }

    /** Number of live sessions. */
    public int sessionCount() {
        return sessions.size();
    }

    /** Ids of the live sessions, for monitoring and tests. */
    public Set<Long> sessionIds() {
        return sessions.ids();
    }

    /** Stops accepting, then closes every session; waits a bounded time for them to finish. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        Sockets.closeQuietly(listener);
        timer.shutdownNow();
        if (status != null) {
            status.close();
        }
        inHandshake.forEach(Link::reset);
        // Handshakes still running create no session after this snapshot (the table is closed).
        Session.closeAll(sessions.close(), "sproxy is shutting down", 1000);
        log.info("sproxy stopped");
    }
}
