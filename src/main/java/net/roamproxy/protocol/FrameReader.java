package net.roamproxy.protocol;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.util.Arrays;

/**
 * Reads frames from a stream whose reads may time out. A blocking socket with
 * {@code SO_TIMEOUT} throws {@link SocketTimeoutException} at any point, possibly mid-frame;
 * this reader keeps the partial bytes in its own buffer so that the next {@link #next()} call
 * carries on where the last one stopped. Not thread-safe: one reading thread per link.
 */
public final class FrameReader {
    private final InputStream in;
    /** Starts small (idle links are the common case) and grows to fit the largest frame seen. */
    private byte[] buf = new byte[8192];
    private int start;
    private int end;

    public FrameReader(InputStream in) {
        this.in = in;
    }

    /**
     * @return the next complete frame
     * @throws SocketTimeoutException if the stream timed out before a whole frame arrived;
     *                                the partial frame is kept, call again
     * @throws EOFException           if the stream ended (mid-frame or between frames)
     * @throws ProtocolException      if the header is invalid
     */
    public Frame next() throws IOException {
        fill(Wire.HEADER_SIZE);
        Wire.Header h = Wire.readHeader(buf, start);
        fill(Wire.HEADER_SIZE + h.length());
        int payloadAt = start + Wire.HEADER_SIZE;
        byte[] payload = Arrays.copyOfRange(buf, payloadAt, payloadAt + h.length());
        start = payloadAt + h.length();
        return new Frame(h.type(), h.seq(), h.ack(), payload);
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
            int n = in.read(buf, end, buf.length - end);
            if (n < 0) {
                throw new EOFException(end == start ? "link closed by peer"
                        : "link closed by peer mid-frame (" + (end - start) + " bytes of " + need + ")");
            }
            end += n;
        }
    }
}
