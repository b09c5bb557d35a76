package net.roamproxy.testkit;

import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;

import net.roamproxy.wire.Frame;
import net.roamproxy.wire.FrameType;
import net.roamproxy.wire.Handshake;
import net.roamproxy.wire.Hello;
import net.roamproxy.wire.HostKey;
import net.roamproxy.wire.KeySchedule;
import net.roamproxy.wire.KeyShare;
import net.roamproxy.wire.Welcome;
import net.roamproxy.wire.Wire;

/**
 * sproxy's end of one link, driven by hand to put cproxy in situations a real sproxy never
 * makes: it opens a new session with the protocol-3 handshake (signed WELCOME, PROOF checked,
 * TOKEN), then speaks sealed frames under the link's keys as the test says.
 *
 * <p>Threading: one test thread at a time; {@link #close()} from any thread.
 */
public final class FakeSproxy extends RawPeer {
    private static final byte[] REFUSAL_KEY = new byte[32];

    private FakeSproxy(ServerSocket listener) throws IOException {
        super(listener.accept());
    }

    /** Accepts cproxy's next connection on {@code listener}. */
    public static FakeSproxy accept(ServerSocket listener) throws IOException {
        return new FakeSproxy(listener);
    }

    /**
     * Answers cproxy's HELLO NEW as sproxy would, with a WELCOME signed by {@code hostKey} for
     * session {@code id}, whose header acks {@code ack} bytes of cproxy's stream; checks its
     * PROOF and sends the TOKEN. The link is sealed afterwards.
     *
     * @return cproxy's HELLO
     */
    public Hello openSession(HostKey hostKey, long id, long ack, Duration timeout) throws IOException {
        Frame f = read(timeout);
        transcript.add(f);
        Hello hello = Hello.decode(f);
        KeyShare own = KeyShare.generate();
        Welcome draft = new Welcome(Handshake.Status.NEW_SESSION, id, Handshake.randomBytes(Handshake.NONCE_SIZE),
                own.publicKey(), 1 << 20, hostKey.publicKey(), new byte[Handshake.SIGNATURE_SIZE]);
        byte[] unsigned = Wire.encode(new Frame(FrameType.WELCOME, 0, ack, draft.encode()));
        byte[] signature = hostKey.sign(KeySchedule.welcomeSigned(transcript.hashWith(unsigned,
                Handshake.SIGNATURE_SIZE)));
        send(new Frame(FrameType.WELCOME, 0, ack, draft.withAuth(signature).encode()));
        byte[] th = transcript.hash();
        byte[] shared = own.agree(hello.keyShare());
        byte[] secret = KeySchedule.sessionSecret(shared, null, th);
        protect(KeySchedule.linkKeys(secret, shared, th), false);
        Frame proof = read(timeout);
        if (proof.type() != FrameType.PROOF || !KeySchedule.same(proof.payload(), KeySchedule.clientProof(secret, th))) {
            throw new AssertionError("cproxy's PROOF does not check out: " + proof);
        }
        sendSealed(FrameType.TOKEN, 0, 0, KeySchedule.refusalToken(REFUSAL_KEY, id));
        return hello;
    }
}
