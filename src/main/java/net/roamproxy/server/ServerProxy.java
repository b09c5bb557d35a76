package net.roamproxy.server;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.Comparator;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import net.roamproxy.metrics.Measured;
import net.roamproxy.metrics.Metrics;
import net.roamproxy.net.AcceptFailures;
import net.roamproxy.net.ElasticPool;
import net.roamproxy.net.Once;
import net.roamproxy.net.ReusedThreads;
import net.roamproxy.net.Sockets;
import net.roamproxy.session.IoPool;
import net.roamproxy.session.Link;
import net.roamproxy.session.Session;
import net.roamproxy.session.SessionStop;
import net.roamproxy.status.RuntimeDir;
import net.roamproxy.status.StatusServer;
import net.roamproxy.stream.MemoryBudget;
import net.roamproxy.wire.Handshake;
import net.roamproxy.wire.KeyShareStock;

/**
 * sproxy: accepts links from cproxy and tells new sessions from resumed ones.
 *
 * <p>Threads: {@code sproxy-accept} only accepts. Each accepted connection gets a
 * {@code sproxy-handshake-N} thread of its own (reused: {@link ReusedThreads}) running a
 * {@link ServerHandshake}, so a silent or slow
 * peer can never stall the accept loop; at most {@code maxHandshakes} run at once, and at most
 * a quarter of them from one source ({@link HandshakeAdmission}); {@code sproxy-handshake-timer}
 * closes any that sends no HELLO within 2 s or outlives the handshake timeout, however slowly
 * it dribbles bytes ({@link HandshakeDeadline}). A new session gets a fresh target connection and its own
 * {@link Session}; a resume is handed to the existing session through its {@link ResumeQueue}.
 *
 * <p>Lifecycle: {@link #start()} once, {@link #close()} any time (idempotent).
 */
public final class ServerProxy implements AutoCloseable, Measured {
    private static final Logger log = LogManager.getLogger(ServerProxy.class);

    /** Replaced whole by {@link #reload}; each handshake uses the one current when it began. */
    private volatile ServerConfig config;
    /** Counts for {@code --metrics}; the live figures are read from {@link #sessions} when scraped. */
    private final Metrics metrics = new Metrics("sproxy", Handshake.Status.refusalNames(), this::live);
    private final SessionTable sessions;
    private final TargetConnector connector;
    private final HandshakeAdmission admission;
    private final LimitReport allPlacesTaken = new LimitReport(log, "the handshake limit (--max-handshakes)");
    private final LimitReport sourceShareTaken = new LimitReport(log, "the handshake limit per source");
    private final DropLog drops = new DropLog(log);
    /** At most {@code maxHandshakes} busy at once (the admission); idle ones kept through a crowd of resumes. */
    private final ReusedThreads handshakeThreads = new ReusedThreads("sproxy-handshake-", 10_000);
    /** Key shares made in quiet moments, one for each live session, so a crowd of resumes need not wait for them. */
    private final KeyShareStock keyShares;
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
    private final AcceptFailures acceptFailures = new AcceptFailures(log, "links");
    /** The relay pool's room for this proxy's sessions; {@code null} until started. */
    private ElasticPool.Reservation ioThreads;

    public ServerProxy(ServerConfig config) {
        this(config, TargetConnector.PLAIN);
    }

    /** With the target connections opened by {@code connector} (tests slow it down). */
    ServerProxy(ServerConfig config, TargetConnector connector) {
        this.config = config;
        this.sessions = new SessionTable(metrics, new MemoryBudget(config.link().memoryBytes()),
                new Instance(config.instance()));
        this.connector = connector;
        this.admission = new HandshakeAdmission(config.maxHandshakes());
        this.keyShares = new KeyShareStock(sessions::size);
    }

    /** Binds the listening port and starts accepting. */
    public void start() throws IOException {
        // After one address change every cproxy redials at once: a deep accept queue (the kernel
        // caps it at net.core.somaxconn) keeps those SYNs from being dropped and retried 1 s later.
        ServerSocket ss = Sockets.listen(config.listenAddress(), config.listenPort(), 4096);
        listener = ss;
        ioThreads = IoPool.reserve(config.maxSessions());
        keyShares.start("sproxy-key-shares");
        new Thread(this::acceptLoop, "sproxy-accept").start();
        status = StatusServer.startOrWarn("sproxy", RuntimeDir.socketToBind("sproxy", ss.getLocalPort()),
                sessions::status, sessions.budget());
        log.info("sproxy{} listening on {}, relaying new sessions to {}:{}; host key {}{}",
                config.instance() == Instance.SINGLE ? "" : " instance " + config.instance(),
                Sockets.describe(ss.getLocalSocketAddress()), config.targetHost(), config.targetPort(),
                config.keys().hostKey().fingerprint(),
                config.presharedKey() == null ? "" : "; new sessions must prove the pre-shared key");
    }

    /** The bound port (useful when configured as 0). */
    public int port() {
        return listener.getLocalPort();
    }

