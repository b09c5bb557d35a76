package net.roamproxy.tls;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;

/**
 * Makes sproxy's key pair (ECDSA P-256) and a self-signed X.509 v3 certificate for it. The JDK
 * has no public API for certificates, and this needs only a few DER structures (RFC 5280), so
 * a small encoder beats a crypto library dependency. Trust in the certificate comes from its
 * fingerprint (trust on first use, or pinned), never from a CA: its names and dates matter to
 * nobody, so it is valid from yesterday to 9999-12-31, which RFC 5280 reserves for "no
 * expiration".
 */
final class SelfSigned {
    /** ecdsa-with-SHA256, 1.2.840.10045.4.3.2. */
    private static final byte[] ECDSA_SHA256 = {0x06, 0x08, 0x2a, (byte) 0x86, 0x48, (byte) 0xce, 0x3d, 0x04, 0x03, 0x02};
    /** commonName, 2.5.4.3. */
    private static final byte[] COMMON_NAME = {0x06, 0x03, 0x55, 0x04, 0x03};

    private SelfSigned() {
    }

    /** A new key pair and a certificate for it, whose subject and issuer are {@code CN=name}. */
    static Identity generate(String name) throws GeneralSecurityException {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        KeyPair kp = g.generateKeyPair();
        byte[] dn = seq(set(seq(COMMON_NAME, tlv(0x0c, name.getBytes(StandardCharsets.UTF_8)))));
        byte[] serial = new BigInteger(1, randomBytes(16)).setBit(126).toByteArray();
        String from = ZonedDateTime.now(ZoneOffset.UTC).minusDays(1).format(DateTimeFormatter.ofPattern("yyMMddHHmmss"));
        byte[] tbs = seq(
                tlv(0xa0, tlv(0x02, new byte[] {2})), // [0] version: v3
                tlv(0x02, serial),
                seq(ECDSA_SHA256),
                dn,
                seq(tlv(0x17, (from + "Z").getBytes(StandardCharsets.US_ASCII)), // UTCTime
                        tlv(0x18, "99991231235959Z".getBytes(StandardCharsets.US_ASCII))), // GeneralizedTime
                dn,
                kp.getPublic().getEncoded()); // SubjectPublicKeyInfo, already DER
        Signature s = Signature.getInstance("SHA256withECDSA");
        s.initSign(kp.getPrivate());
        s.update(tbs);
        byte[] sig = s.sign();
        byte[] bits = new byte[sig.length + 1]; // BIT STRING: no unused bits, then the DER signature
        System.arraycopy(sig, 0, bits, 1, sig.length);
        byte[] der = seq(tbs, seq(ECDSA_SHA256), tlv(0x03, bits));
        X509Certificate cert = (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(der));
        cert.verify(kp.getPublic());
        return new Identity(kp.getPrivate(), cert);
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        new SecureRandom().nextBytes(b);
        return b;
    }

    private static byte[] seq(byte[]... parts) {
        return tlv(0x30, concat(parts));
    }

    private static byte[] set(byte[]... parts) {
        return tlv(0x31, concat(parts));
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** One DER element: tag, definite length (short or long form), value. */
    static byte[] tlv(int tag, byte[] value) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(tag);
        int n = value.length;
        if (n < 0x80) {
            out.write(n);
        } else {
            byte[] len = BigInteger.valueOf(n).toByteArray();
            int skip = len[0] == 0 ? 1 : 0;
            out.write(0x80 | (len.length - skip));
            out.write(len, skip, len.length - skip);
        }
        out.writeBytes(value);
        return out.toByteArray();
    }
}
