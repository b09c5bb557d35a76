package net.roamproxy.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;

import net.roamproxy.testkit.Json;
import net.roamproxy.testkit.PythonCheck;

/**
 * Known-answer vectors of every protocol-3 construction: HKDF-Extract and HKDF-Expand-Label,
 * X25519, Ed25519 and the host-key fingerprint, the refusal token and MAC, the signed messages,
 * AES-256-GCM sealing of whole frames at frame counts 0, 1, 2^32-1 and beyond, and two whole
 * sessions (without and with a pre-shared key): HELLO NEW, the signed WELCOME, the session
 * secret and link keys, the sealed PROOF, TOKEN and DATA, a resume with fresh key shares, an
 * UNKNOWN_SESSION with its MAC, and signed refusals.
 *
 * <p>The product computes them ({@link Protocol3JavaVectors}) and must match {@link #FROZEN},
 * committed here so that the check runs anywhere. The independent Python implementation
 * ({@code src/test/python/protocol3_vectors.py}, written from the javadoc) must compute the
 * same, both what the product computes and what is frozen, so neither can drift unnoticed;
 * those two comparisons are skipped only where python3 or its cryptography module is missing.
 */
class Protocol3VectorsTest {
    private static final HexFormat HEX = HexFormat.of();

    /** What the Python implementation printed when these vectors were frozen. */
    static final String FROZEN = """
            {
             "ed25519.fingerprint": "SHA256:12nfilX6tF/ynREX2zjFGNn5ISM2mjOR4q5/Kmc2wvM",
             "ed25519.public": "340db5d4ff770ba08fb5eed0354e59c506e7e6928c6f6ced393ce242eb5e0595",
             "ed25519.signature": "55fdcaf2cf032132c4f8f3d833c3a4b448760d1e2bde92b50640025a8ecfff4931f58f87bef535f4d41e56a2c443fc538e602881f036281c215d9428c9c2eb06",
             "hkdf.expand.emptycontext": "1dddddbe65092d8adfb113a0b3ac09e7229160628eb24bc9e6151b9593a02cf3",
             "hkdf.expand.iv": "23502bb64b8e566a98dc318a",
             "hkdf.expand.session": "ae8a290261d9bf1b5ec2b31381e24e4acd1393cf6aeed3d99965f8e2ef937ecb",
             "hkdf.expand.threeblocks": "b717162129116801e98540afd34b8e0fea139fb4286c1ac02d7266e3648fe1c06f81bef2bbf5d2f54d2b850eecc406ef4c567a30dd7c97bce80810077da16ffae9f537d4ee148ffe7fea83ffb50beb4f",
             "hkdf.extract": "009c82f9dd2eb226c24194de37c334bfebd9c9eae1a0828a8f0da4d1f6cc432d",
             "nopsk.new.c2s.iv": "6b2422ef1d979ddc49147e39",
             "nopsk.new.c2s.key": "c2aa0f664730b6b4daa13de0e7fbe5a69708c0a11b4e18ceae6e604c4a4e058f",
             "nopsk.new.data": "525003040000001d00000000000000000000000000000000fbbd16f4f5146a66f64173139d31d84f9ad6d9cd94e84a3383c38e993a",
             "nopsk.new.hello": "525003010000005100000000000000000000000000000000010000000000000000fb8e3163e312285a6048ed9559ce45ae76bc2b2112c6f1e787c4f9f4caf10e43a4d35ecb95bd8b6943997bb3a1fa451ad55956f9d16b2df7c763332926c81c180010000003776562",
             "nopsk.new.proof": "525003080000003000000000000000000000000000000000b5fc39901797a52115f22315d546db4d3009ec1e32172f6530d373ac8b2deeaa2810cd4a4d3aabdfd47306aea17289a4",
             "nopsk.new.s2c.iv": "7ee686e76462554fbdba44df",
             "nopsk.new.s2c.key": "a5c9198164c11e00e78c5b1446e2af0c122f1ec73f3faee07c52ab82011aa4c0",
             "nopsk.new.secret": "f6e107999ed45ce05e186e865a42dba5bd9c7a116247b3fd2953a42e7c34f9df",
             "nopsk.new.th": "c797062339073e36f3bb912a54616ec39242c7a9eaa2b3c5b89955887693aa6b",
             "nopsk.new.token": "5250030c0000003000000000000000000000000000000000769dece88016ae38eead4e5d69a8262d6db899b2e3d7dd04c7e7e01db250d04802d7972d2f8e36bcbe7858b65cbe2dec",
             "nopsk.new.welcome": "52500302000000ad00000000000000000000000000000000018badf00d12345678f3909a8ef452e39387e4d1ba8b0122e5632395f9a772e7987517603c0c735a071d71a5d20a53d3f170702fe7708b87bff430389ed7afc643fbf273ba23d2936e7fffffff340db5d4ff770ba08fb5eed0354e59c506e7e6928c6f6ced393ce242eb5e0595b7a3926cf53b3863e304259ececeddce9806f5edd54dac53996e43c828566b1659f3a2c4713f7362f38f1c60026435da1e514533e02a20aebca46b8c3058ea00",
             "nopsk.refused.authfailed": "5250030b000000610000000000000000000000000000000007340db5d4ff770ba08fb5eed0354e59c506e7e6928c6f6ced393ce242eb5e059521dd37814a45275439dace1e8c5439687313b1d097ae3de57efc140c678e16c692f238ffca3e466dbda535ba500816c5e9ad438637267257fb897e339eca5d0b",
             "nopsk.refused.busy": "5250030b000000610000000000000000000000000000000006340db5d4ff770ba08fb5eed0354e59c506e7e6928c6f6ced393ce242eb5e0595bbbdfa7971c2c23f732077f29551e8bc586b7dde4f06d79b1d0826aa2392665445b23fda36363303d4de962a75721dda616ddafbef133bdb0568a912b98f8e05",
             "nopsk.resume.c2s.iv": "50609d2adf1c099414af449a",
             "nopsk.resume.c2s.key": "9533ca7e267e7de09f38d098273b6abba0771fc1cc4acb492e9baa612957c8a0",
             "nopsk.resume.hello": "525003010000004e000000000000000000000000000003e8028badf00d1234567849317b00a2f5d1a8453ebc6079cad3a47ceb9e7d5ca670ddae69b82b9e3587884a7880b5ec5de09d640969867ec223022ff6a5d0937dd980e10d6cfa301e716b0010000000",
             "nopsk.resume.proof": "525003080000003000000000000000000000000000000000443d3d29da63f109545dd57736bde2a210dd33751456c173b1a7260029df971856a93e3d6a649ea879bc3bdc9d428b7e",
             "nopsk.resume.s2c.iv": "3d3a47c3143acd34444d21c7",
             "nopsk.resume.s2c.key": "11b013caa489fa523e279b4f5a8df69e199a3e5fae019f1d4af3f920b94bea97",
             "nopsk.resume.th": "4541ba9b83092e83eeda90786ab2731775dbcecf5adc882439f0ba94e08837fd",
             "nopsk.resume.welcome": "525003020000006d000000000000000000000000000007d0028badf00d12345678de448019808b26f5075f012e2b1a1486edaa45359b13587d76507507d9c383ec19ca84850c948ad1e7c59e39c562a729c1b6ca0ca8d0409d0baa4b1441275d5b7fffffff3fa1a1e7ff38172f04be4167fff4628c2552044319a57ae4f65157cd3edf1204",
             "nopsk.unknown.hello": "525003010000004e00000000000000000000000000000bb8028badf00d123456787b8fece1acccacbfad626812470e425512aa09eda4a7e8caca0fbda5c06d7594d444c393fa5dafa9bd7c32fb068385830b7c5806fd30f856bdcba33aa6ea6d080010000000",
             "nopsk.unknown.refused": "5250030b0000002100000000000000000000000000000000030442a8b319d2061bbeb955725140fed265df946e2eb6951a03ef412ca1100b75",
             "psk.new.c2s.iv": "9137ca2463cebb644a182ddc",
             "psk.new.c2s.key": "e5a42f581af9bccd452a61438abf75a09b6a270e705c624f4d3ea9376691018e",
             "psk.new.data": "525003040000001d0000000000000000000000000000000046af8ec04ab81480b2457a07be2c720a48dd5faa798235f9053df3a9a3",
             "psk.new.hello": "525003010000005100000000000000000000000000000000010000000000000000fb8e3163e312285a6048ed9559ce45ae76bc2b2112c6f1e787c4f9f4caf10e43a4d35ecb95bd8b6943997bb3a1fa451ad55956f9d16b2df7c763332926c81c180010000003776562",
             "psk.new.proof": "525003080000003000000000000000000000000000000000413b3f823fa32b833168c2b49d6a5f073ed1b75a3c394b09a5a8029d3e746d8a481c8467bb6d6be81830f6691c0f526b",
             "psk.new.s2c.iv": "20276aad60f13d45adf2c94f",
             "psk.new.s2c.key": "2fd27335beced174877ad43da6f9bb905b2da2027ba84147c7389b0b9871dbb3",
             "psk.new.secret": "2bde0212a73a2b4d59230d6c8f1e3b937d0de2d300856441f29d7c6b95ac35f5",
             "psk.new.th": "c797062339073e36f3bb912a54616ec39242c7a9eaa2b3c5b89955887693aa6b",
             "psk.new.token": "5250030c000000300000000000000000000000000000000072dff17e86aa82b6808a37010d365df43ef9cdd1808d85951f3220e2131b28f9e7d98e0f3225c7cd318b52b39d4cfc78",
             "psk.new.welcome": "52500302000000ad00000000000000000000000000000000018badf00d12345678f3909a8ef452e39387e4d1ba8b0122e5632395f9a772e7987517603c0c735a071d71a5d20a53d3f170702fe7708b87bff430389ed7afc643fbf273ba23d2936e7fffffff340db5d4ff770ba08fb5eed0354e59c506e7e6928c6f6ced393ce242eb5e0595b7a3926cf53b3863e304259ececeddce9806f5edd54dac53996e43c828566b1659f3a2c4713f7362f38f1c60026435da1e514533e02a20aebca46b8c3058ea00",
             "psk.refused.authfailed": "5250030b000000610000000000000000000000000000000007340db5d4ff770ba08fb5eed0354e59c506e7e6928c6f6ced393ce242eb5e0595df54e32810ef0d7d5f710f3d8103e97a1b63ee9e600f9e03ab092ada2c705838cbe777321ddf1bb9c9bee3c85937c86215c6de700bae8dc435722616441b8707",
             "psk.refused.busy": "5250030b000000610000000000000000000000000000000006340db5d4ff770ba08fb5eed0354e59c506e7e6928c6f6ced393ce242eb5e0595bbbdfa7971c2c23f732077f29551e8bc586b7dde4f06d79b1d0826aa2392665445b23fda36363303d4de962a75721dda616ddafbef133bdb0568a912b98f8e05",
             "psk.resume.c2s.iv": "55cdcda69e942fff112077f9",
             "psk.resume.c2s.key": "caa955387f01cf94c4a551cc7f462ae5627ffe474ddec3487a1d731ddde595a5",
             "psk.resume.hello": "525003010000004e000000000000000000000000000003e8028badf00d1234567849317b00a2f5d1a8453ebc6079cad3a47ceb9e7d5ca670ddae69b82b9e3587884a7880b5ec5de09d640969867ec223022ff6a5d0937dd980e10d6cfa301e716b0010000000",
             "psk.resume.proof": "52500308000000300000000000000000000000000000000054009eda0b5aef6a23eb6140dd4171e0321692799e09898d2110962f8e89f5920602d37a3c35373afce57ff8f3c46e0a",
             "psk.resume.s2c.iv": "232f474ef34a4a14510fe1b8",
             "psk.resume.s2c.key": "74731a48927a6393cc133f9884a39934f7b9092239a4c2cae91c845c51d934a6",
             "psk.resume.th": "bbbec9cd2118e91344f433c57e4e25f7c6ba664ae57b7caeaa73e1788e632338",
             "psk.resume.welcome": "525003020000006d000000000000000000000000000007d0028badf00d12345678de448019808b26f5075f012e2b1a1486edaa45359b13587d76507507d9c383ec19ca84850c948ad1e7c59e39c562a729c1b6ca0ca8d0409d0baa4b1441275d5b7fffffffe4731e3d0994d425d047361c50cd88bb2b4148b96e00331840405fd424299dbc",
             "psk.unknown.hello": "525003010000004e00000000000000000000000000000bb8028badf00d123456787b8fece1acccacbfad626812470e425512aa09eda4a7e8caca0fbda5c06d7594d444c393fa5dafa9bd7c32fb068385830b7c5806fd30f856bdcba33aa6ea6d080010000000",
             "psk.unknown.refused": "5250030b0000002100000000000000000000000000000000030442a8b319d2061bbeb955725140fed265df946e2eb6951a03ef412ca1100b75",
             "refusal.mac": "e42b49b9c960788a4e329324cc0de5c60a5a57ba81c5e35b1ad283e8c2d8d9da",
             "refusal.token": "8d33bc73dae707cebc55b2936904e6c3f134049c55220e8871b1691c3336e080",
             "seal.data.0": "52500304000000390000010000000000000000000000004d43f3fd8e0478d0073fba55435c35cf9baf623cb7d3ec5b637050b72ebbe55ede4f52c3722dba71af483f26a4690bf11e9b00bdd80d2ad61331",
             "seal.data.1": "52500304000000390000010000000000000000000000004dd051d6c607abd02d0034b6a60bed0ed4c49666248920df0e70e730b7871657383d7f0f1e5a16b3d4b393aa03306c38099e6927afc0da1edb19",
             "seal.data.102030405060708": "52500304000000390000010000000000000000000000004d440045109f623974c3c03fa8e0b4022c7f667c6300c78f4fd301ed59b68564c5cfe940374ff875b6d6454ffa04c380335b146fb868f37b05a1",
             "seal.data.ffffffff": "52500304000000390000010000000000000000000000004d609af6aee003b24eedb320e6097f6e4bc186d3b44e1daf6aa03175a36d1fc212be6103d9e811dc4b4f1fb2c87a18a8dec8f47a773fbbd80aa4",
             "seal.heartbeat.0": "5250030300000010000000000000000500000000000000069b04c3a41b0919e03866b99db9d72311",
             "signed.refusal": "726f616d70726f787933207265667573616c006bde0b830d8bd56dea61c5c1cb648c7ffca6ffce2923ad1db9f29079cac947e0",
             "signed.welcome": "726f616d70726f7879332077656c636f6d65006bde0b830d8bd56dea61c5c1cb648c7ffca6ffce2923ad1db9f29079cac947e0",
             "x25519.a.public": "c8ffb8e42ce50654d31372ec4676cc21aa45a60ed45909749131ebf5c6fcda38",
             "x25519.b.public": "f286eda13f4b3cbf8bf2574bed81383e4b68250f3cc84c7e2ac6284e38a46072",
             "x25519.shared": "6bd7ccf8cdf0f80c8fe893c5d94ea5d5b75bfbecc82eb7425631e573f85d035e"
            }
            """;
    private static Map<String, String> frozen;
    private static Map<String, String> python;

