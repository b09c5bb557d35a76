package net.roamproxy.wire;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.util.Arrays;

/**
 * Reads frames from a stream whose reads may time out. A blocking socket with
 * {@code SO_TIMEOUT} throws {@link SocketTimeoutException} at any point, possibly mid-frame;
 * this reader keeps the partial bytes in its own buffer so that the next call carries on
 * where the last one stopped. Not thread-safe: one reading thread per link.
 *
 * <p>The relay's hot path uses {@link #nextInPlace()}, which leaves the payload in the reader's
 * buffer instead of copying it into a new array: a bulk transfer then allocates nothing per frame.
 *
 * <p>Once the link has keys ({@link #protect}), every sealed frame is opened in place before
 * anything of it is returned, and a sealed frame before that is refused. A clear frame is
 * returned as it came: whether one is allowed where it arrives is for the caller to decide.
 */
public final class FrameReader {
    static final int INITIAL_SIZE = 1024;

    private final InputStream in;
    /** Starts small (idle links are the common case), grows to fit the largest frame, shrinks when idle. */
    private byte[] buf = new byte[INITIAL_SIZE];
    private int start;
    private int end;
    private int payloadAt;
    /** Opens the peer's sealed frames; {@code null} until the handshake derived the link's keys. */
    private FrameProtection.Opener opener;
    /** Whether to copy the next sealed frame as it arrived, into {@link #wire}. */
    private boolean keepWire;
    private byte[] wire;
    /** What the next frame must be, checked from its header before its payload is read; or {@code null}. */
    private FrameType expectedType;
    private int expectedMaxLength;
    /** Where DATA frames may be opened to; {@code null}: always in place. */
    private DataTarget dataTarget;
    /** Whether the last frame's payload was opened into {@link #dataTarget}, not in place. */
    private boolean openedToTarget;

    /**
     * Where the plaintext of a sealed DATA frame may go instead of staying in the reader's
     * buffer, so that opening it is its only copy on the way to the receive queue.
     */
    public interface DataTarget {
        /**
         * Offers the plaintext of a DATA frame, {@code len} bytes at stream offset {@code seq},
         * before it is known to be authentic.
         *
         * @return whether it may be opened to {@link #array()} at {@link #offset()}
         */
        boolean reserve(long seq, int len);

        byte[] array();

        int offset();
    }

    public FrameReader(InputStream in) {
        this.in = in;
    }

    /**
     * Copies the next sealed frame as it arrives, before it is opened, for {@link #lastWire()}:
     * a handshake's transcript covers frames as they were on the wire, also one that fails.
     */
    public void keepNextWire() {
        keepWire = true;
        wire = null;
    }

    /** The frame kept by {@link #keepNextWire()}, as it arrived; {@code null} if none arrived whole. */
    public byte[] lastWire() {
        return wire;
    }

    /**
     * The next frame must be a {@code type} of at most {@code maxLength} payload bytes: a
     * stranger's first frame is judged by its header, and its payload (up to 64 KiB) is not
     * read, nor is room made for it, unless it is what the handshake expects.
     */
    public void expectNext(FrameType type, int maxLength) {
        expectedType = type;
        expectedMaxLength = maxLength;
    }

    /** From now on, DATA frames are opened into {@code target} whenever it takes them. */
    public void openDataInto(DataTarget target) {
        this.dataTarget = target;
    }

    /**
     * Whether the payload of the last {@link #nextInPlace()} frame was opened into the
     * {@link DataTarget}, which it accepted; otherwise it is in {@link #payloadArray()}.
     */
    public boolean openedToTarget() {
        return openedToTarget;
    }

    /** From now on, sealed frames are opened with {@code peer}. */
    public void protect(FrameProtection.Opener peer) {
        this.opener = peer;
    }

    /**
     * @return the next complete frame, with its payload in a new array
     * @throws SocketTimeoutException if the stream timed out before a whole frame arrived;
     *                                the partial frame is kept, call again
     * @throws EOFException           if the stream ended (mid-frame or between frames)
     * @throws ProtocolException      if the header is invalid, or a sealed frame fails
     *                                authentication or arrives before the link has keys
     */
    public Frame next() throws IOException {
        Wire.Header h = nextInPlace();
        return new Frame(h.type(), h.seq(), h.ack(), Arrays.copyOfRange(buf, payloadAt, payloadAt + h.length()));
    }

    /**
     * Like {@link #next()}, but the payload stays in {@link #payloadArray()} at
     * {@link #payloadOffset()}, valid only until the next call.
     */
    public Wire.Header nextInPlace() throws IOException {
        fill(Wire.HEADER_SIZE);
        Wire.Header h = Wire.readHeader(buf, start);
        if (expectedType != null) {
            FrameType type = expectedType;
            expectedType = null;
            if (h.type() != type) {
                throw new ProtocolException("expected a " + type + ", got " + h.type());
            }
            if (h.length() > expectedMaxLength) {
                throw new ProtocolException(type + " of " + h.length() + " bytes; at most " + expectedMaxLength);
            }
        }
        if (h.type().isSealed() && opener == null) {
            throw new ProtocolException("sealed " + h.type() + " before the link has keys");
        }
        fill(Wire.HEADER_SIZE + h.length());
        openedToTarget = false;
        int frameAt = start;
        payloadAt = start + Wire.HEADER_SIZE;
        start = payloadAt + h.length();
        if (!h.type().isSealed()) {
            return h;
        }
        if (keepWire) {
            keepWire = false;
            wire = Arrays.copyOfRange(buf, frameAt, start);
        }
        int plain = h.length() - Wire.TAG_SIZE;
        if (dataTarget != null && h.type() == FrameType.DATA && plain > 0 && dataTarget.reserve(h.seq(), plain)) {
            opener.open(buf, frameAt, h, dataTarget.array(), dataTarget.offset());
            openedToTarget = true;
        } else {
            opener.open(buf, frameAt, h);
        }
        return new Wire.Header(h.type(), plain, h.seq(), h.ack());
    }

    /** The array holding the payload of the last {@link #nextInPlace()} frame. */
    public byte[] payloadArray() {
        return buf;
    }

    public int payloadOffset() {
        return payloadAt;
    }

    /** Ensures at least {@code need} unread bytes are buffered. */
    private void fill(int need) throws IOException {
        if (end - start >= need) {
            return;
        }
        if (buf.length - start < need) {
            if (need > buf.length) {
                buf = Arrays.copyOf(buf, Math.max(need, Math.min(2 * buf.length, Wire.MAX_FRAME)));
            }
            System.arraycopy(buf, start, buf, 0, end - start);
            end -= start;
            start = 0;
        }
        while (end - start < need) {
            int n;
            try {
                n = in.read(buf, end, buf.length - end);
            } catch (SocketTimeoutException e) {
                if (start == end && buf.length > INITIAL_SIZE) {
                    // Idle link: give the bulk-sized buffer back until bulk data comes again.
                    buf = new byte[INITIAL_SIZE];
                    start = end = 0;
                }
                throw e;
            }
            if (n < 0) {
                throw new EOFException(end == start ? "link closed by peer"
                        : "link closed by peer mid-frame (" + (end - start) + " bytes of " + need + ")");
            }
            end += n;
        }
    }

    /** Bytes currently allocated for buffering, for tests of the idle footprint. */
    int allocated() {
        return buf.length;
    }
}
