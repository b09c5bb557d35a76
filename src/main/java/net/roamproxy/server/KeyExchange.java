package net.roamproxy.server;

import java.io.IOException;

import net.roamproxy.session.Link;
import net.roamproxy.trust.ServerKeys;
import net.roamproxy.wire.Frame;
import net.roamproxy.wire.FrameProtection;
import net.roamproxy.wire.FrameType;
import net.roamproxy.wire.FrameWriter;
import net.roamproxy.wire.Handshake;
import net.roamproxy.wire.Handshake.Status;
import net.roamproxy.wire.Hello;
import net.roamproxy.wire.KeySchedule;
import net.roamproxy.wire.KeyShare;
import net.roamproxy.wire.KeyShareStock;
import net.roamproxy.wire.ProtocolException;
import net.roamproxy.wire.Transcript;
import net.roamproxy.wire.Welcome;

/**
 * The key exchange inside sproxy's handshake ({@link ServerHandshake}): our WELCOME, signed by
 * the host key for a new session or carrying the session secret's MAC for a resume; the link
 * switched to the keys it sets; then cproxy's sealed PROOF, checked against the transcript up to
 * that WELCOME. It keeps that transcript hash, which nothing else needs.
 *
 * <p>Threading: the handshake's thread only.
 */
final class KeyExchange {
    private final ServerKeys keys;
    /** Mixed into every new session's secret ({@code --secret-file}), or {@code null}. */
    private final byte[] presharedKey;
    private final KeyShareStock keyShares;
    private final Link link;
    private final FrameWriter<Link> writer;
    /** The handshake's transcript, which the refusals sign too. */
    private final Transcript transcript;
    private final int timeout;
    /** The transcript's hash up to our WELCOME, which cproxy's PROOF must answer. */
    private byte[] th;

    KeyExchange(ServerKeys keys, byte[] presharedKey, KeyShareStock keyShares, Link link, FrameWriter<Link> writer,
                Transcript transcript, int timeout) {
        this.keys = keys;
        this.presharedKey = presharedKey;
        this.keyShares = keyShares;
        this.link = link;
        this.writer = writer;
        this.transcript = transcript;
        this.timeout = timeout;
    }

    /**
     * Sends a new session's WELCOME, signed by the host key, and protects the link with its keys.
     *
     * @param window the receive window the WELCOME promises
     * @return the new session's secret
     */
    byte[] welcomeNew(Hello hello, long id, int window) throws IOException {
        KeyShare own = keyShares.take();
        byte[] shared = own.agree(hello.keyShare());
        Welcome unsigned = new Welcome(Status.NEW_SESSION, id, Handshake.randomBytes(Handshake.NONCE_SIZE),
                own.publicKey(), window, keys.hostKey().publicKey(),
                new byte[Handshake.SIGNATURE_SIZE]);
        byte[] draft = FrameWriter.encode(FrameType.WELCOME, 0, 0, unsigned.encode());
        byte[] signature = keys.hostKey().sign(KeySchedule.welcomeSigned(
                transcript.hashWith(draft, Handshake.SIGNATURE_SIZE)));
        th = transcript.add(writer.welcome(0, 0, unsigned.withAuth(signature))).hash();
        byte[] secret = KeySchedule.sessionSecret(shared, presharedKey, th);
        protect(KeySchedule.linkKeys(secret, shared, th));
        return secret;
    }

    /**
     * Sends a resume's WELCOME, with the MAC of the session's secret and what the session has
     * delivered as its ack, and protects the link with this link's keys.
     */
    void welcomeResume(Hello hello, SessionTable.Entry s) throws IOException {
        KeyShare own = keyShares.take();
        byte[] linkShared = own.agree(hello.keyShare());
        long delivered = s.session().delivered();
        Welcome unproven = new Welcome(Status.RESUMED, hello.sessionId(), Handshake.randomBytes(Handshake.NONCE_SIZE),
                own.publicKey(), s.session().window(), new byte[0], new byte[Handshake.MAC_SIZE]);
        byte[] draft = FrameWriter.encode(FrameType.WELCOME, 0, delivered, unproven.encode());
        byte[] mac = KeySchedule.serverProof(s.secret(), transcript.hashWith(draft, Handshake.MAC_SIZE));
        th = transcript.add(writer.welcome(0, delivered, unproven.withAuth(mac))).hash();
        protect(KeySchedule.linkKeys(s.secret(), linkShared, th));
    }

    /** Reads cproxy's PROOF: whether it opened under the link's key and carries the right MAC. */
    boolean proofChecksOut(byte[] secret) throws IOException {
        link.keepNextWire();
        Frame proof;
        try {
            proof = link.read(timeout);
        } catch (ProtocolException e) {
            if (link.lastWire() == null) {
                throw e; // not a sealed frame at all
            }
            transcript.add(link.lastWire());
            return false;
        }
        if (proof.type() != FrameType.PROOF) {
            throw new ProtocolException("expected a PROOF, got " + proof.type());
        }
        transcript.add(link.lastWire());
        return KeySchedule.same(proof.payload(), KeySchedule.clientProof(secret, th));
    }

    private void protect(KeySchedule.LinkKeys k) {
        link.protect(FrameProtection.sealer(k.s2cKey(), k.s2cIv()), FrameProtection.opener(k.c2sKey(), k.c2sIv()));
    }
}
