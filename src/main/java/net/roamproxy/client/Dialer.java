package net.roamproxy.client;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.concurrent.TimeUnit;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import net.roamproxy.link.Attachment;
import net.roamproxy.link.Link;
import net.roamproxy.link.LinkProvider;
import net.roamproxy.link.LinkSettings;
import net.roamproxy.link.Relay;
import net.roamproxy.link.Sockets;
import net.roamproxy.protocol.Frame;
import net.roamproxy.protocol.FrameType;
import net.roamproxy.protocol.Handshake;
import net.roamproxy.protocol.Handshake.Mode;
import net.roamproxy.protocol.PresharedKey;
import net.roamproxy.protocol.ProtocolException;

/**
 * cproxy's side of a session's links: dials sproxy from whatever address the host has now,
 * asks for a new session the first time and a resume afterwards, and keeps trying until it
 * succeeds, the session is refused for good, or the detach timeout passes.
 *
 * <p>Retries start at {@value #FIRST_RETRY_MS} ms and double up to a cap of at most
 * {@value #MAX_RETRY_MS} ms: while the address is gone, connecting fails at once ("network is
 * unreachable"), and a short cap means data flows again soon after a new address appears.
 * Used only by the session's worker thread, except {@link #close()}.
 */
final class Dialer implements LinkProvider {
    private static final Logger log = LogManager.getLogger(Dialer.class);
    static final long FIRST_RETRY_MS = 25;
    static final long MAX_RETRY_MS = 250;
    /** How often a long outage is reported at INFO. */
    private static final long REPORT_EVERY_NANOS = TimeUnit.SECONDS.toNanos(10);

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
    private volatile Socket connecting;
    private volatile boolean closed;

    Dialer(ClientConfig config) {
        this.config = config;
        this.key = config.presharedKey() == null ? null : new PresharedKey(config.presharedKey());
    }

    @Override
    public Attachment next(Relay relay) throws InterruptedException {
        LinkSettings s = config.link();
        long start = System.nanoTime();
        long lastReport = start;
        long retry = FIRST_RETRY_MS;
        long cap = Math.min(MAX_RETRY_MS, s.heartbeatInterval().toMillis());
        for (int attempt = 1; !closed; attempt++) {
            if (secret == null && relay.applicationFinished()) {
                relay.close("application closed before the session was established");
                return null;
            }
            long away = System.nanoTime() - start;
            if (secret != null && away > s.detachTimeout().toNanos()) {
                relay.close("could not reach sproxy for " + s.detachTimeout().toMinutes() + " min");
                return null;
            }
            try {
                return dial(relay);
            } catch (Refused e) {
                relay.close(e.getMessage());
                return null;
            } catch (IOException e) {
                if (closed) {
                    return null;
                }
                long now = System.nanoTime();
                if (attempt == 1 || now - lastReport >= REPORT_EVERY_NANOS) {
                    lastReport = now;
                    log.info("{}: cannot reach sproxy at {}:{} ({}); retrying every {} ms (attempt {}, {} s so far)",
                            relay.name(), config.serverHost(), config.serverPort(), e.getMessage(), cap, attempt,
                            TimeUnit.NANOSECONDS.toSeconds(now - start));
                } else {
                    log.debug("{}: reconnect attempt {} failed: {}", relay.name(), attempt, e.getMessage());
                }
                Thread.sleep(retry);
                retry = Math.min(cap, retry * 2);
            }
        }
        return null;
    }

    private Attachment dial(Relay relay) throws IOException {
        LinkSettings s = config.link();
        Socket socket = new Socket();
        connecting = socket;
        Link link = null;
        try {
            if (closed) {
                throw new IOException("closing");
            }
            socket.connect(new InetSocketAddress(config.serverHost(), config.serverPort()),
                    (int) s.deadAfter().toMillis());
            link = new Link(socket);
            Mode mode = secret == null ? Mode.NEW : Mode.RESUME;
            byte[] credential = secret == null ? newSessionToken : secret;
            Handshake hello = Handshake.hello(mode, sessionId, credential, relay.window());
            byte[] helloPayload = hello.encode();
            link.send(new Frame(FrameType.HELLO, 0, relay.delivered(), helloPayload));
            int timeout = (int) s.handshakeTimeout().toMillis();
            Frame f = link.read(timeout);
            if (f.type() == FrameType.CHALLENGE) {
                f = answerChallenge(link, hello, helloPayload, f, timeout);
            } else if (key != null && f.type() == FrameType.WELCOME) {
                throw new Refused("sproxy did not prove the pre-shared key: it runs without --secret-file, "
                        + "or it is not our sproxy");
            }
            if (f.type() != FrameType.WELCOME) {
                throw new Refused("sproxy answered HELLO with " + f.type() + ": is " + config.serverHost() + ":"
                        + config.serverPort() + " really sproxy?");
            }
            Handshake w = Handshake.decode(f);
            switch (w.status()) {
                case NEW_SESSION -> {
                    sessionId = w.sessionId();
                    secret = w.secret();
                    String was = relay.name();
                    relay.rename("session " + Handshake.idText(sessionId));
                    log.info("{}: established with sproxy at {} for {}", relay.name(), link.peer(), was);
                }
                case RESUMED -> {
                    // the relay logs the resume with its replay figures
                }
                case UNKNOWN_SESSION -> throw new Refused("sproxy no longer knows this session (it ended there, "
                        + "timed out, or sproxy restarted)");
                case VERSION_MISMATCH -> throw new Refused("sproxy speaks another protocol version: upgrade one side");
                case TARGET_UNAVAILABLE -> throw new Refused("sproxy cannot reach its target service");
                case BUSY -> throw new Refused("sproxy has reached its session limit");
                case AUTH_FAILED -> throw new Refused("sproxy rejected our pre-shared key: the --secret-file "
                        + "contents differ between the hosts");
                default -> throw new Refused("sproxy refused the session: " + w.status());
            }
            Attachment a = new Attachment(link, f.ack(), w.window(), null);
            link = null;
            return a;
        } catch (ProtocolException e) {
            throw new Refused("sproxy at " + config.serverHost() + ":" + config.serverPort()
                    + " broke the protocol: " + e.getMessage());
        } finally {
            connecting = null;
            if (link != null) {
                link.close();
            } else if (socket.isClosed() || !socket.isConnected()) {
                Sockets.closeQuietly(socket);
            }
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

    @Override
    public void close() {
        closed = true;
        Sockets.closeQuietly(connecting);
    }

    /** sproxy answered, and the answer ends the session. */
    private static final class Refused extends IOException {
        private static final long serialVersionUID = 1L;

        Refused(String message) {
            super(message);
        }
    }
}