    @Test
    void theProductComputesTheFrozenVectors() throws Exception {
        assertSameVectors("the product", Protocol3JavaVectors.compute(), "frozen", frozen());
    }

    @Test
    void theIndependentPythonImplementationComputesWhatTheProductComputes() throws Exception {
        assertSameVectors("the product", Protocol3JavaVectors.compute(), "Python", python());
    }

    @Test
    void theFrozenVectorsAreWhatThePythonImplementationComputes() throws Exception {
        assertSameVectors("frozen", frozen(), "Python", python());
    }

    @Test
    void theFrozenSealedFramesOpenUnderTheirLinkKeysToTheProofTokenAndData() throws Exception {
        for (String p : List.of("nopsk.", "psk.")) {
            byte[] secret = frozen(p + "new.secret");
            FrameReader fromClient = reader(p + "new.c2s", frozen(p + "new.proof"), frozen(p + "new.data"));
            assertArrayEquals(KeySchedule.clientProof(secret, frozen(p + "new.th")),
                    payload(fromClient, FrameType.PROOF));
            assertEquals("hello, sproxy", new String(payload(fromClient, FrameType.DATA), StandardCharsets.US_ASCII));
            assertArrayEquals(KeySchedule.refusalToken(Protocol3JavaVectors.fixed("refusal key"),
                    Protocol3JavaVectors.SESSION_ID),
                    payload(reader(p + "new.s2c", frozen(p + "new.token")), FrameType.TOKEN));
            assertArrayEquals(KeySchedule.clientProof(secret, frozen(p + "resume.th")),
                    payload(reader(p + "resume.c2s", frozen(p + "resume.proof")), FrameType.PROOF));
        }
    }

