package net.roamproxy.wire;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Map;
import java.util.TreeMap;

import net.roamproxy.session.Link;
import net.roamproxy.wire.Handshake.Mode;
import net.roamproxy.wire.Handshake.Status;
import net.roamproxy.wire.KeySchedule.LinkKeys;

/**
 * The protocol-3 known-answer vectors as the product computes them, with its own classes, from
 * the fixed inputs that {@code src/test/python/protocol3_vectors.py} uses: a byte string named
 * {@code "x"} is SHA-256("x"), or its first n bytes. Names and values (lower-case hex, the
 * fingerprint as text) are the script's, so {@link Protocol3VectorsTest} compares maps.
 */
final class Protocol3JavaVectors {
    static final long SESSION_ID = 0x8badf00d12345678L;
    static final int WINDOW_C = 1 << 20;
    static final int WINDOW_S = Integer.MAX_VALUE;
    private static final HexFormat HEX = HexFormat.of();

    private final Map<String, String> v = new TreeMap<>();

    private Protocol3JavaVectors() {
    }

    static Map<String, String> compute() throws Exception {
        Protocol3JavaVectors j = new Protocol3JavaVectors();
        j.primitives();
        j.scenario("nopsk.", null);
        j.scenario("psk.", fixed("pre-shared key"));
        return j.v;
    }

    static byte[] fixed(String name) {
        return fixed(name, 32);
    }

