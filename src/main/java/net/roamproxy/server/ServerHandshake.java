package net.roamproxy.server;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.Arrays;
import java.util.function.BooleanSupplier;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import net.roamproxy.link.Attachment;
import net.roamproxy.link.FrameWriter;
import net.roamproxy.link.Link;
import net.roamproxy.link.Sockets;
import net.roamproxy.protocol.Frame;
import net.roamproxy.protocol.FrameType;
import net.roamproxy.protocol.Handshake;
import net.roamproxy.protocol.Handshake.Status;
import net.roamproxy.protocol.Hello;
import net.roamproxy.protocol.PresharedKey;
import net.roamproxy.protocol.ProtocolException;
import net.roamproxy.protocol.SessionKeys;
import net.roamproxy.protocol.TlsRecordException;
import net.roamproxy.protocol.UnsupportedVersionException;
import net.roamproxy.protocol.Welcome;
import net.roamproxy.protocol.Wire;

/**
 * sproxy's side of one connection's handshake, run on its own short-lived thread: HELLO;
 * then, for a resume or with a pre-shared key, CHALLENGE and PROOF; then a new session or the
 * hand-off of the link to the session it resumes ({@link Handshake} draws the exchange). A
 * refused link is answered with a WELCOME carrying the reason and closed; a resume whose proof
 * is wrong (replayed or forged) never reaches the session. The caller bounds the exchange in
 * time by closing the link at the deadline, until the exchange claims the link: from then on
 * the handshake thread alone may close it or hand it to a session, so the deadline can never
 * reset a link that a session owns.
 */
