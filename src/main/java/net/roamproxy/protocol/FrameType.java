package net.roamproxy.protocol;

/**
 * Every frame type on the link, with its wire code and the payload sizes it allows.
 * Codes are part of the wire format: never renumber.
 */
public enum FrameType {
    /** cproxy opens a link: new session, or resume of a session with its credential. */
    HELLO(1, Handshake.SIZE, Handshake.SIZE),
    /** sproxy answers a HELLO with a status and the session's identity. */
    WELCOME(2, Handshake.SIZE, Handshake.SIZE),
    /** Sent by both sides every heartbeat interval; carries the current ack. */
    HEARTBEAT(3, 0, 0),
    /** Application bytes; seq is the stream offset of the first payload byte. */
    DATA(4, 1, Wire.MAX_DATA),
    /** Stand-alone acknowledgement, sent when half the window is unacknowledged. */
    ACK(5, 0, 0),
    /**
     * End of the sender's stream (its application shut down its writing side): seq is the
     * stream's final length. It counts as one more byte of the stream, so the receiver
     * acknowledges it with ack = seq + 1 once its application has been told (its writing side
     * shut down), and the sender replays it on a new link until then. The other direction
     * stays open.
     */
    END(6, 0, 0),
    /** sproxy with a pre-shared key: its nonce and its proof of the key. */
    CHALLENGE(7, PresharedKey.CHALLENGE_SIZE, PresharedKey.CHALLENGE_SIZE),
    /** cproxy's proof of the pre-shared key, answering a CHALLENGE. */
    PROOF(8, PresharedKey.PROOF_SIZE, PresharedKey.PROOF_SIZE),
    /**
     * The sender's application reset its connection: the receiver resets its own application
     * connection at once. Ends the session in both directions, as a TCP reset does.
     */
    ABORT(9, 0, 0),
    /**
     * The sending proxy is stopping (SIGTERM) after flushing what it could: the session ends,
     * and the receiver resets its application connection after delivering what it received,
     * so that a stream cut short never looks like a clean end.
     */
    STOPPING(10, 0, 0);

    private static final FrameType[] BY_CODE = new FrameType[256];

    static {
        for (FrameType t : values()) {
            BY_CODE[t.code] = t;
        }
    }

    private final int code;
    private final int minPayload;
    private final int maxPayload;

    FrameType(int code, int minPayload, int maxPayload) {
        this.code = code;
        this.minPayload = minPayload;
        this.maxPayload = maxPayload;
    }

    public int code() {
        return code;
    }

    boolean allowsLength(int length) {
        return length >= minPayload && length <= maxPayload;
    }

    String allowedLengths() {
        return minPayload == maxPayload ? String.valueOf(minPayload) : minPayload + ".." + maxPayload;
    }

    /** @return the type for a wire code, or {@code null} if the code is unknown */
    static FrameType ofCode(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }
}
