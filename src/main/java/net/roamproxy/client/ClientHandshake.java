package net.roamproxy.client;

import java.io.IOException;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import net.roamproxy.link.Attachment;
import net.roamproxy.link.Link;
import net.roamproxy.link.SessionView;
import net.roamproxy.protocol.Frame;
import net.roamproxy.protocol.FrameType;
import net.roamproxy.protocol.Handshake;
import net.roamproxy.protocol.Handshake.Mode;
import net.roamproxy.protocol.PresharedKey;
import net.roamproxy.protocol.ProtocolException;

/**
 * cproxy's half of a link's opening handshake: HELLO (new session or resume), the optional
 * pre-shared-key challenge, and sproxy's WELCOME. Remembers the session's id and secret from
 * the first WELCOME, so every later link asks for a resume.
 *
 * <p>Threading: used by the session's worker only.
 */
final class ClientHandshake {
    private static final Logger log = LogManager.getLogger(ClientHandshake.class);

    private final ClientConfig config;
    private final PresharedKey key;
    private long sessionId;
    private byte[] secret;
    /**
     * Sent in place of the secret while asking for a new session, the same on every attempt:
     * if sproxy created the session but its WELCOME was lost with the link, the next attempt
     * continues that session instead of opening a second one.
     */
    private final byte[] newSessionToken = Handshake.randomBytes(Handshake.SECRET_SIZE);

    ClientHandshake(ClientConfig config) {
        this.config = config;
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
            Mode mode = secret == null ? Mode.NEW : Mode.RESUME;
            byte[] credential = secret == null ? newSessionToken : secret;
            Handshake hello = Handshake.hello(mode, sessionId, credential, relay.window());
            byte[] helloPayload = hello.encode();
            link.send(new Frame(FrameType.HELLO, 0, relay.delivered(), helloPayload));
            int timeout = (int) config.link().handshakeTimeout().toMillis();
            Frame f = link.read(timeout);
            if (f.type() == FrameType.CHALLENGE) {
                f = answerChallenge(link, hello, helloPayload, f, timeout);
            } else if (key != null && f.type() == FrameType.WELCOME) {
                throw new Refused("sproxy did not prove the pre-shared key: it runs without --secret-file, "
                        + "or it is not our sproxy");
            }
            if (f.type() != FrameType.WELCOME) {
                throw new Refused("sproxy answered HELLO with " + f.type() + ": is " + link.peer()
                        + " really sproxy?");
            }
            Handshake w = Handshake.decode(f);
            String named = null;
            switch (w.status()) {
                case NEW_SESSION -> {
                    sessionId = w.sessionId();
                    secret = w.secret();
                    named = "session " + Handshake.idText(sessionId);
                    log.info("{}: established with sproxy at {} for {}", named, link.peer(), relay.name());
                }
                case RESUMED -> {
                    // the relay logs the resume with its replay figures
                }
                case UNKNOWN_SESSION -> throw new Refused("sproxy no longer knows this session (it ended there, "
                        + "timed out, or sproxy restarted)", true);
                case VERSION_MISMATCH -> throw new Refused("sproxy speaks another protocol version: upgrade one side");
                case TARGET_UNAVAILABLE -> throw new Refused("sproxy cannot reach its target service");
                case BUSY -> throw new Refused("sproxy has reached its session limit");
                case AUTH_FAILED -> throw new Refused("sproxy rejected our pre-shared key: the --secret-file "
                        + "contents differ between the hosts");
                default -> throw new Refused("sproxy refused the session: " + w.status());
            }
            return new Attachment(link, f.ack(), w.window(), null, named);
        } catch (ProtocolException e) {
            throw new Refused("sproxy at " + link.peer() + " broke the protocol: " + e.getMessage());
        }
    }

    /** The pre-shared-key exchange: check sproxy's proof, send ours, return the frame after. */
    private Frame answerChallenge(Link link, Handshake hello, byte[] helloPayload, Frame challenge, int timeout)
            throws IOException {
        if (key == null) {
            throw new Refused("sproxy demands a pre-shared key: start cproxy with --secret-file");
        }
        if (!key.serverProofValid(hello.nonce(), challenge.payload())) {
            throw new Refused("sproxy does not know our pre-shared key: the --secret-file contents differ "
                    + "between the hosts, or it is not our sproxy");
        }
        link.send(new Frame(FrameType.PROOF, 0, 0, key.clientProof(hello.nonce(), challenge.payload(), helloPayload)));
        return link.read(timeout);
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