    @Test
    void aProofSealedUnderTheOtherDirectionsKeysDoesNotOpen() throws Exception {
        FrameReader wrongWay = reader("nopsk.new.s2c", frozen("nopsk.new.proof"));
        assertThrows(ProtocolException.class, wrongWay::next);
    }

    @Test
    void theFrozenWelcomeAndRefusalsCarryValidSignaturesByTheHostKey() throws Exception {
        byte[] hostKey = frozen("ed25519.public");
        byte[] hello = frozen("nopsk.new.hello");
        byte[] welcome = frozen("nopsk.new.welcome");
        Welcome w = Welcome.decode(new FrameReader(new ByteArrayInputStream(welcome)).next());
        assertArrayEquals(hostKey, w.hostKey());
        assertTrue(HostKey.verify(hostKey, KeySchedule.welcomeSigned(
                new Transcript().add(hello).hashWith(welcome, Handshake.SIGNATURE_SIZE)), w.auth()));
        byte[] busy = frozen("nopsk.refused.busy");
        Refusal r = Refusal.decode(new FrameReader(new ByteArrayInputStream(busy)).next());
        assertTrue(HostKey.verify(r.hostKey(), KeySchedule.refusalSigned(
                new Transcript().add(hello).hashWith(busy, Handshake.SIGNATURE_SIZE)), r.tag()));
        assertEquals(HostKey.fingerprint(hostKey), frozen().get("ed25519.fingerprint"));
    }

