package net.roamproxy.wire;

import java.io.IOException;

/**
 * The peer sent something the protocol does not allow: a malformed header, an unknown type,
 * a bad length, or a frame out of order. Always final for the link it arrived on.
 */
public class ProtocolException extends IOException {
    private static final long serialVersionUID = 1L;

    public ProtocolException(String message) {
        super(message);
    }
}