    static byte[] fixed(String name, int n) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(name.getBytes(StandardCharsets.US_ASCII));
            return Arrays.copyOf(d, n);
        } catch (java.security.GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private void put(String name, byte[] value) {
        v.put(name, HEX.formatHex(value));
    }

    private void primitives() throws Exception {
        byte[] prk = KeySchedule.extract(fixed("salt"), fixed("ikm"));
        put("hkdf.extract", prk);
        put("hkdf.expand.session", KeySchedule.expand(prk, "session", fixed("context"), 32));
        put("hkdf.expand.iv", KeySchedule.expand(prk, "c2s iv", fixed("context"), 12));
        put("hkdf.expand.emptycontext", KeySchedule.expand(prk, "proof c", new byte[0], 32));
        put("hkdf.expand.threeblocks", KeySchedule.expand(prk, "session", fixed("context"), 80));
        KeyShare a = KeyShare.fromPrivate(fixed("x25519 a"));
        KeyShare b = KeyShare.fromPrivate(fixed("x25519 b"));
        put("x25519.a.public", a.publicKey());
        put("x25519.b.public", b.publicKey());
        put("x25519.shared", a.agree(b.publicKey()));
        HostKey host = HostKey.fromSeed(fixed("host key seed"));
        put("ed25519.public", host.publicKey());
        v.put("ed25519.fingerprint", host.fingerprint());
        put("ed25519.signature", host.sign(fixed("message")));
        byte[] token = KeySchedule.refusalToken(fixed("refusal key"), SESSION_ID);
        put("refusal.token", token);
        put("refusal.mac", KeySchedule.refusalMac(token, fixed("th")));
        put("signed.welcome", KeySchedule.welcomeSigned(fixed("th")));
        put("signed.refusal", KeySchedule.refusalSigned(fixed("th")));

        byte[] key = fixed("aes key");
        byte[] iv = fixed("aes iv", 12);
        byte[] payload = concat(fixed("payload"), "roamproxy".getBytes(StandardCharsets.US_ASCII));
        FrameProtection.Sealer real = FrameProtection.sealer(key, iv);
        put("seal.data.0", sealed(real, FrameType.DATA, payload, 1L << 40, 77));
        put("seal.data.1", sealed(real, FrameType.DATA, payload, 1L << 40, 77));
        real.frames = (1L << 32) - 1; // the last frame the real limit allows
        put("seal.data.ffffffff", sealed(real, FrameType.DATA, payload, 1L << 40, 77));
        FrameProtection.Sealer unlimited = new FrameProtection.Sealer(key, iv, Long.MAX_VALUE, Long.MAX_VALUE);
        unlimited.frames = 0x0102030405060708L; // beyond the real limit: every byte of the count in the nonce
        put("seal.data.102030405060708", sealed(unlimited, FrameType.DATA, payload, 1L << 40, 77));
        put("seal.heartbeat.0", sealed(FrameProtection.sealer(key, iv), FrameType.HEARTBEAT, new byte[0], 5, 6));
    }

    /** A whole frame sealed as {@link FrameProtection.Sealer#seal} documents it: header, payload, room for the tag. */
    static byte[] sealed(FrameProtection.Sealer sealer, FrameType type, byte[] payload, long seq, long ack)
            throws FrameProtection.KeyLimitException {
        byte[] frame = new byte[Wire.HEADER_SIZE + payload.length + Wire.TAG_SIZE];
        Wire.writeHeader(frame, type, payload.length, seq, ack);
        System.arraycopy(payload, 0, frame, Wire.HEADER_SIZE, payload.length);
        int n = sealer.seal(frame, payload.length);
        return Arrays.copyOf(frame, n);
    }

    private void scenario(String p, byte[] psk) throws Exception {
        HostKey host = HostKey.fromSeed(fixed("host key seed"));
        KeyShare c = KeyShare.fromPrivate(fixed("client share new"));
        KeyShare s = KeyShare.fromPrivate(fixed("server share new"));
        Capture client = new Capture();
        Capture server = new Capture();
        byte[] hello = client.writer.hello(0, new Hello(Mode.NEW, 0, fixed("client nonce new"), c.publicKey(),
                WINDOW_C, "web"));
        Transcript t = new Transcript().add(hello);
        Welcome unsigned = new Welcome(Status.NEW_SESSION, SESSION_ID, fixed("server nonce new"), s.publicKey(),
                WINDOW_S, host.publicKey(), new byte[Handshake.SIGNATURE_SIZE]);
        byte[] draft = FrameWriter.encode(FrameType.WELCOME, 0, 0, unsigned.encode());
        byte[] signature = host.sign(KeySchedule.welcomeSigned(t.hashWith(draft, Handshake.SIGNATURE_SIZE)));
        byte[] welcome = server.writer.welcome(0, 0, unsigned.withAuth(signature));
        byte[] th = t.add(welcome).hash();
        byte[] shared = s.agree(c.publicKey());
        if (!Arrays.equals(shared, c.agree(s.publicKey()))) {
            throw new AssertionError("X25519 is not symmetric");
        }
        byte[] secret = KeySchedule.sessionSecret(shared, psk, th);
        LinkKeys keys = KeySchedule.linkKeys(secret, shared, th);
        FrameProtection.Sealer c2s = client.protect(keys, true);
        server.protect(keys, false);
        byte[] proof = client.writer.proof(KeySchedule.clientProof(secret, th));
        server.sent();
        server.writer.token(KeySchedule.refusalToken(fixed("refusal key"), SESSION_ID));
        put(p + "new.hello", hello);
        put(p + "new.welcome", welcome);
        put(p + "new.th", th);
        put(p + "new.secret", secret);
        putKeys(p + "new.", keys);
        put(p + "new.proof", proof);
        put(p + "new.token", server.sent());
        put(p + "new.data", sealed(c2s, FrameType.DATA, "hello, sproxy".getBytes(StandardCharsets.US_ASCII), 0, 0));
        put(p + "refused.busy", signedRefusal(host, Status.BUSY, new Transcript().add(hello)));
        put(p + "refused.authfailed", signedRefusal(host, Status.AUTH_FAILED,
                new Transcript().add(hello).add(welcome).add(proof)));
        resume(p, secret);
        unknown(p);
    }

    private void resume(String p, byte[] secret) throws Exception {
        KeyShare c = KeyShare.fromPrivate(fixed("client share resume"));
        KeyShare s = KeyShare.fromPrivate(fixed("server share resume"));
        Capture client = new Capture();
        Capture server = new Capture();
        byte[] hello = client.writer.hello(1000, new Hello(Mode.RESUME, SESSION_ID, fixed("client nonce resume"),
                c.publicKey(), WINDOW_C, ""));
        Transcript t = new Transcript().add(hello);
        Welcome unproven = new Welcome(Status.RESUMED, SESSION_ID, fixed("server nonce resume"), s.publicKey(),
                WINDOW_S, new byte[0], new byte[Handshake.MAC_SIZE]);
        byte[] draft = FrameWriter.encode(FrameType.WELCOME, 0, 2000, unproven.encode());
        byte[] mac = KeySchedule.serverProof(secret, t.hashWith(draft, Handshake.MAC_SIZE));
        byte[] welcome = server.writer.welcome(0, 2000, unproven.withAuth(mac));
        byte[] th = t.add(welcome).hash();
        LinkKeys keys = KeySchedule.linkKeys(secret, c.agree(s.publicKey()), th);
        client.protect(keys, true);
        put(p + "resume.hello", hello);
        put(p + "resume.welcome", welcome);
        put(p + "resume.th", th);
        putKeys(p + "resume.", keys);
        put(p + "resume.proof", client.writer.proof(KeySchedule.clientProof(secret, th)));
    }

    private void unknown(String p) throws Exception {
        KeyShare c = KeyShare.fromPrivate(fixed("client share unknown"));
        Capture client = new Capture();
        Capture server = new Capture();
        byte[] hello = client.writer.hello(3000, new Hello(Mode.RESUME, SESSION_ID, fixed("client nonce unknown"),
                c.publicKey(), WINDOW_C, ""));
        byte[] draft = FrameWriter.encode(FrameType.REFUSED, 0, 0,
                new Refusal(Status.UNKNOWN_SESSION, new byte[Handshake.MAC_SIZE]).encode());
        byte[] token = KeySchedule.refusalToken(fixed("refusal key"), SESSION_ID);
        byte[] mac = KeySchedule.refusalMac(token, new Transcript().add(hello).hashWith(draft, Handshake.MAC_SIZE));
        put(p + "unknown.hello", hello);
        put(p + "unknown.refused", server.writer.refused(new Refusal(Status.UNKNOWN_SESSION, mac)));
    }

    /** A refusal of a new session signed over {@code t} and the REFUSED without its signature. */
    private static byte[] signedRefusal(HostKey host, Status status, Transcript t) throws Exception {
        byte[] auth = Arrays.copyOf(host.publicKey(), Refusal.SIGNED_AUTH_SIZE);
        byte[] draft = FrameWriter.encode(FrameType.REFUSED, 0, 0, new Refusal(status, auth).encode());
        byte[] signature = host.sign(KeySchedule.refusalSigned(t.hashWith(draft, Handshake.SIGNATURE_SIZE)));
        System.arraycopy(signature, 0, auth, Handshake.HOST_KEY_SIZE, Handshake.SIGNATURE_SIZE);
        return new Capture().writer.refused(new Refusal(status, auth));
    }

    private void putKeys(String p, LinkKeys k) {
        put(p + "c2s.key", k.c2sKey());
        put(p + "c2s.iv", k.c2sIv());
        put(p + "s2c.key", k.s2cKey());
        put(p + "s2c.iv", k.s2cIv());
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** A {@link FrameWriter} on a {@link Link} whose socket only records what is written to it. */
    static final class Capture {
        private final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final Link link;
        final FrameWriter<Link> writer;

        Capture() throws java.io.IOException {
            link = new Link(new Socket() {
                @Override
                public OutputStream getOutputStream() {
                    return out;
                }

                @Override
                public InputStream getInputStream() {
                    return new ByteArrayInputStream(new byte[0]);
                }

                @Override
                public void setTcpNoDelay(boolean on) {
                }

                @Override
                public void setKeepAlive(boolean on) {
                }
            });
            writer = new FrameWriter<>(link, "vectors");
        }

        /** Gives the link its keys as cproxy ({@code client}) or sproxy does; returns the sealer. */
        FrameProtection.Sealer protect(LinkKeys k, boolean client) {
            FrameProtection.Sealer own = client ? FrameProtection.sealer(k.c2sKey(), k.c2sIv())
                    : FrameProtection.sealer(k.s2cKey(), k.s2cIv());
            link.protect(own, client ? FrameProtection.opener(k.s2cKey(), k.s2cIv())
                    : FrameProtection.opener(k.c2sKey(), k.c2sIv()));
            return own;
        }

        /** What was written since the last call. */
        byte[] sent() {
            byte[] b = out.toByteArray();
            out.reset();
            return b;
        }
    }
}
