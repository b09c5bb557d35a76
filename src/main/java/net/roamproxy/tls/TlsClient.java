package net.roamproxy.tls;

import java.io.IOException;
import java.net.Socket;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.X509ExtendedTrustManager;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * cproxy's side of TLS 1.3 for the link. sproxy's certificate is self-signed, so trust comes
 * from its fingerprint: the one pinned with {@code --server-fingerprint}, or else the one
 * recorded in the known-servers file the first time cproxy reached this server (trust on
 * first use, as ssh does). A different certificate later is refused, with an ERROR naming both
 * fingerprints and what to do. One context per server, so TLS sessions are resumed across
 * links: a resume after a roam costs no certificate exchange. Thread-safe.
 */
public final class TlsClient {
    private static final Logger log = LogManager.getLogger(TlsClient.class);

    private final String host;
    private final int port;
    private final String server;
    private final String pinned;
    private final KnownServers known;
    private final SSLContext context;
    /** The fingerprint last logged as trusted on first use: sessions dialing at once log it once. */
    private volatile String lastLogged;

    /**
     * @param host          sproxy's host as cproxy was told it (name or address)
     * @param pinned        the fingerprint to require, or {@code null} for trust on first use
     * @param knownServers  the trust-on-first-use file (unused when pinned)
     */
    public TlsClient(String host, int port, String pinned, Path knownServers) throws IOException {
        this.host = host;
        this.port = port;
        this.server = (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        this.pinned = pinned;
        this.known = new KnownServers(knownServers);
        try {
            context = SSLContext.getInstance("TLSv1.3");
            context.init(null, new X509ExtendedTrustManager[] {new Trust()}, null);
        } catch (GeneralSecurityException e) {
            throw new IOException("TLS 1.3 is not available in this Java runtime: " + e.getMessage(), e);
        }
        if (pinned == null) {
            known.lookup(server); // a broken file is reported at start, not at the first dial
        }
    }

    /**
     * Layers TLS over a connected socket and runs the handshake, waiting at most
     * {@code timeoutMillis} for each read. Closing {@code plain} aborts it.
     *
     * @throws UntrustedServer if sproxy's certificate is not the one we trust (final)
     * @throws IOException if the handshake failed otherwise
     */
    public SSLSocket connect(Socket plain, int timeoutMillis) throws IOException {
        SSLSocket s = (SSLSocket) context.getSocketFactory().createSocket(plain, host, port, true);
        s.setEnabledProtocols(new String[] {"TLSv1.3"});
        s.setUseClientMode(true);
        s.setSoTimeout(timeoutMillis);
        try {
            s.startHandshake();
        } catch (IOException e) {
            for (Throwable c = e; c != null; c = c.getCause()) {
                if (c instanceof UntrustedCertificate u) {
                    throw new UntrustedServer(u.getMessage());
                }
            }
            throw e;
        }
        return s;
    }

    private void check(X509Certificate[] chain) throws CertificateException {
        if (chain == null || chain.length == 0) {
            throw new CertificateException("sproxy sent no certificate");
        }
        String seen = Fingerprint.of(chain[0]);
        String expected;
        if (pinned != null) {
            expected = pinned;
        } else {
            try {
                expected = known.recordIfNew(server, seen);
            } catch (IOException e) {
                throw new CertificateException("cannot use the known-servers file: " + e.getMessage(), e);
            }
            if (expected.equals(seen) && !seen.equals(lastLogged)) {
                lastLogged = seen;
                log.info("sproxy at {} presents certificate {}; trusted on first use and recorded in {} "
                        + "(compare it with `sproxy --fingerprint` on the server)", server, seen, known.file());
            }
        }
        if (!expected.equals(seen)) {
            String fix = pinned != null ? "if the server's key really changed, pin the new one with --server-fingerprint"
                    : "if the server's key really changed (sproxy's key store was replaced), remove the line for "
                    + server + " from " + known.file();
            String msg = "sproxy at " + server + " presents certificate " + seen + " but we trust " + expected
                    + ": refusing it (someone may be intercepting the link); " + fix;
            log.error(msg);
            throw new UntrustedCertificate(msg);
        }
    }

    /** sproxy's certificate is not the one we trust: no session may go on over this server. */
    public static final class UntrustedServer extends IOException {
        private static final long serialVersionUID = 1L;

        UntrustedServer(String message) {
            super(message);
        }
    }

    /** How the trust manager tells the handshake; {@link #connect} turns it into {@link UntrustedServer}. */
    private static final class UntrustedCertificate extends CertificateException {
        private static final long serialVersionUID = 1L;

        UntrustedCertificate(String message) {
            super(message);
        }
    }

    /** Checks sproxy's certificate by fingerprint only; cproxy never acts as a TLS server. */
    private final class Trust extends X509ExtendedTrustManager {
        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            check(chain);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            check(chain);
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            check(chain);
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
                throws CertificateException {
            throw new CertificateException("cproxy does not accept TLS clients");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                throws CertificateException {
            throw new CertificateException("cproxy does not accept TLS clients");
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("cproxy does not accept TLS clients");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
