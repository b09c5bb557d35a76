package net.roamproxy.server;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import net.roamproxy.metrics.Metrics;
import net.roamproxy.net.Sockets;
import net.roamproxy.session.Attachment;
import net.roamproxy.session.Link;
import net.roamproxy.trust.ServerKeys;
import net.roamproxy.wire.Frame;
import net.roamproxy.wire.FrameType;
import net.roamproxy.wire.FrameWriter;
import net.roamproxy.wire.Handshake.Status;
import net.roamproxy.wire.Handshake;
import net.roamproxy.wire.Hello;
import net.roamproxy.wire.KeySchedule;
import net.roamproxy.wire.KeyShareStock;
import net.roamproxy.wire.Transcript;
import net.roamproxy.wire.UnsupportedVersionException;
import net.roamproxy.wire.Wire;

/**
 * sproxy's side of one connection's handshake, run on its own short-lived thread
 * ({@link Handshake} draws the exchange; {@link KeyExchange} sends the WELCOME and checks the
 * PROOF). A new session: HELLO NEW, our WELCOME signed by the host key, cproxy's sealed PROOF;
 * only then the service connection, our sealed TOKEN, and the session, so a replayed HELLO NEW
 * gets a WELCOME and nothing more. A resume: HELLO RESUME, our
 * WELCOME with the session secret's MAC, cproxy's sealed PROOF; only then the hand-off of the
 * link to the session, which nothing before it touches. A resume whose PROOF fails is closed;
 * a new session whose PROOF fails gets a signed AUTH_FAILED, as every refusal of a new session
 * is signed (BUSY too, which comes only after the PROOF, so handshakes that never prove
 * anything cannot fill the session table). An UNKNOWN_SESSION carries the MAC of the session's
 * refusal token, which this instance can recompute from its refusal key even after a restart.
 *
 * <p>The caller bounds the exchange in time by closing the link at the deadline, until the
 * exchange claims the link: from then on the handshake thread alone may close it or hand it
 * to a session, so the deadline can never reset a link that a session owns.
 */
final class ServerHandshake {
    private static final Logger log = LogManager.getLogger(ServerHandshake.class);

    private final ServerConfig config;
    private final SessionTable sessions;
    private final ServerKeys keys;
    private final Link link;
    /** Where the connection comes from, as the per-source limits count it. */
    private final InetAddress source;
    /** Told when the HELLO is in; takes the link from the deadlines, unless one already closed it. */
    private final HandshakeDeadline deadline;
    private final TargetConnector connector;
    /** sproxy's counters: every refusal is counted by its status. */
    private final Metrics metrics;
    /** Where refusals a stranger can cause are logged, within each source's share of lines. */
    private final DropLog drops;
    private final FrameWriter<Link> writer;
    private final Transcript transcript = new Transcript();
    private final ServerRefusals refusals;
    private final int timeout;
    /** The receive window a new session's WELCOME promises. */
    private int offered;
    /** That window while this handshake holds it in the memory budget; 0 before, and once the session owns it. */
    private int heldWindow;
    /**
     * Gives back this connection's handshake place (idempotent). It runs before the frame that
     * lets cproxy count the handshake as done (the TOKEN of a new session, the session's first
     * frame on a resumed link), so a cproxy pacing its dials by those frames never finds its
     * places still taken here, however late this thread runs again on a busy CPU.
     */
    private final Runnable releasePlace;
    /** Our WELCOME and cproxy's PROOF. */
    private final KeyExchange exchange;

    ServerHandshake(ServerConfig config, SessionTable sessions, Link link, InetAddress source,
                    HandshakeDeadline deadline, TargetConnector connector, Metrics metrics, DropLog drops,
                    Runnable releasePlace, KeyShareStock keyShares) {
        this.config = config;
        this.sessions = sessions;
        this.keys = config.keys();
        this.link = link;
        this.source = source;
        this.deadline = deadline;
        this.connector = connector;
        this.metrics = metrics;
        this.drops = drops;
        this.releasePlace = releasePlace;
        this.writer = new FrameWriter<>(link, link.peer());
        this.refusals = new ServerRefusals(keys, link, writer, transcript, metrics);
        this.timeout = (int) config.link().handshakeTimeout().toMillis();
        this.exchange = new KeyExchange(keys, config.presharedKey(), keyShares, link, writer, transcript, timeout);
    }

    /**
     * Runs the exchange. A refused link is closed here; on an exception the caller closes it.
     * Once the peer's PROOF has checked out, the link is claimed from the deadline before
     * anything slow (the target connect) or irreversible (a hand-off) happens.
     */
    void run() throws IOException {
        Frame first;
        try {
            link.expectNext(FrameType.HELLO, Hello.MAX_SIZE);
            first = link.read(timeout);
        } catch (EOFException e) {
            if (!e.getMessage().contains("mid-frame")) {
                // Closed before sending a byte: a port scan or a load balancer's health check.
                // One log line each would drown everything else, so the operator sees it at DEBUG.
                log.debug("connection from {} closed before its HELLO", link.peer());
                link.close();
                return;
            }
            throw e;
        } catch (UnsupportedVersionException e) {
            drops.report(source, Level.WARN, () -> "refused link from " + link.peer() + ": it speaks protocol version "
                    + e.version() + ", this sproxy speaks " + Wire.VERSION + ": upgrade it");
            metrics.refusal(Status.VERSION_MISMATCH.name());
            byte[] answer = LegacyRefusal.versionMismatch(e.version());
            if (answer != null) {
                link.send(answer, 0, answer.length);
                link.finishSending(); // a FIN behind the answer, as for every refusal
                link.closeGracefully();
            } else {
                link.close();
            }
            return;
        }
        deadline.helloArrived();
        Hello hello = Hello.decode(first);
        transcript.add(first);
        if (hello.mode() == Handshake.Mode.NEW) {
            newSession(hello);
        } else {
            resume(hello, first.ack());
        }
    }

