package net.roamproxy.tls;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;

/** sproxy's TLS identity: its private key and the self-signed certificate for it. */
record Identity(PrivateKey key, X509Certificate certificate) {

    /** The certificate's fingerprint, as operators compare it. */
    String fingerprint() {
        return Fingerprint.of(certificate);
    }
}
