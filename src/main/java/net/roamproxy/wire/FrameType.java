package net.roamproxy.wire;

/**
 * Every frame type on the link, with its wire code, the plaintext sizes it allows and whether
 * it is sealed. Codes are part of the wire format: never renumber. Code 7 (version 2's
 * CHALLENGE) is retired.
 *
 * <p>Sealed frames are encrypted and authenticated under the link's keys
 * ({@link FrameProtection}); a receiver accepts them only once the link has keys, and never
 * acts on one whose tag fails. The three clear types are the handshake's, and each carries
 * its own authentication: HELLO is covered by the signature or MAC of the answer to it,
 * WELCOME by its signature or MAC, REFUSED by its signature or MAC ({@link Refusal}).
 */
public enum FrameType {
    /** cproxy opens a link: a new session, or a resume of one. Clear. */
    HELLO(1, Hello.MIN_SIZE, Hello.MAX_SIZE, false),
    /** sproxy accepts a HELLO: the session's identity, its key share, and its proof. Clear. */
    WELCOME(2, Welcome.RESUMED_SIZE, Welcome.NEW_SESSION_SIZE, false),
    /** Sent by both sides every heartbeat interval; carries the current ack. */
    HEARTBEAT(3, 0, 0, true),
    /** Application bytes; seq is the stream offset of the first payload byte. */
    DATA(4, 1, Wire.MAX_DATA, true),
    /** Stand-alone acknowledgement, sent when half the window is unacknowledged. */
    ACK(5, 0, 0, true),
    /**
     * End of the sender's stream (its application shut down its writing side): seq is the
     * stream's final length. It counts as one more byte of the stream, so the receiver
     * acknowledges it with ack = seq + 1 once its application has been told (its writing side
     * shut down), and the sender replays it on a new link until then. The other direction
     * stays open.
     */
    END(6, 0, 0, true),
    /**
     * cproxy's first sealed frame on every link: its proof of the session secret over the
     * transcript ({@link KeySchedule#clientProof}). Its header's seq and ack are 0.
     */
    PROOF(8, Handshake.MAC_SIZE, Handshake.MAC_SIZE, true),
    /**
     * The sender's application reset its connection: the receiver resets its own application
     * connection at once. Ends the session in both directions, as a TCP reset does.
     */
    ABORT(9, 0, 0, true),
    /**
     * The sending proxy is stopping (SIGTERM) after flushing what it could: the session ends,
     * and the receiver resets its application connection after delivering what it received,
     * so that a stream cut short never looks like a clean end.
     */
    STOPPING(10, 0, 0, true),
    /** sproxy refuses a HELLO, authenticated by a signature or a MAC ({@link Refusal}). Clear. */
    REFUSED(11, Refusal.MIN_SIZE, Refusal.MAX_SIZE, false),
    /**
     * sproxy's first sealed frame on a new session: the refusal token cproxy keeps
     * ({@link KeySchedule#refusalToken}). Its header's seq and ack are 0.
     */
    TOKEN(12, Handshake.MAC_SIZE, Handshake.MAC_SIZE, true);

    private static final FrameType[] BY_CODE = new FrameType[256];

    static {
        for (FrameType t : values()) {
            BY_CODE[t.code] = t;
        }
    }

    private final int code;
    private final int minPayload;
    private final int maxPayload;
    private final boolean sealed;

    FrameType(int code, int minPayload, int maxPayload, boolean sealed) {
        this.code = code;
        this.minPayload = minPayload;
        this.maxPayload = maxPayload;
        this.sealed = sealed;
    }

    public int code() {
        return code;
    }

    /** Whether frames of this type are encrypted and authenticated under the link's keys. */
    public boolean isSealed() {
        return sealed;
    }

    boolean allowsLength(int plainLength) {
        return plainLength >= minPayload && plainLength <= maxPayload;
    }

    String allowedLengths() {
        return minPayload == maxPayload ? String.valueOf(minPayload) : minPayload + ".." + maxPayload;
    }

    String allowedWireLengths() {
        int extra = sealed ? Wire.TAG_SIZE : 0;
        return minPayload == maxPayload ? String.valueOf(minPayload + extra)
                : (minPayload + extra) + ".." + (maxPayload + extra);
    }

    /** @return the type for a wire code, or {@code null} if the code is unknown */
    static FrameType ofCode(int code) {
        return code >= 0 && code < BY_CODE.length ? BY_CODE[code] : null;
    }
}
