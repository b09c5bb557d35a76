package net.roamproxy.wire;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Every key and proof of protocol 3, built as TLS 1.3's key schedule builds its own (RFC 8446
 * section 7.1) from HMAC-SHA256 and HKDF (RFC 5869). {@code th} is always the SHA-256 of
 * whole frames of this link, headers included ({@link Transcript}).
 *
 * <pre>
 *  Expand(k, label, ctx, n) = HKDF-Expand(k, uint16 n | uint8 len | "roamproxy3 " label | uint8 len(ctx) | ctx, n)
 *
 *  new session:  shared  = X25519(own private key, peer's key share)
 *                prk     = HKDF-Extract(salt = the pre-shared key, or 32 zero bytes; ikm = shared)
 *                secret  = Expand(prk, "session", th(HELLO | WELCOME), 32)
 *  every link:   linkPrk = HKDF-Extract(salt = secret; ikm = X25519 of this link's key shares)
 *                key, iv = Expand(linkPrk, "c2s key" | "c2s iv" | "s2c key" | "s2c iv", th(HELLO | WELCOME), 32 | 12)
 *  proofs:       PROOF   = HMAC(Expand(secret, "proof c", "", 32), th(HELLO | WELCOME))
 *                RESUMED = HMAC(Expand(secret, "proof s", "", 32), th(HELLO | WELCOME without its MAC))
 *  signatures:   Ed25519(host key, "roamproxy3 welcome" | 0x00 | th(HELLO | WELCOME without its signature))
 *                Ed25519(host key, "roamproxy3 refusal" | 0x00 | th(every frame so far | REFUSED without it))
 *  refusals:     token   = HMAC(refusal key, "roamproxy3 refusal token" | session id)    sent in TOKEN
 *                MAC     = HMAC(token, th(HELLO | REFUSED without its MAC))
 * </pre>
 *
 * The session secret never crosses the wire, nor does anything derived from it but MACs and
 * ciphertext. Every MAC and signature has its own label or key and covers the whole
 * transcript so far, so none can be reflected or reused across purposes, links or sessions.
 * The link keys mix in a fresh X25519 exchange, so a leaked session secret opens no link
 * recorded before the leak (as TLS 1.3's psk_dhe_ke). Stateless and thread-safe.
 */
public final class KeySchedule {
    public static final int SECRET_SIZE = 32;
    public static final int KEY_SIZE = 32;
    public static final int IV_SIZE = 12;
    /** What every label starts with, so our derivations can never collide with another protocol's. */
    static final String LABEL_PREFIX = "roamproxy3 ";
    private static final byte[] ZERO_SALT = new byte[32];

    private KeySchedule() {
    }

    /** One link's keys: one key and IV for each direction. */
    public record LinkKeys(byte[] c2sKey, byte[] c2sIv, byte[] s2cKey, byte[] s2cIv) {
    }

    /** The session secret of a new session. {@code presharedKey} may be {@code null}. */
    public static byte[] sessionSecret(byte[] shared, byte[] presharedKey, byte[] th) {
        byte[] prk = extract(presharedKey == null ? ZERO_SALT : presharedKey, shared);
        return expand(prk, "session", th, SECRET_SIZE);
    }

    /** The keys of one link, from the session secret and this link's own X25519 exchange. */
    public static LinkKeys linkKeys(byte[] secret, byte[] linkShared, byte[] th) {
        byte[] prk = extract(secret, linkShared);
        return new LinkKeys(expand(prk, "c2s key", th, KEY_SIZE), expand(prk, "c2s iv", th, IV_SIZE),
                expand(prk, "s2c key", th, KEY_SIZE), expand(prk, "s2c iv", th, IV_SIZE));
    }

    /** cproxy's PROOF over the link's HELLO and WELCOME. */
    public static byte[] clientProof(byte[] secret, byte[] th) {
        return hmac(expand(secret, "proof c", new byte[0], Handshake.MAC_SIZE), th);
    }

    /** sproxy's MAC in a RESUMED WELCOME, over the HELLO and the WELCOME without the MAC. */
    public static byte[] serverProof(byte[] secret, byte[] th) {
        return hmac(expand(secret, "proof s", new byte[0], Handshake.MAC_SIZE), th);
    }

    /** What sproxy's host key signs in a NEW_SESSION WELCOME. */
    public static byte[] welcomeSigned(byte[] th) {
        return signed("welcome", th);
    }

    /** What sproxy's host key signs in a REFUSED that answers a new session. */
    public static byte[] refusalSigned(byte[] th) {
        return signed("refusal", th);
    }

    /**
     * The token with which the instance that issued {@code sessionId} authenticates an
     * UNKNOWN_SESSION for it, even after a restart: only that instance has {@code refusalKey}.
     */
    public static byte[] refusalToken(byte[] refusalKey, long sessionId) {
        byte[] id = new byte[8];
        Wire.putLong(id, 0, sessionId);
        return hmac(refusalKey, ascii(LABEL_PREFIX + "refusal token"), id);
    }

    /** The MAC of an UNKNOWN_SESSION, keyed by the session's refusal token. */
    public static byte[] refusalMac(byte[] token, byte[] th) {
        return hmac(token, th);
    }

    /** Constant-time comparison, so a forger learns nothing from timing. */
    public static boolean same(byte[] a, byte[] b) {
        return MessageDigest.isEqual(a, b);
    }

    static byte[] extract(byte[] salt, byte[] ikm) {
        return hmac(salt, ikm);
    }

    /** TLS 1.3's HKDF-Expand-Label with our prefix; at most 255 blocks, as HKDF allows. */
    static byte[] expand(byte[] prk, String label, byte[] context, int length) {
        byte[] full = ascii(LABEL_PREFIX + label);
        byte[] info = new byte[2 + 1 + full.length + 1 + context.length];
        info[0] = (byte) (length >>> 8);
        info[1] = (byte) length;
        info[2] = (byte) full.length;
        System.arraycopy(full, 0, info, 3, full.length);
        info[3 + full.length] = (byte) context.length;
        System.arraycopy(context, 0, info, 4 + full.length, context.length);
        byte[] out = new byte[length];
        byte[] t = new byte[0];
        for (int i = 0, block = 1; i < length; i += t.length, block++) {
            t = hmac(prk, t, info, new byte[] {(byte) block});
            System.arraycopy(t, 0, out, i, Math.min(t.length, length - i));
        }
        return out;
    }

    private static byte[] signed(String what, byte[] th) {
        byte[] label = ascii(LABEL_PREFIX + what);
        byte[] m = new byte[label.length + 1 + th.length];
        System.arraycopy(label, 0, m, 0, label.length);
        System.arraycopy(th, 0, m, label.length + 1, th.length);
        return m;
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

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.US_ASCII);
    }
}
