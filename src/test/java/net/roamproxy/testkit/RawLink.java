package net.roamproxy.testkit;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.time.Duration;

import net.roamproxy.wire.Frame;
import net.roamproxy.wire.FrameProtection;
import net.roamproxy.wire.FrameType;
import net.roamproxy.wire.Handshake;
import net.roamproxy.wire.Hello;
import net.roamproxy.wire.HostKey;
import net.roamproxy.wire.KeySchedule;
import net.roamproxy.wire.KeyShare;
import net.roamproxy.wire.ProtocolException;
import net.roamproxy.wire.Refusal;
import net.roamproxy.wire.Welcome;
import net.roamproxy.wire.Wire;

/**
 * A hand-driven connection to sproxy: what a stranger, a scanner or a hijacker can send, or a
 * well-behaved cproxy doing the protocol-3 handshake step by step with the product's own
 * {@link KeySchedule}. After {@link #openSession} or an accepted {@link #resume} the link is
 * sealed, and {@link #sendSealed} / {@link #read} speak under its keys.
 *
 * <p>Threading: one test thread at a time; {@link #close()} from any thread.
 */
public final class RawLink extends RawPeer {
    /** Receive window a raw client advertises; any positive value is valid. */
    public static final int WINDOW = 1 << 20;
    /** What {@link #proveNewSession} learnt: the offered session's id, the secret we derived, sproxy's host key. */
    private long sessionId;
    private byte[] secret;
    private byte[] hostKey;
    private KeySchedule.LinkKeys linkKeys;

    private RawLink(Socket socket) throws IOException {
        super(socket);
    }

    public static RawLink connect(int port) throws IOException {
        return new RawLink(new Socket(InetAddress.getLoopbackAddress(), port));
    }

    /**
     * Connects from 127.0.0.{@code host} (Linux answers the whole 127/8 on loopback): another
     * source for sproxy's per-source limits than the rig's links, which come from 127.0.0.1.
     */
    public static RawLink connectFrom(int host, int port) throws IOException {
        return new RawLink(socketFrom(host, port));
    }

    /** A plain socket to loopback {@code port} from 127.0.0.{@code host}. */
    public static Socket socketFrom(int host, int port) throws IOException {
        return new Socket(InetAddress.getLoopbackAddress(), port, InetAddress.getByAddress(new byte[] {127, 0, 0,
            (byte) host}), 0);
    }

    /** Sends {@code hello} in a HELLO whose header acks {@code ack} bytes of sproxy's stream. */
    public Hello send(Hello hello, long ack) throws IOException {
        send(new Frame(FrameType.HELLO, 0, ack, hello.encode()));
        return hello;
    }

    /** Sends a HELLO asking for a new session; returns the key share it offered. */
    public KeyShare helloNew() throws IOException {
        KeyShare share = KeyShare.generate();
        send(Hello.forNew(share.publicKey(), WINDOW, ""), 0);
        return share;
    }

    /**
     * Opens a new session as cproxy does (no pre-shared key): HELLO NEW, sproxy's signed
     * WELCOME, our PROOF, sproxy's TOKEN. The link is sealed afterwards.
     */
    public Credentials openSession(Duration timeout) throws IOException {
        Answer token = proveNewSession(null, timeout);
        if (token.frame().type() != FrameType.TOKEN) {
            throw new AssertionError("expected a TOKEN, got " + token.frame());
        }
        return new Credentials(sessionId, secret, token.frame().payload(), hostKey);
    }

    /**
     * Asks for a new session as a cproxy holding {@code presharedKey} ({@code null}: none)
     * does: HELLO NEW, sproxy's WELCOME (its signature checked), our PROOF under the keys that
     * follow; the link is sealed afterwards. Returns sproxy's answer to the PROOF: its TOKEN
     * if the keys agree, else a REFUSED ({@link #signedRefusal} checks its signature).
     */
    public Answer proveNewSession(byte[] presharedKey, Duration timeout) throws IOException {
        byte[] th = welcomed(presharedKey, timeout);
        transcript.add(sendSealed(FrameType.PROOF, 0, 0, KeySchedule.clientProof(secret, th)));
        return new Answer(read(timeout));
    }

    /**
     * HELLO NEW and sproxy's WELCOME as a cproxy without a pre-shared key does; returns the
     * PROOF that would come next, sealed under this link's key, without sending it.
     */
    public byte[] newSessionProof(Duration timeout) throws IOException {
        byte[] th = welcomed(null, timeout);
        return seal(FrameType.PROOF, 0, 0, KeySchedule.clientProof(secret, th));
    }

