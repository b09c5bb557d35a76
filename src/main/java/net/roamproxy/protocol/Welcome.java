package net.roamproxy.protocol;

import java.util.Arrays;

import net.roamproxy.protocol.Handshake.Status;

/**
 * The payload of a WELCOME frame, sproxy's answer to a HELLO. On an accepted link its header
 * {@code ack} says how much of cproxy's stream sproxy has delivered: replay starts there.
 *
 * <pre>
 *  offset size field
 *   0      1   status (see {@link Status}; 1 NEW_SESSION, 2 RESUMED, 3.. refusals)
 *   1      8   session id (0 in a refusal)
 *   9     32   NEW_SESSION: sproxy's X25519 key share; otherwise zeros
 *  41      4   sproxy's receive window in bytes (positive)
 *  45     32   NEW_SESSION: key confirmation; RESUMED: sproxy's proof of the secret over the
 *              challenge; refusals: zeros ({@link SessionKeys})
 * </pre>
 */
public record Welcome(Status status, long sessionId, byte[] keyShare, int window, byte[] proof) {
    public static final int SIZE = 1 + 8 + Handshake.KEY_SIZE + 4 + Handshake.PROOF_SIZE;

    public Welcome {
        Handshake.requireSize("key share", keyShare, Handshake.KEY_SIZE);
        Handshake.requireSize("proof", proof, Handshake.PROOF_SIZE);
        if (window <= 0) {
            throw new IllegalArgumentException("window must be positive");
        }
    }

    /** A refusal: carries only the status. */
    public static Welcome refusal(Status status) {
        return new Welcome(status, 0, new byte[Handshake.KEY_SIZE], 1, new byte[Handshake.PROOF_SIZE]);
    }

    public byte[] encode() {
        byte[] b = new byte[SIZE];
        b[0] = (byte) status.code();
        Wire.putLong(b, 1, sessionId);
        System.arraycopy(keyShare, 0, b, 9, Handshake.KEY_SIZE);
        Wire.putInt(b, 41, window);
        System.arraycopy(proof, 0, b, 45, Handshake.PROOF_SIZE);
        return b;
    }

    /** Decodes and validates the payload of a WELCOME frame. */
    public static Welcome decode(Frame frame) throws ProtocolException {
        if (frame.type() != FrameType.WELCOME) {
            throw new ProtocolException("expected a WELCOME, got " + frame.type());
        }
        byte[] b = frame.payload();
        if (b.length != SIZE) {
            throw new ProtocolException("WELCOME payload is " + b.length + " bytes, expected " + SIZE);
        }
        Status status = Status.of(b[0] & 0xff);
        int window = Wire.getInt(b, 41);
        if (window <= 0) {
            throw new ProtocolException("WELCOME window " + Integer.toUnsignedString(window) + " is not positive");
        }
        return new Welcome(status, Wire.getLong(b, 1), Arrays.copyOfRange(b, 9, 41), window,
                Arrays.copyOfRange(b, 45, 45 + Handshake.PROOF_SIZE));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Welcome w && w.status == status && w.sessionId == sessionId
                && Arrays.equals(w.keyShare, keyShare) && w.window == window && Arrays.equals(w.proof, proof);
    }

    @Override
    public int hashCode() {
        return Long.hashCode(sessionId) * 31 + status.hashCode();
    }

    @Override
    public String toString() {
        return "WELCOME " + status + " session " + Handshake.idText(sessionId) + " window " + window;
    }
}
