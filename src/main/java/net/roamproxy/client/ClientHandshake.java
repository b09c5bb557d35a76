package net.roamproxy.client;

import java.io.IOException;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import net.roamproxy.session.Attachment;
import net.roamproxy.session.Link;
import net.roamproxy.session.SessionView;
import net.roamproxy.trust.ServerTrust;
import net.roamproxy.wire.Frame;
import net.roamproxy.wire.FrameProtection;
import net.roamproxy.wire.FrameType;
import net.roamproxy.wire.FrameWriter;
import net.roamproxy.wire.Handshake;
import net.roamproxy.wire.Hello;
import net.roamproxy.wire.HostKey;
import net.roamproxy.wire.KeySchedule;
import net.roamproxy.wire.KeyShare;
import net.roamproxy.wire.KeyShareStock;
import net.roamproxy.wire.ProtocolException;
import net.roamproxy.wire.Refusal;
import net.roamproxy.wire.Transcript;
import net.roamproxy.wire.Welcome;
import net.roamproxy.wire.Wire;

/**
 * cproxy's half of a link's opening handshake ({@link Handshake} draws it). A new session:
 * HELLO NEW; sproxy's signed WELCOME, whose host key must be the one we trust; our sealed
 * PROOF; sproxy's sealed TOKEN. A resume: HELLO RESUME; sproxy's WELCOME with its MAC; our
 * PROOF, then data at once. Keeps the session id, secret and refusal token once the session
 * exists, so every later link resumes.
 *
 * <p>Only an answer that checks out can end the session ({@link Refused}): a refusal signed
 * by the host key we trust (at first contact, by the key it names), an UNKNOWN_SESSION with the
 * MAC of the session's refusal token, or a new session's WELCOME signed by a host key that is
 * not the one we trust (as ssh refuses a changed host key). Anything else (an unverifiable refusal, a bad
 * signature or MAC, junk, another protocol version, a reset, a timeout) is an
 * {@link IOException}: a failed dial, after which the dialer tries again.
 *
 * <p>Threading: used by the session's worker only.
 */
final class ClientHandshake {
    private static final Logger log = LogManager.getLogger(ClientHandshake.class);

    private final ClientConfig config;
    private final ServerTrust trust;
    /** The service a new session asks sproxy for; "" for its default. */
    private final String service;
    private final KeyShareStock keyShares;
    private long sessionId;
    private byte[] secret;
    private byte[] token;

    ClientHandshake(ClientConfig config, ServerTrust trust, String service, KeyShareStock keyShares) {
        this.config = config;
        this.keyShares = keyShares;
        this.trust = trust;
        this.service = service;
    }

    /** Whether sproxy has accepted the session (every later link is a resume). */
    boolean established() {
        return secret != null;
    }

    /**
     * Runs the handshake on a fresh link.
     *
     * @throws Refused if an authenticated answer ends the session
     * @throws IOException if the link failed or the answer did not check out (worth another try)
     */
    Attachment run(Link link, SessionView relay) throws IOException {
        KeyShare share = keyShares.take();
        boolean resume = established();
        Hello hello = resume ? Hello.forResume(sessionId, share.publicKey(), relay.window())
                : Hello.forNew(share.publicKey(), relay.window(), service);
        FrameWriter<Link> writer = new FrameWriter<>(link, relay.name());
        Transcript transcript = new Transcript().add(writer.hello(resume ? relay.delivered() : 0, hello));
        Frame f = read(link);
        if (f.type() == FrameType.REFUSED) {
            throw refusal(link, transcript, f, resume, null);
        }
        if (f.type() != FrameType.WELCOME) {
            throw new ProtocolException("sproxy answered HELLO with " + f.type());
        }
        Welcome w = Welcome.decode(f);
        if (w.status() != (resume ? Handshake.Status.RESUMED : Handshake.Status.NEW_SESSION)) {
            throw new Unverified("sproxy at " + link.peer() + " answered our " + hello.mode() + " with " + w.status());
        }
        byte[] welcome = Wire.encode(f);
        return resume ? resumed(link, writer, transcript, share, w, welcome, f.ack())
                : created(link, writer, transcript, share, w, welcome, relay);
    }

    private Attachment resumed(Link link, FrameWriter<Link> writer, Transcript transcript, KeyShare share, Welcome w,
                               byte[] welcome, long peerAck) throws IOException {
        if (w.sessionId() != sessionId || !KeySchedule.same(w.auth(),
                KeySchedule.serverProof(secret, transcript.hashWith(welcome, Handshake.MAC_SIZE)))) {
            throw new Unverified("the answer to our resume from " + link.peer()
                    + " does not prove the session secret: not our sproxy");
        }
        byte[] th = transcript.add(welcome).hash();
        protect(link, KeySchedule.linkKeys(secret, share.agree(w.keyShare()), th));
        writer.proof(KeySchedule.clientProof(secret, th));
        // The relay logs the resume with its replay figures.
        return new Attachment(link, peerAck, w.window());
    }