    /** As {@link #newSessionProof}, but sealed under the key of sproxy's direction: a frame turned around. */
    public byte[] newSessionProofReflected(Duration timeout) throws IOException {
        byte[] th = welcomed(null, timeout);
        byte[] frame = new byte[Wire.HEADER_SIZE + Handshake.MAC_SIZE + Wire.TAG_SIZE];
        Wire.writeHeader(frame, FrameType.PROOF, Handshake.MAC_SIZE, 0, 0);
        System.arraycopy(KeySchedule.clientProof(secret, th), 0, frame, Wire.HEADER_SIZE, Handshake.MAC_SIZE);
        FrameProtection.sealer(linkKeys.s2cKey(), linkKeys.s2cIv()).seal(frame, Handshake.MAC_SIZE);
        return frame;
    }

    /** HELLO NEW, sproxy's WELCOME (its signature checked), this link's keys; returns the transcript hash. */
    private byte[] welcomed(byte[] presharedKey, Duration timeout) throws IOException {
        KeyShare share = helloNew();
        Frame f = read(timeout);
        if (f.type() != FrameType.WELCOME) {
            throw new AssertionError("expected a WELCOME, got " + f);
        }
        Welcome w = Welcome.decode(f);
        byte[] welcome = Wire.encode(f);
        if (!HostKey.verify(w.hostKey(), KeySchedule.welcomeSigned(transcript.hashWith(welcome,
                Handshake.SIGNATURE_SIZE)), w.auth())) {
            throw new AssertionError("the WELCOME's signature does not check out");
        }
        byte[] th = transcript.add(welcome).hash();
        byte[] shared = share.agree(w.keyShare());
        sessionId = w.sessionId();
        hostKey = w.hostKey();
        secret = KeySchedule.sessionSecret(shared, presharedKey, th);
        linkKeys = KeySchedule.linkKeys(secret, shared, th);
        protect(linkKeys, true);
        return th;
    }

    /**
     * Whether {@code answer} is a REFUSED signed by {@code expectedHostKey} over every frame of
     * this link so far, as cproxy checks it.
     */
    public boolean signedRefusal(Answer answer, byte[] expectedHostKey) throws ProtocolException {
        if (answer.frame().type() != FrameType.REFUSED) {
            return false;
        }
        Refusal r = answer.refusal();
        byte[] signed = KeySchedule.refusalSigned(transcript.hashWith(Wire.encode(answer.frame()),
                Handshake.SIGNATURE_SIZE));
        return r.signed() && KeySchedule.same(r.hostKey(), expectedHostKey)
                && HostKey.verify(r.hostKey(), signed, r.tag());
    }

    /**
     * Resumes session {@code id} as cproxy does: HELLO RESUME with a fresh key share; if sproxy
     * answers WELCOME RESUMED with a MAC that checks out, derives the link's keys and sends
     * PROOF, after which the link is sealed. Returns sproxy's answer either way.
     */
    public Answer resume(long id, byte[] secret, long ack, Duration timeout) throws IOException {
        KeyShare share = KeyShare.generate();
        send(Hello.forResume(id, share.publicKey(), WINDOW), ack);
        Frame f = read(timeout);
        Answer a = new Answer(f);
        if (f.type() != FrameType.WELCOME || a.status() != Handshake.Status.RESUMED) {
            return a;
        }
        byte[] welcome = Wire.encode(f);
        if (!KeySchedule.same(a.welcome().auth(), KeySchedule.serverProof(secret,
                transcript.hashWith(welcome, Handshake.MAC_SIZE)))) {
            throw new AssertionError("the RESUMED WELCOME's MAC does not check out");
        }
        byte[] th = transcript.add(welcome).hash();
        protect(KeySchedule.linkKeys(secret, share.agree(a.welcome().keyShare()), th), true);
        sendSealed(FrameType.PROOF, 0, 0, KeySchedule.clientProof(secret, th));
        return a;
    }

    /** What a session's cproxy knows: its id, secret, refusal token and sproxy's host key. */
    public record Credentials(long id, byte[] secret, byte[] token, byte[] hostKey) {
    }

    /** sproxy's answer to a HELLO: a WELCOME or a REFUSED frame (its header's ack matters on a resume). */
    public record Answer(Frame frame) {
        public Handshake.Status status() throws ProtocolException {
            return frame.type() == FrameType.WELCOME ? welcome().status() : refusal().status();
        }

        public Welcome welcome() throws ProtocolException {
            return Welcome.decode(frame);
        }

        public Refusal refusal() throws ProtocolException {
            return Refusal.decode(frame);
        }
    }

    @Override
    public String toString() {
        return "raw link from " + peerName();
    }
}
