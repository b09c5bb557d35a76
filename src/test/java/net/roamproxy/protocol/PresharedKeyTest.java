package net.roamproxy.protocol;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import org.junit.jupiter.api.Test;

/** The HMAC challenge-response: both proofs check out with the same key and fail otherwise. */
class PresharedKeyTest {
    private static final byte[] KEY = "correct horse battery staple".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] OTHER = "a different key of enough size".getBytes(StandardCharsets.US_ASCII);

    private final byte[] clientNonce = Handshake.randomBytes(Handshake.NONCE_SIZE);
    private final byte[] hello = Hello.forNew(new byte[Handshake.KEY_SIZE], 65536).encode();

    private static byte[] freshNonce() {
        return Handshake.randomBytes(Handshake.CHALLENGE_NONCE_SIZE);
    }

    private static byte[] nonceOf(byte[] challenge) {
        return Arrays.copyOf(challenge, Handshake.CHALLENGE_NONCE_SIZE);
    }

    @Test
    void sameKeyOnBothSidesProvesBothWays() {
        PresharedKey server = new PresharedKey(KEY);
        PresharedKey client = new PresharedKey(KEY.clone());

        byte[] challenge = server.challenge(clientNonce, freshNonce());

        assertEquals(PresharedKey.CHALLENGE_SIZE, challenge.length);
        assertTrue(client.serverProofValid(clientNonce, challenge));
        byte[] proof = client.clientProof(clientNonce, nonceOf(challenge), hello);
        assertTrue(server.clientProofValid(clientNonce, nonceOf(challenge), hello, proof));
    }

    @Test
    void clientWithAnotherKeyIsRejectedAndRejectsTheServer() {
        PresharedKey server = new PresharedKey(KEY);
        PresharedKey client = new PresharedKey(OTHER);

        byte[] challenge = server.challenge(clientNonce, freshNonce());

        assertFalse(client.serverProofValid(clientNonce, challenge));
        assertFalse(server.clientProofValid(clientNonce, nonceOf(challenge), hello, client.clientProof(clientNonce, nonceOf(challenge), hello)));
    }

    @Test
    void proofForOneChallengeDoesNotAnswerAFreshOne() {
        PresharedKey server = new PresharedKey(KEY);
        byte[] first = server.challenge(clientNonce, freshNonce());
        byte[] recorded = server.clientProof(clientNonce, nonceOf(first), hello);

        byte[] second = server.challenge(clientNonce, freshNonce());

        assertFalse(Arrays.equals(first, second), "server nonces must be fresh");
        assertFalse(server.clientProofValid(clientNonce, nonceOf(second), hello, recorded));
    }

    @Test
    void proofDoesNotCoverAHelloThatWasChangedInTransit() {
        PresharedKey key = new PresharedKey(KEY);
        byte[] challenge = key.challenge(clientNonce, freshNonce());
        byte[] proof = key.clientProof(clientNonce, nonceOf(challenge), hello);
        byte[] tampered = hello.clone();
        tampered[1] ^= 1;

        assertFalse(key.clientProofValid(clientNonce, nonceOf(challenge), tampered, proof));
    }

    @Test
    void serverProofCannotBeReflectedAsAClientProof() {
        PresharedKey key = new PresharedKey(KEY);
        byte[] challenge = key.challenge(clientNonce, freshNonce());
        byte[] serverProof = Arrays.copyOfRange(challenge, Handshake.CHALLENGE_NONCE_SIZE, PresharedKey.CHALLENGE_SIZE);

        assertFalse(key.clientProofValid(clientNonce, nonceOf(challenge), hello, serverProof));
    }

    @Test
    void aChallengeOfTheWrongSizeIsNotAProof() {
        PresharedKey key = new PresharedKey(KEY);
        byte[] challenge = key.challenge(clientNonce, freshNonce());

        assertFalse(key.serverProofValid(clientNonce, nonceOf(challenge)), "a bare nonce proves no key");
    }

    @Test
    void theSaltDependsOnTheKey() {
        assertFalse(Arrays.equals(new PresharedKey(KEY).salt(), new PresharedKey(OTHER).salt()));
        assertTrue(Arrays.equals(new PresharedKey(KEY).salt(), new PresharedKey(KEY.clone()).salt()));
    }

    @Test
    void keysShorterThanTheMinimumAreRefused() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new PresharedKey(new byte[PresharedKey.MIN_KEY_SIZE - 1]));

        assertTrue(e.getMessage().contains("at least " + PresharedKey.MIN_KEY_SIZE), e.getMessage());
    }
}
