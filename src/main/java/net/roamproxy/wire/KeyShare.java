package net.roamproxy.wire;

import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.spec.NamedParameterSpec;
import java.security.spec.X509EncodedKeySpec;
import java.security.spec.XECPrivateKeySpec;
import java.util.Arrays;
import java.util.HexFormat;

import javax.crypto.KeyAgreement;

/**
 * One side's ephemeral X25519 key pair (RFC 7748), from the JDK. A fresh one for every HELLO
 * and every WELCOME, kept only until the link's keys are derived. Immutable.
 */
public final class KeyShare {
    /** X.509 SubjectPublicKeyInfo header of an X25519 key; the raw 32-byte key follows it. */
    private static final byte[] SPKI_PREFIX = HexFormat.of().parseHex("302a300506032b656e032100");

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

    /** A key pair from a known private scalar: for known-answer tests. */
    public static KeyShare fromPrivate(byte[] scalar) {
        try {
            PrivateKey k = KeyFactory.getInstance("XDH").generatePrivate(
                    new XECPrivateKeySpec(NamedParameterSpec.X25519, scalar.clone()));
            byte[] base = new byte[Handshake.KEY_SIZE];
            base[0] = 9; // the curve's base point: agreeing with it yields our public key
            return new KeyShare(k, agree(k, base));
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
     * @throws ProtocolException if the peer's key is unusable: a low-order point, whose shared
     *                           secret is all zeros (RFC 7748 section 6.1)
     */
    public byte[] agree(byte[] peerPublicKey) throws ProtocolException {
        return agree(privateKey, peerPublicKey);
    }

    private static byte[] raw(PublicKey k) {
        byte[] enc = k.getEncoded();
        return Arrays.copyOfRange(enc, enc.length - Handshake.KEY_SIZE, enc.length);
    }

    private static byte[] agree(PrivateKey own, byte[] peer) throws ProtocolException {
        if (peer.length != Handshake.KEY_SIZE) {
            throw new ProtocolException("key share is " + peer.length + " bytes, expected " + Handshake.KEY_SIZE);
        }
        byte[] shared;
        try {
            byte[] spki = Arrays.copyOf(SPKI_PREFIX, SPKI_PREFIX.length + peer.length);
            System.arraycopy(peer, 0, spki, SPKI_PREFIX.length, peer.length);
            PublicKey pk = KeyFactory.getInstance("XDH").generatePublic(new X509EncodedKeySpec(spki));
            KeyAgreement ka = KeyAgreement.getInstance("X25519");
            ka.init(own);
            ka.doPhase(pk, true);
            shared = ka.generateSecret();
        } catch (GeneralSecurityException e) {
            throw new ProtocolException("unusable key share: " + e.getMessage());
        }
        // The JDK refuses an all-zero result itself; the check stays in case a provider does not.
        int or = 0;
        for (byte b : shared) {
            or |= b;
        }
        if (or == 0) {
            throw new ProtocolException("unusable key share: the shared secret is all zeros");
        }
        return shared;
    }
}
