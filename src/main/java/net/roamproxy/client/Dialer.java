package net.roamproxy.client;

import java.io.IOException;
import java.net.InetAddress;
import java.net.NoRouteToHostException;
import java.net.Socket;
import java.net.SocketException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import net.roamproxy.metrics.LinkLoss;
import net.roamproxy.metrics.Metrics;
import net.roamproxy.net.Once;
import net.roamproxy.net.Sockets;
import net.roamproxy.session.Attachment;
import net.roamproxy.session.Link;
import net.roamproxy.session.LinkProvider;
import net.roamproxy.session.LinkSettings;
import net.roamproxy.session.LinkUnavailableException;
import net.roamproxy.session.SessionView;
import net.roamproxy.trust.ServerTrust;
import net.roamproxy.wire.KeyShareStock;

/**
 * cproxy's side of a session's links: dials sproxy from whatever address the host has now,
 * asks for a new session the first time and a resume afterwards, and keeps trying until it
 * succeeds, the session is refused for good, or the detach timeout passes.
 *
 * <p>Every dial resolves the server name afresh and races its addresses, IPv4 and IPv6, the
 * one that worked last first ({@link ServerAddresses}, {@link ConnectRace}). When every address
 * fails at once ("network is unreachable": the host has no usable address), it waits
 * {@value #FIRST_RETRY_MS} ms, doubling up to at most {@value #MAX_RETRY_MS} ms, before the next
 * dial; the address watch ({@link #hostAddressesChanged}) cuts that wait short and abandons
 * pending connects, so the dial that succeeds starts as soon as the host has a new address.
 *
 * <p>Threading: {@link #next} runs on the session's worker thread; {@link #hostAddressesChanged}
 * on the address watch's thread and {@link #close()} on any thread.
 */
final class Dialer implements LinkProvider {
    private static final Logger log = LogManager.getLogger(Dialer.class);
    static final long FIRST_RETRY_MS = 25;
    static final long MAX_RETRY_MS = 250;
    /** How often a long outage is reported at INFO. */
    private static final long REPORT_EVERY_NANOS = TimeUnit.SECONDS.toNanos(10);

    private final ClientConfig config;
    private final ClientHandshake handshake;
    private final ConnectRace race;
    /** The daemon's dial places, shared by its sessions ({@link ClientProxy#MAX_DIALS}). */
    private final Semaphore dialing;
    /** sproxy's addresses for each dial, the one that worked last first. */
    private final ServerAddresses addresses;
    private final String service;
    /** cproxy's counters: every refusal from sproxy that checks out is counted by its status. */
    private final Metrics metrics;
    /** The session, for log lines from other threads; set by the worker. */
    private volatile SessionView relay;
    /** The link in its handshake or handed to the session, so the watch can drop it. */
    private volatile Link current;
    /** The connection in its handshake, closed by {@link #close()}; once handed over, the session closes it. */
    private volatile Socket handshaking;
    private volatile boolean closed;
    /** The address watch dropped the last link and said so; the worker need not say it again. */
    private volatile boolean watchSaidWhy;

    /**
     * @param trust   which host key sproxy must have
     * @param service the service the session is for, as sproxy names it; "" for its default
     */
    Dialer(ClientConfig config, ServerTrust trust, String service, Metrics metrics, Semaphore dialing,
           KeyShareStock keyShares) {
        this(config, trust, service, metrics, InetAddress::getAllByName, new ConnectRace(), dialing, keyShares);
    }

    Dialer(ClientConfig config, ServerTrust trust, String service, Metrics metrics,
           ServerAddresses.Resolver resolver, ConnectRace race, Semaphore dialing, KeyShareStock keyShares) {
        this.config = config;
        this.dialing = dialing;
        this.service = service;
        this.metrics = metrics;
        this.handshake = new ClientHandshake(config, trust, service, keyShares);
        this.addresses = new ServerAddresses(resolver, config.serverHost(), config.serverPort());
        this.race = race;
    }

