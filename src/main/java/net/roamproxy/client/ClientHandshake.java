package net.roamproxy.client;

import java.io.IOException;
import java.util.Arrays;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import net.roamproxy.link.Attachment;
import net.roamproxy.link.FrameWriter;
import net.roamproxy.link.Link;
import net.roamproxy.link.SessionView;
import net.roamproxy.protocol.Frame;
import net.roamproxy.protocol.FrameType;
import net.roamproxy.protocol.Handshake;
import net.roamproxy.protocol.Hello;
import net.roamproxy.protocol.PresharedKey;
import net.roamproxy.protocol.ProtocolException;
import net.roamproxy.protocol.SessionKeys;
import net.roamproxy.protocol.UnsupportedVersionException;
import net.roamproxy.protocol.Welcome;
import net.roamproxy.protocol.Wire;

/**
 * cproxy's half of a link's opening handshake ({@link Handshake} draws it): HELLO (a new
 * session with our key share, or a resume), sproxy's CHALLENGE and our PROOF where something
 * must be proven, and sproxy's WELCOME. Derives the session secret from the first WELCOME and
 * keeps it with the session id, so every later link asks for a resume and proves the secret.
 *
 * <p>Threading: used by the session's worker only.
 */
final class ClientHandshake {
    private static final Logger log = LogManager.getLogger(ClientHandshake.class);

    private final ClientConfig config;
    private final PresharedKey key;
    /** The service a new session asks sproxy for; "" for its default. */
    private final String service;
    /**
     * Our half of the new session's key agreement, the same on every attempt until sproxy
     * answers: if sproxy created the session but its WELCOME was lost with the link, it
     * recognises the retry by this key share and continues that session instead of opening a
     * second one. Dropped once the secret is derived.
     */
    private SessionKeys.KeyShare keyShare = SessionKeys.KeyShare.generate();
    private long sessionId;
    private byte[] secret;

    ClientHandshake(ClientConfig config, String service) {
        this.config = config;
        this.service = service;
        this.key = config.presharedKey() == null ? null : new PresharedKey(config.presharedKey());
    }

    /** Whether sproxy has accepted the session (every later link is a resume). */
    boolean established() {
        return secret != null;
    }

    /**
     * Runs the handshake on a fresh link.
     *
     * @throws Refused if sproxy's answer ends the session
     * @throws IOException if the link failed (worth another try)
     */
    Attachment run(Link link, SessionView relay) throws IOException {
        try {
            Hello hello = secret == null ? Hello.forNew(keyShare.publicKey(), relay.window(), service)
                    : Hello.forResume(sessionId, relay.window());
            byte[] helloPayload = hello.encode();
            long ack = relay.delivered();
            FrameWriter writer = new FrameWriter(link, relay.name());
            writer.hello(ack, hello);
            int timeout = (int) config.link().handshakeTimeout().toMillis();
            Frame f = link.read(timeout);
            byte[] clientProof = null;
            byte[] serverNonce = null;
            if (f.type() == FrameType.CHALLENGE) {
                serverNonce = Arrays.copyOf(f.payload(), Handshake.CHALLENGE_NONCE_SIZE);
                clientProof = secret == null ? null : SessionKeys.clientResumeProof(secret, helloPayload, ack,
                        serverNonce);
                writer.proof(answer(hello, helloPayload, f.payload(), clientProof));
                f = link.read(timeout);
            } else if (key != null && f.type() == FrameType.WELCOME && Welcome.decode(f).status().accepted()) {
                throw new Refused("sproxy did not prove the pre-shared key: it runs without --secret-file, "
                        + "or it is not our sproxy");
            }
            if (f.type() != FrameType.WELCOME) {
                throw new Refused("sproxy answered HELLO with " + f.type() + ": is " + link.peer()
                        + " really sproxy?");
            }
            Welcome w = Welcome.decode(f);
            String named = null;
            switch (w.status()) {
                case NEW_SESSION -> named = established(link, relay, w);
                case RESUMED -> {
                    if (clientProof == null || !SessionKeys.same(w.proof(),
                            SessionKeys.serverResumeProof(secret, helloPayload, serverNonce, clientProof))) {
                        // Not fatal: whoever answered does not know the secret, the real sproxy may.
                        throw new IOException("the answer to our resume from " + link.peer()
                                + " does not prove the session secret: not our sproxy");
                    }
                    // the relay logs the resume with its replay figures
                }
                case UNKNOWN_SESSION -> throw new Refused("sproxy no longer knows this session (it ended there, "
                        + "timed out, or sproxy restarted)", true);
                case VERSION_MISMATCH -> throw new Refused("sproxy speaks another protocol version: upgrade one side");
                case TARGET_UNAVAILABLE -> throw new Refused("sproxy cannot reach its target service");
                case BUSY -> throw new Refused("sproxy has reached its session limit");
                case AUTH_FAILED -> throw new Refused("sproxy rejected our pre-shared key: the --secret-file "
                        + "contents differ between the hosts");
                case BAD_PROOF -> throw new Refused("sproxy rejected our proof of the session secret");
                case TLS_REQUIRED -> throw new Refused("sproxy requires TLS: start cproxy with --tls");
                case UNKNOWN_SERVICE -> throw new Refused("sproxy offers no service '" + service + "': compare "
                        + "cproxy's --forward with sproxy's --service");
                default -> throw new Refused("sproxy refused the session: " + w.status());
            }
            return new Attachment(link, f.ack(), w.window(), null, named);
        } catch (UnsupportedVersionException e) {
            throw new Refused("sproxy at " + link.peer() + " speaks protocol version " + e.version()
                    + ", this cproxy speaks " + Wire.VERSION + ": upgrade one side");
        } catch (ProtocolException e) {
            throw new Refused("sproxy at " + link.peer() + " broke the protocol: " + e.getMessage());
        }
    }

