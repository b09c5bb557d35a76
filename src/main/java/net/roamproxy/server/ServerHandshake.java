package net.roamproxy.server;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.function.BooleanSupplier;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import net.roamproxy.link.Attachment;
import net.roamproxy.link.Link;
import net.roamproxy.link.Sockets;
import net.roamproxy.protocol.Frame;
import net.roamproxy.protocol.FrameType;
import net.roamproxy.protocol.Handshake;
import net.roamproxy.protocol.Handshake.Status;
import net.roamproxy.protocol.PresharedKey;
import net.roamproxy.protocol.ProtocolException;
import net.roamproxy.protocol.UnsupportedVersionException;

/**
 * sproxy's side of one connection's handshake, run on its own short-lived thread:
 * HELLO, then (with a pre-shared key) CHALLENGE and PROOF, then a new session or the hand-off
 * of the link to the session it resumes. The caller bounds the exchange in time by closing the
 * link at the deadline, until the exchange {@linkplain #run claims} the link: from then on the
 * handshake thread alone may close it or hand it to a session, so the deadline can never reset
 * a link that a session owns.
 */
final class ServerHandshake {
    private static final Logger log = LogManager.getLogger(ServerHandshake.class);

    private final ServerConfig config;
    private final SessionTable sessions;
    private final PresharedKey key;
    private final Link link;
    /** Takes the link from the deadline timer; false if the deadline already closed it. */
    private final BooleanSupplier claim;
    private final TargetConnector connector;

    ServerHandshake(ServerConfig config, SessionTable sessions, PresharedKey key, Link link, BooleanSupplier claim,
                    TargetConnector connector) {
        this.config = config;
        this.sessions = sessions;
        this.key = key;
        this.link = link;
        this.claim = claim;
        this.connector = connector;
    }

    /**
     * Runs the exchange. A refused link is closed here; on an exception the caller closes it.
     * Once the peer's messages are read and valid, the link is claimed from the deadline before
     * anything slow (the target connect) or irreversible (a hand-off) happens.
     */
    void run() throws IOException {
        int timeout = (int) config.link().handshakeTimeout().toMillis();
        Frame first;
        try {
            first = link.read(timeout);
        } catch (UnsupportedVersionException e) {
            log.warn("refused link from {}: {}", link.peer(), e.getMessage());
            reply(Status.VERSION_MISMATCH);
            return;
        }
        Handshake hello = Handshake.decode(expect(first, FrameType.HELLO));
        if (key != null && !proven(hello, first, timeout)) {
            return;
        }
        if (!claim.getAsBoolean()) {
            throw new IOException("the handshake deadline passed");
        }
        if (hello.mode() == Handshake.Mode.NEW) {
            newSession(first, hello);
        } else {
            resume(first, hello);
        }
    }

    private static Frame expect(Frame f, FrameType type) throws ProtocolException {
        if (f.type() != type) {
            throw new ProtocolException("expected " + type + ", got " + f.type());
        }
        return f;
    }

    /** The pre-shared-key exchange; false (and the link refused) if cproxy does not know the key. */
    private boolean proven(Handshake hello, Frame first, int timeout) throws IOException {
        byte[] challenge = key.challenge(hello.nonce());
        link.send(new Frame(FrameType.CHALLENGE, 0, 0, challenge));
        Frame proof = expect(link.read(timeout), FrameType.PROOF);
        if (key.clientProofValid(hello.nonce(), challenge, first.payload(), proof.payload())) {
            return true;
        }
        log.warn("refused link from {}: it does not know the pre-shared key", link.peer());
        reply(Status.AUTH_FAILED);
        return false;
    }

    private void newSession(Frame first, Handshake hello) {
        SessionTable.Session earlier = sessions.unanswered(hello.secret());
        if (earlier != null) {
            log.info("{}: cproxy at {} asks again for the new session it asked for before: our answer was lost "
                    + "with that link, so it gets this session, not a second one", earlier.relay().name(), link.peer());
            earlier.links().offer(new Attachment(link, first.ack(), hello.window(), Handshake.welcome(
                    Status.NEW_SESSION, earlier.id(), earlier.secret(), config.link().bufferBytes())));
            return;
        }
        if (!sessions.reserve(config.maxSessions())) {
            log.warn("refused new session from {}: the limit of {} sessions is reached (--max-sessions)",
                    link.peer(), config.maxSessions());
            reply(Status.BUSY);
            return;
        }
        SessionTable.Session s = null;
        Socket target = null;
        try {
            target = connector.connect(new InetSocketAddress(config.targetHost(), config.targetPort()),
                    (int) config.link().handshakeTimeout().toMillis());
            s = sessions.create(target, new Attachment(link, first.ack(), hello.window(), null), config.link(),
                    hello.secret());
            if (s == null) {
                log.info("refused new session from {}: sproxy is shutting down", link.peer());
                link.close();
                return;
            }
        } catch (IOException e) {
            log.warn("refused new session from {}: target {}:{} unavailable: {}", link.peer(), config.targetHost(),
                    config.targetPort(), e.getMessage());
            reply(Status.TARGET_UNAVAILABLE);
            return;
        } finally {
            if (s == null) {
                sessions.release();
                Sockets.closeQuietly(target);
            }
        }
        log.info("{}: new session from {}, connected to {}:{}", s.relay().name(), link.peer(), config.targetHost(),
                config.targetPort());
        try {
            s.relay().start();
        } catch (IOException e) {
            s.relay().close("target connection failed: " + e.getMessage());
        }
    }

    private void resume(Frame first, Handshake hello) {
        SessionTable.Session s = sessions.get(hello.sessionId());
        if (s == null || !hello.secretMatches(s.secret()) || s.relay().isClosed()) {
            // One answer for "no such session" and "wrong secret": no oracle for guessers.
            log.info("refused resume of session {} from {}: {}", Handshake.idText(hello.sessionId()), link.peer(),
                    s == null ? "no such session (it ended, or sproxy restarted)" : "wrong credential");
            reply(Status.UNKNOWN_SESSION);
            return;
        }
        log.info("{}: cproxy is back from {}", s.relay().name(), link.peer());
        s.links().offer(new Attachment(link, first.ack(), hello.window(),
                Handshake.welcome(Status.RESUMED, hello.sessionId(), s.secret(), config.link().bufferBytes())));
    }

    private void reply(Status status) {
        try {
            link.send(new Frame(FrameType.WELCOME, 0, 0, Handshake.refusal(status).encode()));
        } catch (IOException ignored) {
            // it is being refused anyway
        }
        link.close();
    }
}
