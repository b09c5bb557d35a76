package net.roamproxy.protocol;

/**
 * The peer opened with a TLS handshake record where a frame should be: it uses TLS and we do
 * not (one side started with {@code --tls}, the other without).
 */
public final class TlsRecordException extends ProtocolException {
    private static final long serialVersionUID = 1L;
    /** The first two bytes of a TLS handshake record: content type 22, then version 3.x. */
    static final int TLS_HANDSHAKE_START = 0x1603;

    TlsRecordException() {
        super("a TLS handshake instead of a roamproxy frame: this side runs without --tls, the other with it");
    }
}
