package net.roamproxy.wire;

import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.interfaces.EdECPrivateKey;
import java.security.spec.InvalidKeySpecException;
import java.security.spec.NamedParameterSpec;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.regex.Pattern;

/**
 * sproxy's long-term Ed25519 host key (RFC 8032), from the JDK: it signs every new session's
 * WELCOME and every refusal of a new session, and cproxy remembers it as ssh remembers host
 * keys. Its fingerprint is written as ssh writes them: {@code SHA256:} and the unpadded base64
 * of the SHA-256 of the 32-byte public key (43 characters). Immutable and thread-safe.
 */
public final class HostKey {
    /** X.509 SubjectPublicKeyInfo header of an Ed25519 key; the raw 32-byte key follows it. */
    private static final byte[] SPKI_PREFIX = HexFormat.of().parseHex("302a300506032b6570032100");
    private static final Pattern FINGERPRINT = Pattern.compile("SHA256:[A-Za-z0-9+/]{43}");

    private final PrivateKey privateKey;
    private final byte[] publicKey;

    private HostKey(PrivateKey privateKey, byte[] publicKey) {
        this.privateKey = privateKey;
        this.publicKey = publicKey;
    }

    /** A fresh key. */
    public static HostKey generate() {
        try {
            KeyPair kp = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
            return new HostKey(kp.getPrivate(), raw(kp.getPublic()));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Ed25519 is part of every Java 15+ runtime", e);
        }
    }

    /** The key stored as PKCS#8 ({@link #pkcs8()}). */
    public static HostKey fromPkcs8(byte[] encoded) throws GeneralSecurityException {
        PrivateKey k = KeyFactory.getInstance("Ed25519").generatePrivate(new PKCS8EncodedKeySpec(encoded));
        byte[] seed = ((EdECPrivateKey) k).getBytes()
                .orElseThrow(() -> new InvalidKeySpecException("the key holds no Ed25519 seed"));
        return fromSeed(seed);
    }

    /**
     * The key whose 32-byte private seed is {@code seed} (RFC 8032's private key). The JDK
     * derives no public key from a private one, but its generator takes the seed from the
     * random source it is given, so a source that returns exactly the seed yields both.
     */
    public static HostKey fromSeed(byte[] seed) {
        if (seed.length != 32) {
            throw new IllegalArgumentException("an Ed25519 seed is 32 bytes, got " + seed.length);
        }
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("Ed25519");
            g.initialize(NamedParameterSpec.ED25519, new FixedSeed(seed));
            KeyPair kp = g.generateKeyPair();
            return new HostKey(kp.getPrivate(), raw(kp.getPublic()));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Ed25519 is part of every Java 15+ runtime", e);
        }
    }

    /** A random source that hands out one seed, for {@link #fromSeed}. */
    private static final class FixedSeed extends SecureRandom {
        private static final long serialVersionUID = 1L;
        private final byte[] seed;

        FixedSeed(byte[] seed) {
            this.seed = seed.clone();
        }

        @Override
        public void nextBytes(byte[] bytes) {
            if (bytes.length != seed.length) {
                throw new IllegalStateException("the Ed25519 generator asked for " + bytes.length + " bytes");
            }
            System.arraycopy(seed, 0, bytes, 0, seed.length);
        }
    }

    /** The private key as PKCS#8 DER, to store. */
    public byte[] pkcs8() {
        return privateKey.getEncoded();
    }

    /** The 32-byte public key, as it goes on the wire. */
    public byte[] publicKey() {
        return publicKey.clone();
    }

    public String fingerprint() {
        return fingerprint(publicKey);
    }

    /** The 64-byte signature of {@code message}. */
    public byte[] sign(byte[] message) {
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initSign(privateKey);
            s.update(message);
            return s.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Ed25519 is part of every Java 15+ runtime", e);
        }
    }

    /** Whether {@code signature} is {@code publicKey}'s over {@code message}; false for any malformed input. */
    public static boolean verify(byte[] publicKey, byte[] message, byte[] signature) {
        if (publicKey.length != Handshake.HOST_KEY_SIZE || signature.length != Handshake.SIGNATURE_SIZE) {
            return false;
        }
        try {
            Signature s = Signature.getInstance("Ed25519");
            s.initVerify(KeyFactory.getInstance("Ed25519").generatePublic(new X509EncodedKeySpec(spki(publicKey))));
            s.update(message);
            return s.verify(signature);
        } catch (GeneralSecurityException | RuntimeException e) {
            return false; // not a point on the curve, or a malformed signature
        }
    }

    /** The fingerprint of a 32-byte public key. */
    public static String fingerprint(byte[] publicKey) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(publicKey);
            return "SHA256:" + Base64.getEncoder().withoutPadding().encodeToString(digest);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
        }
    }

    /** Whether {@code s} is a fingerprint in that form. */
    public static boolean validFingerprint(String s) {
        return s != null && FINGERPRINT.matcher(s).matches();
    }

    private static byte[] raw(PublicKey k) {
        byte[] enc = k.getEncoded();
        return Arrays.copyOfRange(enc, enc.length - Handshake.HOST_KEY_SIZE, enc.length);
    }

    private static byte[] spki(byte[] raw) {
        byte[] spki = Arrays.copyOf(SPKI_PREFIX, SPKI_PREFIX.length + raw.length);
        System.arraycopy(raw, 0, spki, SPKI_PREFIX.length, raw.length);
        return spki;
    }
}