    @Override
    public Attachment next(SessionView relay) throws InterruptedException, LinkUnavailableException {
        this.relay = relay;
        current = null;
        if (handshake.established() && !watchSaidWhy) {
            log.info("{}: reconnecting to sproxy at {}:{}", relay.name(), config.serverHost(), config.serverPort());
        }
        watchSaidWhy = false;
        LinkSettings s = config.link();
        long start = System.nanoTime();
        long lastReport = start;
        long retry = FIRST_RETRY_MS;
        long cap = Math.min(MAX_RETRY_MS, s.heartbeatInterval().toMillis());
        FailedAnswers failed = new FailedAnswers();
        for (int attempt = 1; !closed; attempt++) {
            // Never before the first try: an application may end its stream at once and still
            // wait for the answer (a command piped into telnet). Only when sproxy could not be
            // reached is an application that ended its stream not worth dialling on for.
            if (attempt > 1 && !handshake.established() && relay.applicationFinished()) {
                failed.report(relay.name(), "the application closed meanwhile");
                throw new LinkUnavailableException("application closed before the session was established");
            }
            long away = System.nanoTime() - start;
            if (away > s.detachTimeout().toNanos()) {
                failed.report(relay.name(), "giving up the session");
                throw new LinkUnavailableException("could not reach sproxy for " + LinkSettings.human(s.detachTimeout())
                        + " (--detach-timeout)");
            }
            try {
                Attachment a = dial(relay, failed);
                failed.report(relay.name(), "reached sproxy again");
                return a;
            } catch (ClientHandshake.Refused e) {
                if (e.status != null) {
                    metrics.refusal(e.status.name());
                }
                failed.report(relay.name(), "then sproxy refused the session");
                throw new LinkUnavailableException(e.getMessage(), e.unknownSession);
            } catch (ConnectRace.Woken e) {
                log.debug("{}: this host's addresses changed; dialing again at once", relay.name());
                retry = FIRST_RETRY_MS;
            } catch (IOException e) {
                if (closed) {
                    throw new LinkUnavailableException("the session is closing");
                }
                long now = System.nanoTime();
                // With no route at all (no usable address), dialing again changes nothing until the
                // host's addresses do, which the address watch reports at once: wait for it, and
                // try again only now and then in case a route came back without a new address.
                long wait = unreachable(e) && config.addressWatch() ? s.deadAfter().toMillis() : retry;
                if (attempt == 1 || now - lastReport >= REPORT_EVERY_NANOS) {
                    lastReport = now;
                    log.info("{}: cannot reach sproxy at {}:{} ({}); retrying {} (attempt {}, {} s so far)",
                            relay.name(), config.serverHost(), config.serverPort(), e.getMessage(),
                            wait > cap ? "when this host's addresses change, or in " + wait + " ms"
                                    : "every " + cap + " ms", attempt, TimeUnit.NANOSECONDS.toSeconds(now - start));
                } else {
                    log.debug("{}: reconnect attempt {} failed: {}", relay.name(), attempt, e.getMessage());
                }
                retry = race.pause(wait) ? FIRST_RETRY_MS : Math.min(cap, retry * 2);
            }
        }
        throw new LinkUnavailableException("the session is closing");
    }

    /** Connects and runs the handshake; a handshake that fails after TCP connected is counted in {@code failed}. */
    private Attachment dial(SessionView relay, FailedAnswers failed) throws IOException, InterruptedException {
        // Sessions that all lose their link at once (an address change) queue here instead of
        // dialling together: sproxy gives one source only a share of its handshake places.
        while (!dialing.tryAcquire(config.link().heartbeatInterval().toMillis(), TimeUnit.MILLISECONDS)) {
            if (closed) {
                throw new IOException("closing");
            }
        }
        boolean resume = handshake.established();
        Runnable release = Once.of(dialing::release);
        try {
            Attachment a = dialPaced(relay, failed);
            if (resume) {
                // Our PROOF is out, but sproxy still holds a handshake place until it has checked
                // it: the place counts until sproxy's first frame on the link (or the link's end),
                // so a crowd of resumes never holds more of sproxy's places than we dial at once.
                Attachment paced = a.settledBy(release);
                release = () -> { };
                return paced;
            }
            return a;
        } finally {
            release.run();
        }
    }

    private Attachment dialPaced(SessionView relay, FailedAnswers failed) throws IOException, InterruptedException {
        LinkSettings s = config.link();
        int attemptMillis = (int) s.deadAfter().toMillis();
        Socket socket = race.race(addresses.targets(), attemptMillis, s.heartbeatInterval().toMillis(), attemptMillis, dialing);
        handshaking = socket;
        boolean handedOver = false;
        try {
            if (closed) {
                throw new IOException("closing");
            }
            Link link = new Link(socket);
            current = link;
            Attachment a;
            try {
                a = handshake.run(link, relay);
            } catch (ClientHandshake.Refused e) {
                throw e;
            } catch (IOException e) {
                if (!closed && !link.isClosed() && link.abortReason() == null) {
                    failed.add(e); // not our own doing (closing, or the address watch)
                }
                throw e;
            }
            addresses.worked(socket.getInetAddress());
            handedOver = true;
            return a;
        } finally {
            handshaking = null;
            if (!handedOver) {
                current = null;
                Link.reset(socket);
            }
        }
    }

    /** Whether {@code e} says this host has no route to sproxy at all (no usable address, no route). */
    static boolean unreachable(IOException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof NoRouteToHostException
                    || t instanceof SocketException && String.valueOf(t.getMessage()).contains("unreachable")) {
                return true;
            }
        }
        return false;
    }

    /**
     * The host's addresses changed (address watch thread): a link sent from an address the
     * host no longer has is dead, so it is dropped now rather than after three missed
     * heartbeats; a dial in progress starts over with the addresses the host has now.
     */
    void hostAddressesChanged(AddressWatch.Change change) {
        Link l = current;
        SessionView r = relay;
        if (l != null && r != null && !l.isClosed() && change.gone().contains(l.localAddress())) {
            String address = Sockets.text(l.localAddress());
            log.info("{}: local address {} removed; reconnecting", r.name(), address);
            watchSaidWhy = true;
            l.abort(LinkLoss.ADDRESS_REMOVED, "local address " + address + " removed");
            // No wake as well: the session dials again at once anyway, and a wake left queued
            // would abandon that very dial and make a second one.
            return;
        }
        race.wake();
    }

    /** The service the session is for; "" for sproxy's default. */
    String service() {
        return service;
    }

    @Override
    public void close() {
        closed = true;
        race.wake();
        Socket s = handshaking;
        if (s != null) {
            Link.reset(s);
        }
    }
}
