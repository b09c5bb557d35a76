package net.roamproxy.client;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import net.roamproxy.metrics.Measured;
import net.roamproxy.metrics.Metrics;
import net.roamproxy.net.AcceptFailures;
import net.roamproxy.net.ElasticPool;
import net.roamproxy.net.Sockets;
import net.roamproxy.net.Throttle;
import net.roamproxy.session.IoPool;
import net.roamproxy.session.Link;
import net.roamproxy.session.LiveSessions;
import net.roamproxy.session.Session;
import net.roamproxy.session.SessionStop;
import net.roamproxy.status.Row;
import net.roamproxy.status.RuntimeDir;
import net.roamproxy.status.StatusServer;
import net.roamproxy.stream.MemoryBudget;
import net.roamproxy.trust.ServerTrust;
import net.roamproxy.wire.Handshake;
import net.roamproxy.wire.KeyShareStock;

/**
 * cproxy: accepts local application connections and relays each as its own session to sproxy.
 *
 * <p>Threads: {@code cproxy-accept} accepts; each connection becomes a {@link Session} whose
 * worker dials sproxy itself, first for a new session and again after every lost link;
 * {@code cproxy-address-watch} (unless turned off) tells every session's {@link Dialer} when
 * this host's addresses change; it runs only while sessions exist, so an idle cproxy on a
 * laptop reads nothing ten times a second. At most {@code maxSessions} sessions live at once:
 * a local connection beyond that is reset at once, and the sessions running are unaffected.
 * Lifecycle: {@link #start()} once, {@link #close()} any time.
 */
public final class ClientProxy implements AutoCloseable, Measured {
    private static final Logger log = LogManager.getLogger(ClientProxy.class);

    /**
     * Dials (connect and handshake) at once, for all sessions: half the share of its handshake
     * places sproxy gives one source (a quarter of its --max-handshakes, 64 by default), so that
     * hundreds of sessions resuming together after an address change are paced here and never
     * turned away there. A resume holds its place until sproxy's first frame on the new link,
     * about three round trips after its connect began: on a 50 ms path 32 places resume some
     * 200 sessions a second.
     */
    static final int MAX_DIALS = 32;

    private final ClientConfig config;
    private final Map<Session, Dialer> sessions = new ConcurrentHashMap<>();
    /** Counts for {@code --metrics}; the live figures are read from {@link #sessions} when scraped. */
    private final Metrics metrics = new Metrics("cproxy", Handshake.Status.refusalNames(),
            () -> LiveSessions.of(this.sessions.keySet()));
    private final AtomicInteger counter = new AtomicInteger();
    private final Semaphore dialing = new Semaphore(MAX_DIALS);
    /** Key shares made in quiet moments, one for each live session, so a crowd of resumes need not wait for them. */
    private final KeyShareStock keyShares = new KeyShareStock(sessions::size);
    /** Places for live sessions: taken at accept, given back when the session closes. */
    private final Semaphore places;
    private final Throttle fullReports = new Throttle();
    private final AcceptFailures acceptFailures = new AcceptFailures(log, "local connections");
    /** Room in the shared pools for this proxy's sessions, while it runs. */
    private final List<ElasticPool.Reservation> poolRoom = new CopyOnWriteArrayList<>();
    private volatile boolean closed;
    /** The main port, every forward, and their IPv6 loopback twins. */
    private final LocalListeners listeners = new LocalListeners();
    /** The address watch, run while sessions exist; it tells every session's {@link Dialer} of a change. */
    private final AddressWatchOnDemand watch;
    private ServerTrust trust;
    private StatusServer status;
    /** Where every session's buffers count: {@code --memory}. */
    private final MemoryBudget budget;

    public ClientProxy(ClientConfig config) {
        this(config, AddressWatch::hostAddresses);
    }

    /** With the host's addresses read from {@code addresses} (tests fake them). */
    ClientProxy(ClientConfig config, AddressWatch.Source addresses) {
        this.config = config;
        this.watch = new AddressWatchOnDemand(addresses, config.addressWatch(), () -> !closed && !sessions.isEmpty(),
                c -> sessions.values().forEach(d -> d.hostAddressesChanged(c)));
        this.places = new Semaphore(config.maxSessions());
        this.budget = new MemoryBudget(config.link().memoryBytes());
    }