    /**
     * The only way in, so nothing may end it but {@link #close()}: a failed accept (out of
     * descriptors) or a handshake thread that cannot be made (out of memory) costs that one
     * connection, and the loop pauses briefly and goes on (see {@link AcceptFailures}).
     */
    private void acceptLoop() {
        while (!closed) {
            Socket s = null;
            InetAddress source = null;
            // Whoever sets it first owns the socket and the handshake place: the handshake thread
            // once it runs, or this loop if starting that thread failed. Never both, never neither.
            AtomicBoolean claimed = null;
            try {
                s = listener.accept();
                source = Source.of(s.getInetAddress());
                if (!admitted(source)) {
                    Link.reset(s);
                    continue;
                }
                claimed = new AtomicBoolean();
                Socket accepted = s;
                InetAddress from = source;
                AtomicBoolean mine = claimed;
                handshakeThreads.execute(() -> {
                    if (mine.compareAndSet(false, true)) {
                        handshake(accepted, from);
                    }
                });
            } catch (Throwable e) {
                if (claimed == null || claimed.compareAndSet(false, true)) {
                    if (claimed != null) {
                        admission.release(source);
                    }
                    if (s != null) {
                        Link.reset(s);
                    }
                }
                if (closed || listener.isClosed() || !acceptFailures.failed(e)) {
                    return;
                }
            }
        }
    }

    private boolean admitted(InetAddress source) {
        ServerConfig c = config;
        switch (admission.admit(source)) {
            case ALL_PLACES_TAKEN -> allPlacesTaken.reached(() -> "all " + c.maxHandshakes() + " handshake places "
                    + "are taken (--max-handshakes): turned away a connection from " + Source.describe(source),
                    Source.describe(source));
            case SOURCE_SHARE_TAKEN -> sourceShareTaken.reached(() -> Source.describe(source) + " already holds "
                    + HandshakeAdmission.perSource(c.maxHandshakes()) + " handshake places, its most (a quarter "
                    + "of --max-handshakes): turned away another connection from it", Source.describe(source));
            case ADMITTED -> {
                return true;
            }
        }
        return false;
    }

    private void handshake(Socket s, InetAddress source) {
        String peer = Sockets.describe(s.getRemoteSocketAddress());
        HandshakeDeadline deadline = null;
        Runnable releasePlace = Once.of(() -> admission.release(source));
        inHandshake.add(s);
        try {
            if (closed) {
                Link.reset(s);
                return;
            }
            deadline = new HandshakeDeadline(timer, s, config.link().handshakeTimeout().toMillis());
            new ServerHandshake(config, sessions, new Link(s), source, deadline, connector, metrics, drops,
                    releasePlace, keyShares).run();
            deadline.claim();
        } catch (RejectedExecutionException e) {
            Link.reset(s); // sproxy is shutting down
        } catch (IOException e) {
            String expired = deadline == null ? null : deadline.expired();
            drops.dropped(source, peer, expired != null ? expired : e.getMessage());
            Link.reset(s);
        } catch (RuntimeException | Error e) {
            // Our bug, or out of memory, not the peer's doing: it costs this connection only, and says so.
            log.error("dropped connection from {} during its handshake: internal error: {}", peer, e.toString());
            log.debug("dropped connection from {} during its handshake", peer, e);
            Link.reset(s);
        } finally {
            inHandshake.remove(s);
            if (deadline != null) {
                deadline.cancel();
            }
            releasePlace.run();
        }
    }

    /**
     * Applies a new configuration while sessions live (SIGHUP): services, the default target,
     * the limits and the pre-shared key hold for every handshake from now on, and link timings
     * for the sessions opened from now on. The listening address and port, the keys and the
     * instance number stay until a restart.
     *
     * @return what now applies, for the log line
     */
    public synchronized String reload(ServerConfig fresh) {
        ServerConfig old = config;
        config = new ServerConfig(old.listenAddress(), old.listenPort(), fresh.targetHost(), fresh.targetPort(),
                fresh.link(), fresh.maxSessions(), fresh.maxHandshakes(), fresh.presharedKey(), old.keys(),
                fresh.services(), fresh.maxSessionsPerSource(), old.instance());
        admission.resize(fresh.maxHandshakes());
        if (ioThreads != null) {
            ioThreads.resize(fresh.maxSessions());
        }
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

    /** Handshakes still running, each on its own thread: for tests that nothing is left behind. */
    int handshakesInProgress() {
        return admission.inUse();
    }

    private Metrics.Live live() {
        return sessions.live();
    }

    /** Number of live sessions. */
    public int sessionCount() {
        return sessions.size();
    }

    @Override
    public Metrics metrics() {
        return metrics;
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
        handshakeThreads.close();
        keyShares.close();
        if (status != null) {
            status.close();
        }
        inHandshake.forEach(Link::reset);
        // Handshakes still running create no session after this snapshot (the table is closed).
        SessionStop.closeAll(sessions.close(), "sproxy is shutting down", SessionStop.BUDGET_MILLIS);
        if (ioThreads != null) {
            ioThreads.close(); // after closeAll: the sessions' last flush still needs its threads
        }
        log.info("sproxy stopped");
    }
}
