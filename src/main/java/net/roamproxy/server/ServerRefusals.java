package net.roamproxy.server;

import java.io.IOException;
import java.util.Arrays;

import net.roamproxy.metrics.Metrics;
import net.roamproxy.session.Link;
import net.roamproxy.trust.ServerKeys;
import net.roamproxy.wire.FrameType;
import net.roamproxy.wire.FrameWriter;
import net.roamproxy.wire.Handshake.Status;
import net.roamproxy.wire.Handshake;
import net.roamproxy.wire.KeySchedule;
import net.roamproxy.wire.Refusal;
import net.roamproxy.wire.Transcript;

/**
 * The REFUSED frames of one handshake ({@link ServerHandshake}), each authenticated as cproxy
 * requires before it ends a session: a new session's by the host key over every frame of the
 * link, an unknown session's by the MAC of that session's refusal token. Each is counted, sent,
 * and followed by a FIN, never a reset, which could discard it: cproxy acts on the refusal but
 * takes a reset for a failed dial and tries again.
 *
 * <p>Threading: the handshake's thread only.
 */
final class ServerRefusals {
    private final ServerKeys keys;
    private final Link link;
    private final FrameWriter<Link> writer;
    private final Transcript transcript;
    private final Metrics metrics;

    ServerRefusals(ServerKeys keys, Link link, FrameWriter<Link> writer, Transcript transcript, Metrics metrics) {
        this.keys = keys;
        this.link = link;
        this.writer = writer;
        this.transcript = transcript;
        this.metrics = metrics;
    }

    /** A refusal of a new session, signed over every frame of this link; then the link closes. */
    void signed(Status status) {
        byte[] hostKey = keys.hostKey().publicKey();
        byte[] auth = Arrays.copyOf(hostKey, Refusal.SIGNED_AUTH_SIZE);
        byte[] draft = FrameWriter.encode(FrameType.REFUSED, 0, 0, new Refusal(status, auth).encode());
        byte[] signature = keys.hostKey().sign(KeySchedule.refusalSigned(
                transcript.hashWith(draft, Handshake.SIGNATURE_SIZE)));
        System.arraycopy(signature, 0, auth, Handshake.HOST_KEY_SIZE, Handshake.SIGNATURE_SIZE);
        send(new Refusal(status, auth));
    }

    /** UNKNOWN_SESSION with the MAC of the session's refusal token; then the link closes. */
    void unknownSession(long sessionId) {
        byte[] draft = FrameWriter.encode(FrameType.REFUSED, 0, 0,
                new Refusal(Status.UNKNOWN_SESSION, new byte[Handshake.MAC_SIZE]).encode());
        byte[] mac = KeySchedule.refusalMac(KeySchedule.refusalToken(keys.refusalKey(), sessionId),
                transcript.hashWith(draft, Handshake.MAC_SIZE));
        send(new Refusal(Status.UNKNOWN_SESSION, mac));
    }

    /** WRONG_INSTANCE, unauthenticated: only the session's own instance could authenticate it. */
    void wrongInstance() {
        send(new Refusal(Status.WRONG_INSTANCE, new byte[0]));
    }

    private void send(Refusal refusal) {
        metrics.refusal(refusal.status().name());
        try {
            writer.refused(refusal);
        } catch (IOException ignored) {
            link.close(); // it is being refused anyway
            return;
        }
        link.finishSending();
        link.closeGracefully();
    }
}
