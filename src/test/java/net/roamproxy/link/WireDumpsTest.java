package net.roamproxy.link;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import net.roamproxy.link.HexDumps.Field;
import net.roamproxy.link.HexDumps.Value;
import net.roamproxy.protocol.Frame;
import net.roamproxy.protocol.FrameProtection;
import net.roamproxy.protocol.FrameType;
import net.roamproxy.protocol.Handshake.Mode;
import net.roamproxy.protocol.Handshake.Status;
import net.roamproxy.protocol.Handshake;
import net.roamproxy.protocol.Hello;
import net.roamproxy.protocol.HostKey;
import net.roamproxy.protocol.KeySchedule;
import net.roamproxy.protocol.KeyShare;
import net.roamproxy.protocol.Refusal;
import net.roamproxy.protocol.Transcript;
import net.roamproxy.protocol.Welcome;
import net.roamproxy.protocol.Wire;
import net.roamproxy.testkit.GeneratedDoc;
import net.roamproxy.testkit.MemorySocket;

/**
 * The design report's annotated hex dumps, made by the code itself so they cannot drift from
 * it: a new session's link and a resume's, then a refusal, run with the real
 * {@link FrameWriter}, {@link KeySchedule}, {@link KeyShare} and {@link HostKey} over in-memory
 * sockets. Every frame is read back and checked as its peer would (signatures, MACs, sealed
 * frames opened under the peer's keys), and printed field by field. Fixed X25519 scalars, host
 * key seed, nonces, id and refusal key make the output the same on every run, so the dumps,
 * with the inputs and derived keys printed after them, are test vectors.
 *
 * <p>The test writes {@code target/generated-docs/hexdumps.adoc} and fails if the include the
 * report uses, {@value #COMMITTED}, differs: a change of the wire format or the key schedule
 * then fails {@code mvn verify} until the report is regenerated. To regenerate, run this test
 * with {@code -Droamproxy.updateDocs=true}, which overwrites the committed include.
 *
 * <p>Lives in {@code net.roamproxy.link} because the session's frame methods of
 * {@link FrameWriter} are package-private.
 */
class WireDumpsTest {
    static final String COMMITTED = "src/docs/generated/hexdumps.adoc";