    @Test
    void theFrameSealedAtTheLastAllowedCountOpensThereAndTheNextIsRefused() throws Exception {
        FrameProtection.Opener opener = FrameProtection.opener(Protocol3JavaVectors.fixed("aes key"),
                Protocol3JavaVectors.fixed("aes iv", 12));
        opener.frames = FrameProtection.MAX_FRAMES - 1;
        FrameReader r = new FrameReader(new ByteArrayInputStream(concat(frozen("seal.data.ffffffff"),
                frozen("seal.data.ffffffff"))));
        r.protect(opener);
        assertEquals(FrameType.DATA, r.next().type());
        assertThrows(ProtocolException.class, r::next);
    }

    private static FrameReader reader(String direction, byte[]... frames) {
        FrameReader r = new FrameReader(new ByteArrayInputStream(concat(frames)));
        r.protect(FrameProtection.opener(frozen(direction + ".key"), frozen(direction + ".iv")));
        return r;
    }

    private static byte[] payload(FrameReader r, FrameType expected) throws IOException {
        Frame f = r.next();
        assertEquals(expected, f.type());
        return f.payload();
    }

    private static byte[] concat(byte[]... parts) {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** Every name in both maps with the same value; the failure names every difference. */
    private static void assertSameVectors(String a, Map<String, String> av, String b, Map<String, String> bv) {
        List<String> problems = new ArrayList<>();
        for (String name : new TreeSet<>(union(av, bv))) {
            String x = av.get(name);
            String y = bv.get(name);
            if (x == null || !x.equals(y)) {
                problems.add(name + ":\n    " + a + ": " + x + "\n    " + b + ": " + y);
            }
        }
        assertTrue(problems.isEmpty(), problems.size() + " vectors differ between " + a + " and " + b + ":\n"
                + String.join("\n", problems));
        assertTrue(av.size() > 60, "only " + av.size() + " vectors");
    }

    private static TreeSet<String> union(Map<String, String> a, Map<String, String> b) {
        TreeSet<String> s = new TreeSet<>(a.keySet());
        s.addAll(b.keySet());
        return s;
    }

    private static byte[] frozen(String name) {
        String hex = frozen().get(name);
        assertTrue(hex != null, "no frozen vector " + name);
        return HEX.parseHex(hex);
    }

    private static synchronized Map<String, String> frozen() {
        if (frozen == null) {
            frozen = strings(Json.parse(FROZEN));
        }
        return frozen;
    }

    /** The Python implementation's vectors; skips the calling test if python3 or its cryptography is missing. */
    private static synchronized Map<String, String> python() throws Exception {
        if (python != null) {
            return python;
        }
        python = strings(Json.parse(PythonCheck.run()));
        return python;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, String> strings(Object json) {
        Map<String, String> m = new TreeMap<>();
        ((Map<String, Object>) json).forEach((k, v) -> m.put(k, (String) v));
        return m;
    }
}
