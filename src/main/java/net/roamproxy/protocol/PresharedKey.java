package net.roamproxy.protocol;

import java.util.Arrays;

/**
 * The optional pre-shared-key proof: HMAC-SHA256 challenge-response over fresh nonces from
 * both sides. The key itself never crosses the wire.
 *
 * <pre>
 *  cproxy                                     sproxy
 *  HELLO (client nonce cn, 16 bytes)   ---->
 *                                      <----  CHALLENGE: sn (32 bytes) | HMAC(k, "sproxy" | cn | sn)
 *  PROOF: [resume proof |] HMAC(k, "cproxy" | cn | sn | HELLO payload)  ---->
 *                                      <----  WELCOME (or WELCOME AUTH_FAILED)
 * </pre>
 *
 * Each side's proof covers the other's fresh nonce, so a recorded exchange cannot be
 * replayed; the labels keep one side's proof from being reflected as the other's; the client's
 * proof covers its HELLO, so what it asks for cannot be swapped in transit. The key also
 * salts every session secret ({@link #salt()}), so a man in the middle of a new session's key
 * agreement who lacks the key ends up with nothing. Immutable.
 */
public final class PresharedKey {
    public static final int PROOF_SIZE = Handshake.PROOF_SIZE;
    public static final int CHALLENGE_SIZE = Handshake.CHALLENGE_NONCE_SIZE + PROOF_SIZE;
    /** Shorter keys are refused: they could be guessed offline from one recorded exchange. */
    public static final int MIN_KEY_SIZE = 16;

    private final byte[] key;

    public PresharedKey(byte[] key) {
        if (key.length < MIN_KEY_SIZE) {
            throw new IllegalArgumentException("pre-shared key must be at least " + MIN_KEY_SIZE + " bytes, got "
                    + key.length);
        }
        this.key = key.clone();
    }

    /** sproxy's CHALLENGE payload for a HELLO carrying {@code clientNonce}, with its fresh {@code serverNonce}. */
    public byte[] challenge(byte[] clientNonce, byte[] serverNonce) {
        byte[] out = Arrays.copyOf(serverNonce, CHALLENGE_SIZE);
        System.arraycopy(mac("sproxy", clientNonce, serverNonce), 0, out, Handshake.CHALLENGE_NONCE_SIZE, PROOF_SIZE);
        return out;
    }

    /** cproxy's check of a CHALLENGE: does sproxy know the key? */
    public boolean serverProofValid(byte[] clientNonce, byte[] challenge) {
        if (challenge.length != CHALLENGE_SIZE) {
            return false;
        }
        byte[] serverNonce = Arrays.copyOf(challenge, Handshake.CHALLENGE_NONCE_SIZE);
        byte[] proof = Arrays.copyOfRange(challenge, Handshake.CHALLENGE_NONCE_SIZE, CHALLENGE_SIZE);
        return SessionKeys.same(proof, mac("sproxy", clientNonce, serverNonce));
    }

    /** cproxy's proof of the key. */
    public byte[] clientProof(byte[] clientNonce, byte[] serverNonce, byte[] helloPayload) {
        return mac("cproxy", clientNonce, serverNonce, helloPayload);
    }

    /** sproxy's check of cproxy's proof, in constant time. */
    public boolean clientProofValid(byte[] clientNonce, byte[] serverNonce, byte[] helloPayload, byte[] proof) {
        return SessionKeys.same(proof, clientProof(clientNonce, serverNonce, helloPayload));
    }

    /** What the key adds to every session secret. */
    public byte[] salt() {
        return mac("roamproxy session salt");
    }

    private byte[] mac(String label, byte[]... parts) {
        byte[][] all = new byte[parts.length + 1][];
        all[0] = SessionKeys.ascii(label);
        System.arraycopy(parts, 0, all, 1, parts.length);
        return SessionKeys.hmac(key, all);
    }
}