    /** Illustrative values, chosen to be recognisable in the dumps. */
    private static final long SESSION_ID = 0x907d103bd57621e2L;
    private static final int WINDOW = 1 << 20;
    private static final byte[] CLIENT_SCALAR = run(32, 0x01);
    private static final byte[] SERVER_SCALAR = run(32, 0x21);
    private static final byte[] CLIENT_RESUME_SCALAR = run(32, 0x41);
    private static final byte[] SERVER_RESUME_SCALAR = run(32, 0x61);
    private static final byte[] HOST_KEY_SEED = filled(32, 0x5e);
    private static final byte[] REFUSAL_KEY = filled(32, 0x7e);
    private static final byte[] CLIENT_NONCE = run(32, 0x80);
    private static final byte[] SERVER_NONCE = run(32, 0xa0);
    private static final byte[] CLIENT_RESUME_NONCE = run(32, 0xc0);
    private static final byte[] SERVER_RESUME_NONCE = run(32, 0xe0);
    private static final byte[] LOGIN = "login: ".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] USER = "user\r\n".getBytes(StandardCharsets.US_ASCII);

    @Test
    void theCommittedHexDumpsMatchWhatTheCodeWrites() throws IOException {
        GeneratedDoc.assertCommitted("hexdumps.adoc", render(), "with the wire format",
                "run this test with -Droamproxy.updateDocs=true and re-render the report");
    }

    @Test
    void theDumpsAreTheSameOnEveryRunSoTheyServeAsTestVectors() throws IOException {
        assertEquals(render(), render());
    }

    /** One end of a link: its writer, and the stream on which the other end's frames arrive. */
    private record End(FrameWriter writer, InputStream fromPeer) {
        static End[] link() throws IOException {
            MemorySocket[] pair = MemorySocket.pair();
            return new End[] {new End(new FrameWriter(new Link(pair[0]), "cproxy"), pair[0].getInputStream()),
                new End(new FrameWriter(new Link(pair[1]), "sproxy"), pair[1].getInputStream())};
        }

        /** Installs a link's keys at both ends, as each handshake does once it has them. */
        static void protect(End[] link, KeySchedule.LinkKeys k) {
            link[0].writer.link().protect(FrameProtection.sealer(k.c2sKey(), k.c2sIv()),
                    FrameProtection.opener(k.s2cKey(), k.s2cIv()));
            link[1].writer.link().protect(FrameProtection.sealer(k.s2cKey(), k.s2cIv()),
                    FrameProtection.opener(k.c2sKey(), k.c2sIv()));
        }
    }

    static String render() throws IOException {
        return dumps().text();
    }

    /** The dumps, with every frame and value by name for {@link WireDumpsPythonTest}. */
    static HexDumps dumps() throws IOException {
        HexDumps out = new HexDumps("// Generated by WireDumpsTest from the real FrameWriter and KeySchedule: do not edit.");
        List<Value> derived = new ArrayList<>();
        HostKey host = HostKey.fromSeed(HOST_KEY_SEED);

        // A new session: HELLO, signed WELCOME, PROOF, TOKEN, then the session's first frames.
        End[] link = End.link();
        End cproxy = link[0];
        End sproxy = link[1];
        KeyShare c = KeyShare.fromPrivate(CLIENT_SCALAR);
        KeyShare s = KeyShare.fromPrivate(SERVER_SCALAR);
        Transcript t = new Transcript();
        Hello hello = new Hello(Mode.NEW, 0, CLIENT_NONCE, c.publicKey(), WINDOW, "");
        t.add(cproxy.writer.hello(0, hello));
        assertEquals(hello, Hello.decode(out.clear("hex-hello", "HELLO NEW for the default service, cproxy to sproxy",
                sproxy.fromPeer, helloFields("mode 1: NEW", "session id 0 (none yet)"))));

        Welcome unsigned = new Welcome(Status.NEW_SESSION, SESSION_ID, SERVER_NONCE, s.publicKey(), WINDOW,
                host.publicKey(), new byte[Handshake.SIGNATURE_SIZE]);
        byte[] draft = FrameWriter.encode(FrameType.WELCOME, 0, 0, unsigned.encode());
        byte[] signature = host.sign(KeySchedule.welcomeSigned(t.hashWith(draft, Handshake.SIGNATURE_SIZE)));
        byte[] welcome = sproxy.writer.welcome(0, 0, unsigned.withAuth(signature));
        Welcome got = Welcome.decode(out.clear("hex-welcome", "WELCOME NEW_SESSION, sproxy to cproxy",
                cproxy.fromPeer, welcomeFields("status 1: NEW_SESSION", List.of(
                        new Field(Handshake.HOST_KEY_SIZE, "sproxy's Ed25519 host key"),
                        new Field(Handshake.SIGNATURE_SIZE, "Ed25519 signature over the transcript")))));
        assertTrue(HostKey.verify(got.hostKey(), KeySchedule.welcomeSigned(t.hashWith(welcome,
                Handshake.SIGNATURE_SIZE)), got.auth()), "cproxy accepts the signature");

        byte[] th = t.add(welcome).hash();
        byte[] shared = c.agree(s.publicKey());
        assertArrayEquals(shared, s.agree(c.publicKey()));
        byte[] secret = KeySchedule.sessionSecret(shared, null, th);
        KeySchedule.LinkKeys keys = KeySchedule.linkKeys(secret, shared, th);
        End.protect(link, keys);
        FrameProtection.Opener atSproxy = FrameProtection.opener(keys.c2sKey(), keys.c2sIv());
        FrameProtection.Opener atCproxy = FrameProtection.opener(keys.s2cKey(), keys.s2cIv());
        byte[] proof = KeySchedule.clientProof(secret, th);
        cproxy.writer.proof(proof);
        assertArrayEquals(proof, out.sealed("hex-proof", "PROOF, cproxy to sproxy", sproxy.fromPeer, atSproxy,
                "cproxy's HMAC over the transcript, encrypted").payload());
        byte[] token = KeySchedule.refusalToken(REFUSAL_KEY, SESSION_ID);
        sproxy.writer.token(token);
        assertArrayEquals(token, out.sealed("hex-token", "TOKEN, sproxy to cproxy", cproxy.fromPeer, atCproxy,
                "the session's refusal token, encrypted").payload());
        byte[] data = new byte[Wire.HEADER_SIZE + LOGIN.length + Wire.TAG_SIZE];
        System.arraycopy(LOGIN, 0, data, Wire.HEADER_SIZE, LOGIN.length);
        sproxy.writer.data(data, LOGIN.length, 0, 0);
        assertEquals(new Frame(FrameType.DATA, 0, 0, LOGIN), out.sealed("hex-data",
                "DATA \"login: \", sproxy to cproxy", cproxy.fromPeer, atCproxy, "\"login: \" (7 bytes), encrypted"));
        cproxy.writer.heartbeat(0, LOGIN.length);
        assertEquals(Frame.control(FrameType.HEARTBEAT, 0, LOGIN.length), out.sealed("hex-heartbeat",
                "HEARTBEAT acknowledging the 7 bytes, cproxy to sproxy", sproxy.fromPeer, atSproxy, ""));
        derived.add(new Value("X25519 shared secret, new session's link", shared));
        derived.add(new Value("transcript hash: HELLO NEW | WELCOME", th));
        derived.add(new Value("session secret", secret));
        addKeys(derived, "new session's link", keys);
        derived.add(new Value("PROOF's plaintext, new session's link", proof));
        derived.add(new Value("refusal token", token));

        // The resume: a fresh exchange on a new link, proved by the session secret.
        End[] link2 = End.link();
        KeyShare c2 = KeyShare.fromPrivate(CLIENT_RESUME_SCALAR);
        KeyShare s2 = KeyShare.fromPrivate(SERVER_RESUME_SCALAR);
        Transcript t2 = new Transcript();
        Hello resume = new Hello(Mode.RESUME, SESSION_ID, CLIENT_RESUME_NONCE, c2.publicKey(), WINDOW, "");
        byte[] resumeHello = link2[0].writer.hello(LOGIN.length, resume);
        t2.add(resumeHello);
        assertEquals(resume, Hello.decode(out.clear("hex-hello-resume",
                "HELLO RESUME acknowledging the 7 bytes, cproxy to sproxy", link2[1].fromPeer,
                helloFields("mode 2: RESUME", "session id " + Handshake.idText(SESSION_ID)))));
        Welcome unproven = new Welcome(Status.RESUMED, SESSION_ID, SERVER_RESUME_NONCE, s2.publicKey(), WINDOW,
                new byte[0], new byte[Handshake.MAC_SIZE]);
        byte[] mac = KeySchedule.serverProof(secret, t2.hashWith(FrameWriter.encode(FrameType.WELCOME, 0, 0,
                unproven.encode()), Handshake.MAC_SIZE));
        byte[] resumed = link2[1].writer.welcome(0, 0, unproven.withAuth(mac));
        Welcome gotResumed = Welcome.decode(out.clear("hex-welcome-resumed", "WELCOME RESUMED, sproxy to cproxy",
                link2[0].fromPeer, welcomeFields("status 2: RESUMED", List.of(
                        new Field(Handshake.MAC_SIZE, "HMAC by the session secret over the transcript")))));
        assertArrayEquals(KeySchedule.serverProof(secret, t2.hashWith(resumed, Handshake.MAC_SIZE)),
                gotResumed.auth(), "cproxy accepts the MAC");
        byte[] th2 = t2.add(resumed).hash();
        byte[] shared2 = c2.agree(s2.publicKey());
        assertArrayEquals(shared2, s2.agree(c2.publicKey()));
        KeySchedule.LinkKeys keys2 = KeySchedule.linkKeys(secret, shared2, th2);
        End.protect(link2, keys2);
        FrameProtection.Opener atSproxy2 = FrameProtection.opener(keys2.c2sKey(), keys2.c2sIv());
        byte[] proof2 = KeySchedule.clientProof(secret, th2);
        link2[0].writer.proof(proof2);
        assertArrayEquals(proof2, out.sealed("hex-proof-resume", "PROOF on the resumed link, cproxy to sproxy",
                link2[1].fromPeer, atSproxy2, "cproxy's HMAC over the transcript, encrypted").payload());
        byte[] data2 = new byte[Wire.HEADER_SIZE + USER.length + Wire.TAG_SIZE];
        System.arraycopy(USER, 0, data2, Wire.HEADER_SIZE, USER.length);
        link2[0].writer.data(data2, USER.length, 0, LOGIN.length);
        assertEquals(new Frame(FrameType.DATA, 0, LOGIN.length, USER), out.sealed("hex-data-resume",
                "DATA \"user\\r\\n\" on the resumed link, cproxy to sproxy", link2[1].fromPeer, atSproxy2,
                "\"user\\r\\n\" (6 bytes), encrypted"));
        derived.add(new Value("X25519 shared secret, resume's link", shared2));
        derived.add(new Value("transcript hash: HELLO RESUME | WELCOME RESUMED", th2));
        addKeys(derived, "resume's link", keys2);
        derived.add(new Value("PROOF's plaintext, resume's link", proof2));

        // The same HELLO RESUME reaching an sproxy that restarted: a refusal cproxy can check.
        End[] link3 = End.link();
        Transcript t3 = new Transcript().add(resumeHello);
        byte[] refusedDraft = FrameWriter.encode(FrameType.REFUSED, 0, 0,
                new Refusal(Status.UNKNOWN_SESSION, new byte[Handshake.MAC_SIZE]).encode());
        byte[] refusalMac = KeySchedule.refusalMac(token, t3.hashWith(refusedDraft, Handshake.MAC_SIZE));
        byte[] refused = link3[1].writer.refused(new Refusal(Status.UNKNOWN_SESSION, refusalMac));
        Refusal r = Refusal.decode(out.clear("hex-refused", "REFUSED UNKNOWN_SESSION, answering that HELLO RESUME "
                + "after sproxy restarted", link3[0].fromPeer, List.of(new Field(1, "status 3: UNKNOWN_SESSION"),
                new Field(Handshake.MAC_SIZE, "HMAC by the refusal token over the transcript"))));
        assertArrayEquals(KeySchedule.refusalMac(token, t3.hashWith(refused, Handshake.MAC_SIZE)), r.tag(),
                "cproxy accepts the MAC");

        out.values("hex-inputs", "The fixed inputs of the dumps", List.of(
                new Value("cproxy's X25519 private scalar, new session", CLIENT_SCALAR),
                new Value("sproxy's X25519 private scalar, new session", SERVER_SCALAR),
                new Value("cproxy's X25519 private scalar, resume", CLIENT_RESUME_SCALAR),
                new Value("sproxy's X25519 private scalar, resume", SERVER_RESUME_SCALAR),
                new Value("sproxy's Ed25519 host key seed", HOST_KEY_SEED),
                new Value("sproxy's refusal key", REFUSAL_KEY)));
        out.values("hex-derived", "What the key schedule derives from them (no pre-shared key)", derived);
        return out;
    }

    private static void addKeys(List<Value> to, String link, KeySchedule.LinkKeys k) {
        to.add(new Value("cproxy-to-sproxy key, " + link, k.c2sKey()));
        to.add(new Value("cproxy-to-sproxy IV, " + link, k.c2sIv()));
        to.add(new Value("sproxy-to-cproxy key, " + link, k.s2cKey()));
        to.add(new Value("sproxy-to-cproxy IV, " + link, k.s2cIv()));
    }

    private static List<Field> helloFields(String mode, String id) {
        return List.of(new Field(1, mode), new Field(8, id),
                new Field(Handshake.NONCE_SIZE, "cproxy's nonce, fresh per HELLO"),
                new Field(Handshake.KEY_SIZE, "cproxy's X25519 key share, fresh per HELLO"),
                new Field(4, "receive window " + WINDOW),
                new Field(1, "service name length 0: " + (mode.contains("NEW") ? "the default service" : "none")));
    }

    private static List<Field> welcomeFields(String status, List<Field> auth) {
        List<Field> f = new ArrayList<>(List.of(new Field(1, status),
                new Field(8, "session id " + Handshake.idText(SESSION_ID)),
                new Field(Handshake.NONCE_SIZE, "sproxy's nonce, fresh per WELCOME"),
                new Field(Handshake.KEY_SIZE, "sproxy's X25519 key share, fresh per WELCOME"),
                new Field(4, "receive window " + WINDOW)));
        f.addAll(auth);
        return f;
    }

    private static byte[] filled(int n, int value) {
        byte[] b = new byte[n];
        java.util.Arrays.fill(b, (byte) value);
        return b;
    }

    /** {@code n} bytes counting up from {@code first}: recognisable in a dump. */
    private static byte[] run(int n, int first) {
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            b[i] = (byte) (first + i);
        }
        return b;
    }
}
