package net.roamproxy.tls;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * sproxy's side of TLS 1.3 for the link: its identity (a key pair and a self-signed
 * certificate in a PKCS#12 key store, made on first use with mode 0600) and the server
 * handshake on each accepted connection. Immutable and thread-safe once loaded.
 */
public final class TlsServer {
    private static final Logger log = LogManager.getLogger(TlsServer.class);
    /** Who may read the key is decided by the file's mode; PKCS#12 merely insists on a password. */
    private static final char[] STORE_PASSWORD = "roamproxy".toCharArray();
    private static final String ALIAS = "sproxy";
    /** The first bytes of a roamproxy frame: a peer that speaks the link protocol without TLS. */
    private static final byte[] FRAME_MAGIC = {'R', 'P'};

    private final SSLContext context;
    private final String fingerprint;

    private TlsServer(SSLContext context, String fingerprint) {
        this.context = context;
        this.fingerprint = fingerprint;
    }

    /** Loads the identity from {@code keystore}, or makes one there if the file does not exist. */
    public static TlsServer loadOrCreate(Path keystore) throws IOException {
        try {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            Identity id;
            try (InputStream in = Files.newInputStream(keystore)) {
                ks.load(in, STORE_PASSWORD);
                if (!(ks.getKey(ALIAS, STORE_PASSWORD) instanceof PrivateKey key)
                        || !(ks.getCertificate(ALIAS) instanceof X509Certificate cert)) {
                    throw new IOException("TLS key store " + keystore + " holds no '" + ALIAS + "' key: "
                            + "move it away to have a new one made");
                }
                id = new Identity(key, cert);
            } catch (NoSuchFileException e) {
                id = SelfSigned.generate("roamproxy sproxy");
                ks.load(null, null);
                ks.setKeyEntry(ALIAS, id.key(), STORE_PASSWORD, new Certificate[] {id.certificate()});
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                ks.store(out, STORE_PASSWORD);
                Files0600.write(keystore, out.toByteArray());
                log.info("made a new TLS key and certificate for sproxy in {}", keystore);
            }
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, STORE_PASSWORD);
            SSLContext ctx = SSLContext.getInstance("TLSv1.3");
            ctx.init(kmf.getKeyManagers(), null, null);
            return new TlsServer(ctx, id.fingerprint());
        } catch (GeneralSecurityException e) {
            throw new IOException("cannot use TLS key store " + keystore + ": " + e.getMessage(), e);
        }
    }

    /** The certificate's fingerprint, which cproxy users compare with what their cproxy shows. */
    public String fingerprint() {
        return fingerprint;
    }

    /**
     * Runs the server side of a TLS handshake on {@code plain}, waiting at most
     * {@code timeoutMillis} for each read.
     *
     * @return the TLS socket to carry the link
     * @throws NotTls if the peer opened with a plain roamproxy frame instead (cproxy without
     *                {@code --tls}); nothing has been sent to it yet
     * @throws IOException if the handshake failed
     */
    public SSLSocket accept(Socket plain, int timeoutMillis) throws IOException {
        plain.setSoTimeout(timeoutMillis);
        byte[] first = plain.getInputStream().readNBytes(FRAME_MAGIC.length);
        if (first.length == FRAME_MAGIC.length && first[0] == FRAME_MAGIC[0] && first[1] == FRAME_MAGIC[1]) {
            throw new NotTls();
        }
        SSLSocket s = (SSLSocket) context.getSocketFactory().createSocket(plain, new ByteArrayInputStream(first), true);
        s.setEnabledProtocols(new String[] {"TLSv1.3"});
        s.setUseClientMode(false);
        s.startHandshake();
        return s;
    }

    /** The peer speaks the link protocol in the clear. */
    public static final class NotTls extends IOException {
        private static final long serialVersionUID = 1L;

        NotTls() {
            super("it does not use TLS");
        }
    }
}
