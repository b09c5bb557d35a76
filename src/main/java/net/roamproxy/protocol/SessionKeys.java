package net.roamproxy.protocol;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.NamedParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.security.spec.XECPrivateKeySpec;
import java.util.Arrays;
import java.util.HexFormat;

import javax.crypto.KeyAgreement;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The session secret and the proofs made with it, from the JDK's own crypto: X25519 key
 * agreement, HMAC-SHA256 and HKDF (RFC 5869) built on it.
 *
 * <pre>
 *  shared     = X25519(own private key, peer's key share)
 *  transcript = SHA-256("roamproxy 2" | session id | cproxy's key share | sproxy's key share)
 *  secret     = HKDF-SHA256(salt = pre-shared-key salt or 32 zero bytes, ikm = shared,
 *                           info = "roamproxy session secret" | transcript, 32 bytes)
 *  confirm    = HMAC(secret, "sproxy new session")                   in the NEW_SESSION WELCOME
 *  client     = HMAC(secret, "cproxy resume" | HELLO payload | HELLO ack | server nonce)  in PROOF
 *  server     = HMAC(secret, "sproxy resume" | HELLO payload | server nonce | client)    in WELCOME
 * </pre>
 *
 * An observer of the wire sees only key shares, nonces and MACs: the secret needs one side's
 * private key, which never leaves memory. A resume proof covers sproxy's fresh nonce, so a
 * recorded one is never accepted again; it covers the HELLO and its ack, so neither can be
 * altered in transit. With a pre-shared key its salt enters the secret, so a man in the middle
 * of the key agreement who lacks the key derives nothing useful. Stateless and thread-safe.
 */
public final class SessionKeys {
    public static final int SECRET_SIZE = 32;
    /** X.509 SubjectPublicKeyInfo header of an X25519 key; the raw 32-byte key follows it. */
    private static final byte[] X25519_SPKI_PREFIX = HexFormat.of().parseHex("302a300506032b656e032100");
    private static final byte[] ZERO_SALT = new byte[32];

    private SessionKeys() {
    }

    /** One side's ephemeral X25519 key pair, kept only until the session secret is derived. */
    public static final class KeyShare {
        private final PrivateKey privateKey;
        private final byte[] publicKey;

        private KeyShare(PrivateKey privateKey, byte[] publicKey) {
            this.privateKey = privateKey;
            this.publicKey = publicKey;
        }

        /** A fresh key pair. */
        public static KeyShare generate() {
            try {
                KeyPair kp = KeyPairGenerator.getInstance("X25519").generateKeyPair();
                return new KeyShare(kp.getPrivate(), raw(kp.getPublic()));
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException("X25519 is part of every Java 11+ runtime", e);
            }
        }

        /** A key pair from a known private scalar: for known-answer tests only. */
        public static KeyShare fromPrivate(byte[] scalar) {
            try {
                PrivateKey k = KeyFactory.getInstance("XDH").generatePrivate(
                        new XECPrivateKeySpec(NamedParameterSpec.X25519, scalar.clone()));
                byte[] base = new byte[Handshake.KEY_SIZE];
                base[0] = 9; // the curve's base point: agreeing with it yields our public key
                return new KeyShare(k, SessionKeys.agree(k, base));
            } catch (GeneralSecurityException | ProtocolException e) {
                throw new IllegalArgumentException("not an X25519 private key", e);
            }
        }

        /** The 32-byte public key, as it goes on the wire. */
        public byte[] publicKey() {
            return publicKey.clone();
        }

        /**
         * The shared secret with a peer's key share.
         *
         * @throws ProtocolException if the peer's key is not a usable X25519 key
         */
        public byte[] agree(byte[] peerPublicKey) throws ProtocolException {
            return SessionKeys.agree(privateKey, peerPublicKey);
        }
    }

    private static byte[] raw(PublicKey k) {
        byte[] enc = k.getEncoded();
        return Arrays.copyOfRange(enc, enc.length - Handshake.KEY_SIZE, enc.length);
    }

    private static byte[] agree(PrivateKey own, byte[] peer) throws ProtocolException {
        if (peer.length != Handshake.KEY_SIZE) {
            throw new ProtocolException("key share is " + peer.length + " bytes, expected " + Handshake.KEY_SIZE);
        }
        try {
            byte[] spki = Arrays.copyOf(X25519_SPKI_PREFIX, X25519_SPKI_PREFIX.length + peer.length);
            System.arraycopy(peer, 0, spki, X25519_SPKI_PREFIX.length, peer.length);
            PublicKey pk = KeyFactory.getInstance("XDH").generatePublic(new X509EncodedKeySpec(spki));
            KeyAgreement ka = KeyAgreement.getInstance("X25519");
            ka.init(own);
            ka.doPhase(pk, true);
            return ka.generateSecret();
        } catch (GeneralSecurityException e) {
            // e.g. a low-order point, whose shared secret would be all zeros
            throw new ProtocolException("unusable key share: " + e.getMessage());
        }
    }

    /** The session secret, as both ends derive it. {@code salt} is the pre-shared key's, or {@code null}. */
    public static byte[] sessionSecret(byte[] shared, long sessionId, byte[] clientShare, byte[] serverShare,
                                       byte[] salt) {
        byte[] id = new byte[8];
        Wire.putLong(id, 0, sessionId);
        byte[] transcript = sha256(ascii("roamproxy 2"), id, clientShare, serverShare);
        byte[] prk = hmac(salt == null ? ZERO_SALT : salt, shared);
        // HKDF-Expand for one block: T(1) = HMAC(prk, info | 0x01)
        return hmac(prk, ascii("roamproxy session secret"), transcript, new byte[] {1});
    }

    /** sproxy's key confirmation in the NEW_SESSION WELCOME. */
    public static byte[] newSessionConfirmation(byte[] secret) {
        return hmac(secret, ascii("sproxy new session"));
    }

    /** cproxy's resume proof, sent in PROOF. */
    public static byte[] clientResumeProof(byte[] secret, byte[] helloPayload, long helloAck, byte[] serverNonce) {
        byte[] ack = new byte[8];
        Wire.putLong(ack, 0, helloAck);
        return hmac(secret, ascii("cproxy resume"), helloPayload, ack, serverNonce);
    }

    /** sproxy's answer proof, sent in the RESUMED WELCOME: cproxy knows it reached the real sproxy. */
    public static byte[] serverResumeProof(byte[] secret, byte[] helloPayload, byte[] serverNonce, byte[] clientProof) {
        return hmac(secret, ascii("sproxy resume"), helloPayload, serverNonce, clientProof);
    }

    /** Constant-time comparison, so a forger learns nothing from timing. */
    public static boolean same(byte[] a, byte[] b) {
        return MessageDigest.isEqual(a, b);
    }

    static byte[] hmac(byte[] key, byte[]... parts) {
        try {
            Mac m = Mac.getInstance("HmacSHA256");
            m.init(new SecretKeySpec(key, "HmacSHA256"));
            for (byte[] p : parts) {
                m.update(p);
            }
            return m.doFinal();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is part of every Java runtime", e);
        }
    }

    private static byte[] sha256(byte[]... parts) {
        try {
            MessageDigest d = MessageDigest.getInstance("SHA-256");
            for (byte[] p : parts) {
                d.update(p);
            }
            return d.digest();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
        }
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
