package net.roamproxy.protocol;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The optional pre-shared-key proof: HMAC-SHA256 challenge-response over fresh nonces from
 * both sides. The key itself never crosses the wire.
 *
 * <pre>
 *  cproxy                                     sproxy
 *  HELLO (client nonce cn, 16 bytes)   ---->
 *                                      <----  CHALLENGE: sn (32 bytes) | HMAC(k, "sproxy" | cn | sn)
 *  PROOF: HMAC(k, "cproxy" | cn | sn | HELLO payload)  ---->
 *                                      <----  WELCOME (or WELCOME AUTH_FAILED)
 * </pre>
 *
 * Each side's proof covers the other's fresh nonce, so a recorded exchange cannot be
 * replayed; the labels keep one side's proof from being reflected as the other's; the client's
 * proof covers its HELLO, so the session id and secret it asks for cannot be swapped in transit.
 */
public final class PresharedKey {
    public static final int SERVER_NONCE_SIZE = 32;
    public static final int PROOF_SIZE = 32;
    public static final int CHALLENGE_SIZE = SERVER_NONCE_SIZE + PROOF_SIZE;
    /** Shorter keys are refused: they could be guessed offline from one recorded exchange. */
    public static final int MIN_KEY_SIZE = 16;

    private final SecretKeySpec key;

    public PresharedKey(byte[] key) {
        if (key.length < MIN_KEY_SIZE) {
            throw new IllegalArgumentException("pre-shared key must be at least " + MIN_KEY_SIZE + " bytes, got "
                    + key.length);
        }
        this.key = new SecretKeySpec(key.clone(), "HmacSHA256");
    }

    /** sproxy's CHALLENGE payload for a HELLO carrying {@code clientNonce}. */
    public byte[] challenge(byte[] clientNonce) {
        byte[] serverNonce = Handshake.randomBytes(SERVER_NONCE_SIZE);
        byte[] out = Arrays.copyOf(serverNonce, CHALLENGE_SIZE);
        System.arraycopy(mac("sproxy", clientNonce, serverNonce), 0, out, SERVER_NONCE_SIZE, PROOF_SIZE);
        return out;
    }

    /** cproxy's check of a CHALLENGE: does sproxy know the key? */
    public boolean serverProofValid(byte[] clientNonce, byte[] challenge) {
        byte[] serverNonce = Arrays.copyOf(challenge, SERVER_NONCE_SIZE);
        byte[] proof = Arrays.copyOfRange(challenge, SERVER_NONCE_SIZE, CHALLENGE_SIZE);
        return MessageDigest.isEqual(proof, mac("sproxy", clientNonce, serverNonce));
    }

    /** cproxy's PROOF payload. */
    public byte[] clientProof(byte[] clientNonce, byte[] challenge, byte[] helloPayload) {
        return mac("cproxy", clientNonce, Arrays.copyOf(challenge, SERVER_NONCE_SIZE), helloPayload);
    }

    /** sproxy's check of a PROOF, in constant time. */
    public boolean clientProofValid(byte[] clientNonce, byte[] challenge, byte[] helloPayload, byte[] proof) {
        return MessageDigest.isEqual(proof, clientProof(clientNonce, challenge, helloPayload));
    }

    private byte[] mac(String label, byte[]... parts) {
        try {
            Mac m = Mac.getInstance("HmacSHA256");
            m.init(key);
            m.update(label.getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            for (byte[] p : parts) {
                m.update(p);
            }
            return m.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every Java runtime", e);
        }
    }
}