final class ServerHandshake {
    private static final Logger log = LogManager.getLogger(ServerHandshake.class);
    /**
     * What a version-1 cproxy understands as "another protocol version": its WELCOME, code 3,
     * window 1, everything else zero.
     */
    private static final byte[] VERSION_1_REFUSAL = versionOneRefusal();
    /**
     * What a TLS client understands as "no": a plaintext TLS alert record (type 21, version
     * 3.3, length 2), fatal (2), handshake_failure (40). Its handshake then fails at once with
     * "Received fatal alert" instead of waiting or retrying.
     */
    private static final byte[] TLS_HANDSHAKE_FAILURE = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28};

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
     * Once the peer's messages are read and proven, the link is claimed from the deadline before
     * anything slow (the target connect) or irreversible (a hand-off) happens.
     */
    void run() throws IOException {
        int timeout = (int) config.link().handshakeTimeout().toMillis();
        Frame first;
        try {
            first = link.read(timeout);
        } catch (TlsRecordException e) {
            log.warn("refused link from {}: it speaks TLS, and this sproxy runs without --tls (start both with "
                    + "--tls, or neither)", link.peer());
            sendQuietly(TLS_HANDSHAKE_FAILURE);
            link.close();
            return;
        } catch (UnsupportedVersionException e) {
            log.warn("refused link from {}: it speaks protocol version {}, this sproxy speaks {}: upgrade it",
                    link.peer(), e.version(), Wire.VERSION);
            if (e.version() == 1) {
                sendQuietly(VERSION_1_REFUSAL);
                link.close();
            } else {
                reply(Status.VERSION_MISMATCH);
            }
            return;
        }
        Hello hello = Hello.decode(first);
        if (hello.mode() == Handshake.Mode.NEW) {
            if (key == null || challenge(first, hello, null) != null) {
                claim();
                newSession(first, hello);
            }
        } else {
            resume(first, hello);
        }
    }

    private void claim() throws IOException {
        if (!claim.getAsBoolean()) {
            throw new IOException("the handshake deadline passed");
        }
    }

    /**
     * Sends a CHALLENGE and checks the PROOF: the pre-shared key if there is one, and the resume
     * proof if {@code s} is the session being resumed.
     *
     * @return the challenge's server nonce if everything was proven; {@code null} if the link
     *         was refused
     */
    private byte[] challenge(Frame first, Hello hello, SessionTable.Entry s) throws IOException {
        byte[] nonce = Handshake.randomBytes(Handshake.CHALLENGE_NONCE_SIZE);
        new FrameWriter(link, link.peer()).challenge(key == null ? nonce : key.challenge(hello.nonce(), nonce));
        Frame proof = link.read((int) config.link().handshakeTimeout().toMillis());
        if (proof.type() != FrameType.PROOF) {
            throw new ProtocolException("expected PROOF, got " + proof.type());
        }
        int expected = (s == null ? 0 : Handshake.PROOF_SIZE) + (key == null ? 0 : Handshake.PROOF_SIZE);
        byte[] p = proof.payload();
        if (p.length != expected) {
            throw new ProtocolException("PROOF is " + p.length + " bytes, expected " + expected);
        }
        if (key != null && !key.clientProofValid(hello.nonce(), nonce, first.payload(),
                Arrays.copyOfRange(p, p.length - Handshake.PROOF_SIZE, p.length))) {
            log.warn("refused link from {}: it does not know the pre-shared key", link.peer());
            reply(Status.AUTH_FAILED);
            return null;
        }
        if (s != null && !SessionKeys.same(Arrays.copyOf(p, Handshake.PROOF_SIZE),
                SessionKeys.clientResumeProof(s.secret(), first.payload(), first.ack(), nonce))) {
            log.warn("{}: refused resume from {}: its proof of the session secret is wrong (a replayed or forged "
                    + "resume); the session and its link are untouched", s.session().name(), link.peer());
            reply(Status.BAD_PROOF);
            return null;
        }
        return nonce;
    }

    private void newSession(Frame first, Hello hello) throws IOException {
        SessionTable.Entry earlier = sessions.unanswered(hello.keyShare());
        if (earlier != null) {
            log.info("{}: cproxy at {} asks again for the new session it asked for before: our answer was lost "
                    + "with that link, so it gets this session, not a second one", earlier.session().name(), link.peer());
            earlier.links().offer(new Attachment(link, first.ack(), hello.window(), earlier.welcome()));
            return;
        }
        ServerConfig.Service service = config.service(hello.service());
        if (service == null) {
            // Only the services named on the command line or in the config file: never an open proxy.
            log.warn("refused new session from {}: it asks for service '{}', which this sproxy does not offer "
                    + "(it offers: {})", link.peer(), hello.service(), offered());
            reply(Status.UNKNOWN_SERVICE);
            return;
        }
        if (!sessions.reserve(config.maxSessions())) {
            log.warn("refused new session from {}: the limit of {} sessions is reached (--max-sessions)",
                    link.peer(), config.maxSessions());
            reply(Status.BUSY);
            return;
        }
        SessionTable.Entry s = null;
        Socket target = null;
        try {
            target = connector.connect(new InetSocketAddress(service.host(), service.port()),
                    (int) config.link().handshakeTimeout().toMillis());
            s = sessions.create(target, new Attachment(link, first.ack(), hello.window(), null), config.link(),
                    hello.keyShare(), key == null ? null : key.salt(), service.name());
            if (s == null) {
                log.info("refused new session from {}: sproxy is shutting down", link.peer());
                link.close();
                return;
            }
        } catch (ProtocolException e) {
            throw e;
        } catch (IOException e) {
            log.warn("refused new session from {}: service {} at {}:{} unavailable: {}", link.peer(), service.name(),
                    service.host(), service.port(), e.getMessage());
            reply(Status.TARGET_UNAVAILABLE);
            return;
        } finally {
            if (s == null) {
                sessions.release();
                Sockets.closeQuietly(target);
            }
        }
        log.info("{}: new session from {} for service {}, connected to {}:{}", s.session().name(), link.peer(),
                service.name(), service.host(), service.port());
        try {
            s.session().start();
        } catch (IOException e) {
            s.session().close("target connection failed: " + e.getMessage());
        }
    }

    private String offered() {
        StringBuilder b = new StringBuilder(ServerConfig.DEFAULT_SERVICE);
        config.services().keySet().stream().sorted().forEach(n -> b.append(", ").append(n));
        return b.toString();
    }

    private void resume(Frame first, Hello hello) throws IOException {
        SessionTable.Entry s = sessions.get(hello.sessionId());
        if (s == null || s.session().isClosed()) {
            log.info("refused resume of session {} from {}: no such session (it ended, or sproxy restarted)",
                    Handshake.idText(hello.sessionId()), link.peer());
            reply(Status.UNKNOWN_SESSION);
            return;
        }
        byte[] nonce = challenge(first, hello, s);
        if (nonce == null) {
            return;
        }
        claim();
        log.info("{}: cproxy is back from {}", s.session().name(), link.peer());
        byte[] clientProof = SessionKeys.clientResumeProof(s.secret(), first.payload(), first.ack(), nonce);
        s.links().offer(new Attachment(link, first.ack(), hello.window(), new Welcome(Status.RESUMED,
                hello.sessionId(), new byte[Handshake.KEY_SIZE], config.link().bufferBytes(),
                SessionKeys.serverResumeProof(s.secret(), first.payload(), nonce, clientProof))));
    }

    private void reply(Status status) {
        sendQuietly(FrameWriter.refusalFrame(status));
        link.close();
    }

    private void sendQuietly(byte[] frame) {
        try {
            link.send(frame, 0, frame.length);
        } catch (IOException ignored) {
            // it is being refused anyway
        }
    }

    private static byte[] versionOneRefusal() {
        int payload = 45;
        byte[] b = new byte[Wire.HEADER_SIZE + payload];
        b[0] = (byte) (Wire.MAGIC >>> 8);
        b[1] = (byte) Wire.MAGIC;
        b[2] = 1; // version
        b[3] = (byte) FrameType.WELCOME.code();
        b[7] = (byte) payload;
        b[Wire.HEADER_SIZE] = 3; // version 1's VERSION_MISMATCH
        b[Wire.HEADER_SIZE + 28] = 1; // window (offset 25, 4 bytes big-endian) = 1
        return b;
    }
}