    /**
     * sproxy offers a new session: check its signature and host key, derive the keys, prove
     * them, and wait for sproxy's TOKEN (or its signed refusal).
     */
    private Attachment created(Link link, FrameWriter<Link> writer, Transcript transcript, KeyShare share, Welcome w,
                               byte[] welcome, SessionView relay) throws IOException {
        byte[] hostKey = w.hostKey();
        byte[] signed = KeySchedule.welcomeSigned(transcript.hashWith(welcome, Handshake.SIGNATURE_SIZE));
        if (!HostKey.verify(hostKey, signed, w.auth())) {
            throw new Unverified("the new session's WELCOME from " + link.peer()
                    + " is not signed by the host key it names");
        }
        untrustedEndsSession(hostKey);
        byte[] th = transcript.add(welcome).hash();
        byte[] shared = share.agree(w.keyShare());
        byte[] s = KeySchedule.sessionSecret(shared, config.presharedKey(), th);
        protect(link, KeySchedule.linkKeys(s, shared, th));
        transcript.add(writer.proof(KeySchedule.clientProof(s, th)));
        Frame f = read(link);
        if (f.type() == FrameType.REFUSED) {
            throw refusal(link, transcript, f, false, hostKey);
        }
        if (f.type() != FrameType.TOKEN) {
            throw new ProtocolException("sproxy answered our PROOF with " + f.type());
        }
        // Said at once, before any data: sproxy closes a session it never hears from within
        // seconds, and our application may have nothing to say yet.
        writer.heartbeat(0, 0);
        trust.confirm(hostKey);
        sessionId = w.sessionId();
        secret = s;
        token = f.payload();
        String named = "session " + Handshake.idText(sessionId);
        log.info("{}: established with sproxy at {} (host key {}) for {}", named, link.peer(),
                HostKey.fingerprint(hostKey), relay.name());
        return new Attachment(link, 0, w.window(), named);
    }

    private void untrustedEndsSession(byte[] hostKey) throws IOException {
        try {
            trust.check(hostKey);
        } catch (ServerTrust.Untrusted e) {
            throw new Refused(e.getMessage());
        }
    }

    private static void protect(Link link, KeySchedule.LinkKeys k) {
        link.protect(FrameProtection.sealer(k.c2sKey(), k.c2sIv()), FrameProtection.opener(k.s2cKey(), k.s2cIv()));
    }

    private Frame read(Link link) throws IOException {
        return link.read((int) config.link().handshakeTimeout().toMillis());
    }

    /**
     * What a REFUSED means: the end of the session if it checks out, else a failed dial.
     *
     * @param hostKey the host key of this link's WELCOME, or {@code null} before one arrived
     */
    private IOException refusal(Link link, Transcript transcript, Frame f, boolean resume, byte[] hostKey)
            throws IOException {
        Refusal r = Refusal.decode(f);
        byte[] frame = Wire.encode(f);
        if (!resume && r.signed()) {
            byte[] key = r.hostKey();
            byte[] signed = KeySchedule.refusalSigned(transcript.hashWith(frame, Handshake.SIGNATURE_SIZE));
            if ((hostKey == null || KeySchedule.same(hostKey, key)) && trust.mayRefuse(key)
                    && HostKey.verify(key, signed, r.tag())) {
                return new Refused(reason(r.status()), r.status(), false);
            }
        } else if (resume && r.status() == Handshake.Status.UNKNOWN_SESSION && r.auth().length == Handshake.MAC_SIZE
                && KeySchedule.same(r.tag(), KeySchedule.refusalMac(token,
                transcript.hashWith(frame, Handshake.MAC_SIZE)))) {
            return new Refused(reason(r.status()), r.status(), true);
        }
        if (resume && r.status() == Handshake.Status.WRONG_INSTANCE) {
            // A load balancer sent our resume to another sproxy instance: our session may live on
            // its own, so this is a failed dial like any other, never the end.
            return new WrongInstance("the sproxy instance at " + link.peer() + " does not hold our session "
                    + "(the load balancer routed our resume to another instance)");
        }
        return new Unverified("sproxy at " + link.peer() + " refused with " + r.status()
                + ", but the refusal does not check out: ignored");
    }

    private String reason(Handshake.Status status) {
        return switch (status) {
            case UNKNOWN_SESSION -> "sproxy no longer knows this session (it ended there, timed out, or sproxy "
                    + "restarted)";
            case TARGET_UNAVAILABLE -> "sproxy cannot reach its target service";
            case BUSY -> "sproxy has reached its session limit";
            case AUTH_FAILED -> "sproxy could not check our proof of the new session's keys: the --secret-file "
                    + "contents differ between the hosts (or only one side has one)";
            case UNKNOWN_SERVICE -> "sproxy offers no service '" + service + "': compare cproxy's --forward with "
                    + "sproxy's --service";
            case VERSION_MISMATCH, WRONG_INSTANCE, NEW_SESSION, RESUMED -> "sproxy refused the session: " + status;
        };
    }

    /** An authenticated answer that ends the session. */
    static final class Refused extends IOException {
        private static final long serialVersionUID = 1L;
        /** sproxy says the session does not exist there (any more). */
        final boolean unknownSession;
        /** The status of sproxy's refusal, or {@code null} when we refused sproxy (its host key). */
        final transient Handshake.Status status;

        Refused(String message) {
            this(message, null, false);
        }

        Refused(String message, Handshake.Status status, boolean unknownSession) {
            super(message);
            this.status = status;
            this.unknownSession = unknownSession;
        }
    }

    /** A resume refused by an sproxy instance that is not the session's: worth another try. */
    static final class WrongInstance extends IOException {
        private static final long serialVersionUID = 1L;

        WrongInstance(String message) {
            super(message);
        }
    }

    /** An answer that does not check out: a refusal, signature or MAC someone else may have made. */
    static final class Unverified extends IOException {
        private static final long serialVersionUID = 1L;

        Unverified(String message) {
            super(message);
        }
    }
}
