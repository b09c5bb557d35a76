package net.roamproxy.hardening;

import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.util.SplittableRandom;

/**
 * Plays fuzz input the way a socket would: whole, in random chunks, a byte at a time, or in
 * random chunks with {@link SocketTimeoutException}s in between (a socket with
 * {@code SO_TIMEOUT}). Records the largest buffer the reader offered.
 */
final class FuzzStream extends InputStream {
    static final int WHOLE = 0;
    static final int CHUNKS = 1;
    static final int BYTES = 2;
    static final int TIMEOUTS = 3;
    static final int FEEDINGS = 4;
    /** One instance, so that the allocations measured are the reader's, not this stream's stack traces. */
    private static final SocketTimeoutException TIMEOUT = new SocketTimeoutException("injected read timeout");

    private final byte[] data;
    private final int feeding;
    private final SplittableRandom rnd;
    private int pos;
    int maxBufferSeen;
    /** Whether a read after the last byte fails the test instead of reporting the end. */
    boolean forbidReadsPastEnd;

    FuzzStream(byte[] data, int feeding, SplittableRandom rnd) {
        this.data = data;
        this.feeding = feeding;
        this.rnd = rnd;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        maxBufferSeen = Math.max(maxBufferSeen, b.length);
        if (pos >= data.length) {
            if (forbidReadsPastEnd) {
                throw new AssertionError("the reader asked for bytes past a header it should have refused");
            }
            return -1;
        }
        if (len == 0) {
            return 0;
        }
        if (feeding == TIMEOUTS && rnd.nextInt(3) == 0) {
            throw TIMEOUT;
        }
        int n = switch (feeding) {
            case WHOLE -> len;
            case BYTES -> 1;
            default -> 1 + rnd.nextInt(Math.max(1, Math.min(len, 97)));
        };
        n = Math.min(n, Math.min(len, data.length - pos));
        System.arraycopy(data, pos, b, off, n);
        pos += n;
        return n;
    }
}