    /** The PROOF payload answering {@code challenge}: the resume proof, then the key proof. */
    private byte[] answer(Hello hello, byte[] helloPayload, byte[] challenge, byte[] resumeProof) throws Refused {
        if (key == null && challenge.length > Handshake.CHALLENGE_NONCE_SIZE) {
            throw new Refused("sproxy demands a pre-shared key: start cproxy with --secret-file");
        }
        if (key != null && !key.serverProofValid(hello.nonce(), challenge)) {
            throw new Refused("sproxy does not know our pre-shared key: the --secret-file contents differ "
                    + "between the hosts, or it is not our sproxy");
        }
        if (key == null) {
            return resumeProof;
        }
        byte[] keyProof = key.clientProof(hello.nonce(), Arrays.copyOf(challenge, Handshake.CHALLENGE_NONCE_SIZE),
                helloPayload);
        if (resumeProof == null) {
            return keyProof;
        }
        byte[] both = Arrays.copyOf(resumeProof, 2 * Handshake.PROOF_SIZE);
        System.arraycopy(keyProof, 0, both, Handshake.PROOF_SIZE, Handshake.PROOF_SIZE);
        return both;
    }

    /**
     * sproxy created the session: derive the secret and check sproxy's confirmation of it.
     *
     * @return the session's name for log lines from now on
     */
    private String established(Link link, SessionView relay, Welcome w) throws IOException {
        byte[] s = SessionKeys.sessionSecret(keyShare.agree(w.keyShare()), w.sessionId(), keyShare.publicKey(),
                w.keyShare(), key == null ? null : key.salt());
        if (!SessionKeys.same(w.proof(), SessionKeys.newSessionConfirmation(s))) {
            throw new Refused("sproxy's confirmation of the new session's key does not match: the handshake was "
                    + "altered on its way, or the --secret-file contents differ between the hosts");
        }
        sessionId = w.sessionId();
        secret = s;
        keyShare = null;
        String named = "session " + Handshake.idText(sessionId);
        log.info("{}: established with sproxy at {} for {}", named, link.peer(), relay.name());
        return named;
    }

    /** sproxy answered, and the answer ends the session. */
    static final class Refused extends IOException {
        private static final long serialVersionUID = 1L;
        /** sproxy says the session does not exist there (any more). */
        final boolean unknownSession;

        Refused(String message) {
            this(message, false);
        }

        Refused(String message, boolean unknownSession) {
            super(message);
            this.unknownSession = unknownSession;
        }
    }
}