    /** Binds the local port and starts accepting. */
    public void start() throws IOException {
        trust = new ServerTrust(config.serverHost(), config.serverPort(), config.trust().pinnedFingerprint(),
                config.trust().knownServers());
        listeners.open(config);
        poolRoom.add(IoPool.reserve(config.maxSessions()));
        poolRoom.add(ConnectRace.reserveThreads(config.maxSessions()));
        keyShares.start("cproxy-key-shares");
        status = StatusServer.startOrWarn("cproxy", RuntimeDir.socketToBind("cproxy", listeners.port()),
                this::statusRows, budget);
        if (!config.addressWatch()) {
            log.info("address watch off: cproxy notices address changes only through missed heartbeats");
        }
        for (Map.Entry<ServerSocket, String> l : listeners.all().entrySet()) {
            ServerSocket ss = l.getKey();
            String service = l.getValue();
            new Thread(() -> acceptLoop(ss, service), "cproxy-accept" + (service.isEmpty() ? "" : "-" + service))
                    .start();
            log.info("cproxy listening on {} for {}, relaying to sproxy at {}:{}{}",
                    Sockets.describe(ss.getLocalSocketAddress()),
                    service.isEmpty() ? "sproxy's default service" : "service " + service, config.serverHost(),
                    config.serverPort(), config.trust().pinnedFingerprint() != null
                            ? "; its host key is pinned to " + config.trust().pinnedFingerprint()
                            : config.trust().knownServers() == null ? "" : "; host keys trusted on first use are kept in "
                            + config.trust().knownServers());
        }
    }

    private List<Row> statusRows() {
        List<Row> rows = new ArrayList<>();
        sessions.forEach((s, d) -> rows.add(new Row(d.service().isEmpty() ? "default" : d.service(),
                s.status("reconnecting"))));
        return rows;
    }

    /**
     * The bound local port for {@code service}, useful when configured as 0: the main port for
     * "" (a {@code --forward PORT=default} may add another), else the first forward of that name.
     */
    public int port(String service) {
        if (service.isEmpty()) {
            return port();
        }
        return listeners.port(service);
    }

    /** Whether the address watch is running now. */
    boolean watchingAddresses() {
        return watch.watching();
    }

    /** The bound port (useful when configured as 0). */
    public int port() {
        return listeners.port();
    }

    /**
     * The only way in for this listener, so nothing may end it but {@link #close()}: a failed
     * accept (out of descriptors) or a session that cannot start (no thread for it) costs that
     * one connection, and the loop pauses briefly and goes on (see {@link AcceptFailures}).
     */
    private void acceptLoop(ServerSocket listener, String service) {
        while (!closed) {
            Socket app = null;
            try {
                app = listener.accept();
                open(app, service);
            } catch (Throwable e) {
                if (app != null) {
                    Link.reset(app); // no-op if its session closed it already
                }
                if (closed || listener.isClosed() || !acceptFailures.failed(e)) {
                    return;
                }
            }
        }
    }

    /** Makes {@code app} a session, unless cproxy already has as many as it may. */
    private void open(Socket app, String service) {
        if (!places.tryAcquire()) {
            Link.reset(app);
            int n = fullReports.occurred();
            if (n > 0) {
                log.warn("{} sessions are already live (--max-sessions); closed {} new local connection(s), the "
                        + "latest from {}", config.maxSessions(), n, Sockets.describe(app.getRemoteSocketAddress()));
            }
            return;
        }
        int n = counter.incrementAndGet();
        Session relay;
        Dialer dialer;
        try {
            dialer = new Dialer(config, trust, service, metrics, dialing, keyShares);
            // cproxy resumes a link lost after both directions ended: sproxy may still wait
            // for our last ack (see Session).
            relay = new Session("session #" + n, "cproxy-session-" + n, app, config.link(), dialer, true, s -> {
                sessions.remove(s);
                places.release(); // once: a session closes once
                watch.update();
            }, metrics, budget, 0);
        } catch (RuntimeException | Error e) {
            places.release(); // no session holds it
            throw e;
        }
        // From here on the session's close gives the place back, whatever fails.
        try {
            sessions.put(relay, dialer);
            watch.update();
            log.info("{}: local connection from {}{}", relay.name(), Sockets.describe(app.getRemoteSocketAddress()),
                    service.isEmpty() ? "" : " for service " + service);
            relay.start();
        } catch (IOException e) {
            relay.close("local connection failed: " + e.getMessage());
        } catch (RuntimeException | Error e) {
            relay.close("internal error: " + e);
            throw e;
        }
        if (closed) {
            relay.close("cproxy is shutting down");
        }
    }

    /** Places left for new sessions, for tests that nothing leaks. */
    int freePlaces() {
        return places.availablePermits();
    }

    /** Number of live sessions. */
    public int sessionCount() {
        return sessions.size();
    }

    @Override
    public Metrics metrics() {
        return metrics;
    }

    /** Stops accepting, then closes every session; waits a bounded time for them to finish. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        listeners.close();
        if (status != null) {
            status.close();
        }
        watch.update(); // closed: stops it
        keyShares.close();
        SessionStop.closeAll(List.copyOf(sessions.keySet()), "cproxy is shutting down", SessionStop.BUDGET_MILLIS);
        poolRoom.forEach(ElasticPool.Reservation::close); // after closeAll: the last flush needs its threads
        log.info("cproxy stopped");
    }
}
