package net.roamproxy.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;
import java.util.HexFormat;

import org.junit.jupiter.api.Test;

/**
 * The key agreement and the proofs. The known-answer vectors were produced by this code once
 * and frozen (the secret was also recomputed independently, with Python's hmac and hashlib,
 * from the formula in {@link SessionKeys}): any change to the derivation, which would break
 * every peer of another build, fails here. X25519 is checked against RFC 7748, section 6.1.
 */
class SessionKeysTest {
    private static final HexFormat HEX = HexFormat.of();
    // RFC 7748, 6.1: Alice's and Bob's private keys, public keys and shared secret.
    private static final byte[] ALICE = HEX.parseHex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    private static final byte[] ALICE_PUBLIC = HEX.parseHex(
            "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    private static final byte[] BOB = HEX.parseHex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
    private static final byte[] BOB_PUBLIC = HEX.parseHex(
            "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    private static final byte[] SHARED = HEX.parseHex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
    private static final long ID = 0x0123456789abcdefL;

    private static final SessionKeys.KeyShare CLIENT = SessionKeys.KeyShare.fromPrivate(ALICE);
    private static final SessionKeys.KeyShare SERVER = SessionKeys.KeyShare.fromPrivate(BOB);

    private static byte[] secret(byte[] salt) {
        return SessionKeys.sessionSecret(SHARED, ID, ALICE_PUBLIC, BOB_PUBLIC, salt);
    }

    @Test
    void x25519MatchesRfc7748() throws ProtocolException {
        assertArrayEquals(ALICE_PUBLIC, CLIENT.publicKey());
        assertArrayEquals(BOB_PUBLIC, SERVER.publicKey());
        assertArrayEquals(SHARED, CLIENT.agree(BOB_PUBLIC));
        assertArrayEquals(SHARED, SERVER.agree(ALICE_PUBLIC));
    }

    @Test
    void theSessionSecretMatchesItsFrozenVector() {
        assertEquals("e7c5082132160a06f611dc6bc81feaaf318c7bdbfc32bd4dab073a617baba4d1", HEX.formatHex(secret(null)));
        assertEquals("8e1fdd532db8744513ef6405592ae4e0714c9b19e8dfebbe0819403fab7df74c",
                HEX.formatHex(secret(new PresharedKey("correct horse battery staple".getBytes()).salt())));
    }

    @Test
    void theProofsMatchTheirFrozenVectors() {
        byte[] s = secret(null);
        // A HELLO payload's bytes, fixed here so that the vectors test the proofs alone.
        byte[] hello = HEX.parseHex("02" + "0123456789abcdef" + "00".repeat(32 + 16) + "00010000");
        byte[] nonce = new byte[32];
        Arrays.fill(nonce, (byte) 0x5a);
        byte[] client = SessionKeys.clientResumeProof(s, hello, 1234, nonce);

        assertEquals("3b1e1db83546cfeec33de5de1c8dd0408e947dead71bfa136d863745472c66d8",
                HEX.formatHex(SessionKeys.newSessionConfirmation(s)));
        assertEquals("d76f8340fe3ddf17ecb57794744a1cb1e45d51a607e8279299e064849e755b7a", HEX.formatHex(client));
        assertEquals("0621b5acba1c88e5dd2b3d21920edc05f4427b64f900c0d1988bf9c091755de3",
                HEX.formatHex(SessionKeys.serverResumeProof(s, hello, nonce, client)));
    }

    @Test
    void bothEndsDeriveTheSameSecretFromFreshKeys() throws ProtocolException {
        SessionKeys.KeyShare c = SessionKeys.KeyShare.generate();
        SessionKeys.KeyShare srv = SessionKeys.KeyShare.generate();

        byte[] atClient = SessionKeys.sessionSecret(c.agree(srv.publicKey()), ID, c.publicKey(), srv.publicKey(), null);
        byte[] atServer = SessionKeys.sessionSecret(srv.agree(c.publicKey()), ID, c.publicKey(), srv.publicKey(), null);

        assertArrayEquals(atClient, atServer);
        assertEquals(SessionKeys.SECRET_SIZE, atClient.length);
    }

    @Test
    void theSecretIsBoundToTheSessionIdTheKeySharesAndTheKey() {
        byte[] s = secret(null);
        assertFalse(Arrays.equals(s, SessionKeys.sessionSecret(SHARED, ID + 1, ALICE_PUBLIC, BOB_PUBLIC, null)));
        assertFalse(Arrays.equals(s, SessionKeys.sessionSecret(SHARED, ID, BOB_PUBLIC, ALICE_PUBLIC, null)));
        assertFalse(Arrays.equals(s, secret(new PresharedKey("another key, long enough".getBytes()).salt())));
    }

    @Test
    void aRecordedProofDoesNotAnswerAFreshChallengeNorATamperedHello() {
        byte[] s = secret(null);
        byte[] hello = Hello.forResume(ID, 65536).encode();
        byte[] recordedNonce = Handshake.randomBytes(32);
        byte[] recorded = SessionKeys.clientResumeProof(s, hello, 10, recordedNonce);

        byte[] freshNonce = Handshake.randomBytes(32);
        assertFalse(SessionKeys.same(recorded, SessionKeys.clientResumeProof(s, hello, 10, freshNonce)));
        byte[] tampered = hello.clone();
        tampered[8] ^= 1; // another session id
        assertFalse(SessionKeys.same(recorded, SessionKeys.clientResumeProof(s, tampered, 10, recordedNonce)));
        assertFalse(SessionKeys.same(recorded, SessionKeys.clientResumeProof(s, hello, 11, recordedNonce)),
                "the ack is covered too");
        byte[] wrongSecret = s.clone();
        wrongSecret[0] ^= 1;
        assertFalse(SessionKeys.same(recorded, SessionKeys.clientResumeProof(wrongSecret, hello, 10, recordedNonce)));
    }

    @Test
    void theServersProofCannotBeReflectedAsTheClients() {
        byte[] s = secret(null);
        byte[] hello = Hello.forResume(ID, 65536).encode();
        byte[] nonce = Handshake.randomBytes(32);
        byte[] client = SessionKeys.clientResumeProof(s, hello, 0, nonce);
        assertFalse(SessionKeys.same(client, SessionKeys.serverResumeProof(s, hello, nonce, client)));
    }

    @Test
    void aLowOrderKeyShareIsRefusedAsAProtocolError() {
        // u = 0 and u = 1 have small order: agreeing with them would give an all-zero secret.
        assertThrows(ProtocolException.class, () -> CLIENT.agree(new byte[32]));
        byte[] one = new byte[32];
        one[0] = 1;
        assertThrows(ProtocolException.class, () -> CLIENT.agree(one));
        assertThrows(ProtocolException.class, () -> CLIENT.agree(new byte[31]));
    }
}