    private void newSession(Hello hello) throws IOException {
        // What cproxy may send before our target reads it. Promised in the WELCOME, but taken from
        // the memory budget only once cproxy has proven the keys: handshakes that never get that
        // far hold no memory and cannot shrink the windows of the users who come next.
        offered = sessions.windowToOffer(config.link().bufferBytes());
        try {
            offerSession(hello);
        } finally {
            if (heldWindow > 0) {
                sessions.releaseWindow(heldWindow); // no session took it
            }
        }
    }

    private void offerSession(Hello hello) throws IOException {
        ServerConfig.Service service = config.service(hello.service());
        if (service == null) {
            // Only the services named on the command line or in the config file: never an open proxy.
            drops.report(source, Level.WARN, () -> "refused new session from " + link.peer() + ": it asks for service '"
                    + hello.service() + "', which this sproxy does not offer (it offers: " + offered() + ")");
            refusals.signed(Status.UNKNOWN_SERVICE);
            return;
        }
        long id = sessions.newId();
        byte[] secret = exchange.welcomeNew(hello, id, offered);
        if (!exchange.proofChecksOut(secret)) {
            drops.report(source, Level.WARN, () -> "refused new session from " + link.peer() + ": its proof of the "
                    + "session's keys failed (a cproxy with " + (config.presharedKey() == null
                    ? "a --secret-file this sproxy does not have" : "another --secret-file or none")
                    + ", a replayed handshake, or a link altered on its way)");
            refusals.signed(Status.AUTH_FAILED);
            return;
        }
        claim();
        // A place is claimed only now, for a cproxy that proved the keys: handshakes that never
        // get this far cannot fill the table and turn real users away.
        if (!sessions.reserve(config.maxSessions(), source, config.maxSessionsPerSource())) {
            refusals.signed(Status.BUSY);
            return;
        }
        sessions.takeWindow(offered);
        heldWindow = offered;
        boolean created = false;
        try {
            created = attach(hello, service, id, secret);
        } finally {
            if (!created) {
                sessions.release(source);
            }
        }
    }

    /**
     * Connects the service, sends the TOKEN and starts the session.
     *
     * @return whether the session was created (it then uses the place reserved for it)
     */
    private boolean attach(Hello hello, ServerConfig.Service service, long id, byte[] secret) throws IOException {
        Socket target;
        try {
            target = connector.connect(new InetSocketAddress(service.host(), service.port()), timeout);
        } catch (IOException e) {
            log.warn("refused new session from {}: service {} at {}:{} unavailable: {}", link.peer(), service.name(),
                    service.host(), service.port(), e.getMessage());
            refusals.signed(Status.TARGET_UNAVAILABLE);
            return false;
        }
        SessionTable.Entry s = null;
        try {
            releasePlace.run();
            writer.token(KeySchedule.refusalToken(keys.refusalKey(), id));
            s = sessions.create(id, secret, target, new Attachment(link, 0, hello.window()), config.link(),
                    service.name(), source, heldWindow);
            heldWindow = s != null ? 0 : heldWindow;
        } finally {
            if (s == null) {
                Sockets.closeQuietly(target);
            }
        }
        if (s == null) {
            log.info("refused new session from {}: sproxy is shutting down", link.peer());
            link.close();
            return false;
        }
        log.info("{}: new session from {} for service {}, connected to {}:{}", s.session().name(), link.peer(),
                service.name(), service.host(), service.port());
        try {
            s.session().start();
        } catch (IOException e) {
            s.session().close("target connection failed: " + e.getMessage());
        } catch (RuntimeException | Error e) {
            // No thread for it (out of memory): the session closed itself, giving its place
            // back; it was created all the same, so its reservation must not be released twice.
            log.error("{}: could not start: {}", s.session().name(), e.toString());
        }
        return true;
    }

    private void resume(Hello hello, long peerAck) throws IOException {
        if (sessions.instance().elsewhere(hello.sessionId(), link.peer())) {
            refusals.wrongInstance();
            return;
        }
        SessionTable.Entry s = sessions.get(hello.sessionId());
        if (s == null || s.session().isClosed()) {
            drops.report(source, Level.INFO, () -> "refused resume of session " + Handshake.idText(hello.sessionId())
                    + " from " + link.peer() + ": no such session (it ended, or sproxy restarted)");
            refusals.unknownSession(hello.sessionId());
            return;
        }
        exchange.welcomeResume(hello, s);
        if (!exchange.proofChecksOut(s.secret())) {
            drops.report(source, Level.WARN, () -> s.session().name() + ": refused resume from " + link.peer()
                    + ": its proof of the session secret failed (a replayed or forged resume); the session and its "
                    + "link are untouched");
            link.close();
            return;
        }
        claim();
        log.info("{}: cproxy is back from {}", s.session().name(), link.peer());
        releasePlace.run();
        s.links().offer(new Attachment(link, peerAck, hello.window()));
    }

    private void claim() throws IOException {
        if (!deadline.claim()) {
            throw new IOException("the handshake deadline passed");
        }
    }

    private String offered() {
        StringBuilder b = new StringBuilder(ServerConfig.DEFAULT_SERVICE);
        config.services().keySet().stream().sorted().forEach(n -> b.append(", ").append(n));
        return b.toString();
    }
}
