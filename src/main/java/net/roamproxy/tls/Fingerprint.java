package net.roamproxy.tls;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.cert.X509Certificate;
import java.util.Base64;
import java.util.regex.Pattern;

/**
 * A certificate's fingerprint in the form ssh uses for host keys: {@code SHA256:} and the
 * unpadded base64 of the SHA-256 of the certificate's DER encoding (43 characters).
 */
public final class Fingerprint {
    private static final Pattern FORM = Pattern.compile("SHA256:[A-Za-z0-9+/]{43}");

    private Fingerprint() {
    }

    public static String of(X509Certificate cert) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(cert.getEncoded());
            return "SHA256:" + Base64.getEncoder().withoutPadding().encodeToString(digest);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
        }
    }

    /** Whether {@code s} is a fingerprint in that form. */
    public static boolean valid(String s) {
        return s != null && FORM.matcher(s).matches();
    }
}
