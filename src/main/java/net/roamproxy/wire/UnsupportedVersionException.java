package net.roamproxy.wire;

/** The peer speaks a protocol version this build does not. */
public final class UnsupportedVersionException extends ProtocolException {
    private static final long serialVersionUID = 1L;
    private final int version;

    public UnsupportedVersionException(int version) {
        super("unsupported protocol version " + version + " (this build speaks " + Wire.VERSION + ")");
        this.version = version;
    }

    public int version() {
        return version;
    }
}
