package net.roamproxy.wire;

import java.io.InputStream;
import java.net.SocketTimeoutException;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;

/**
 * An input stream that plays a script, the way a socket with {@code SO_TIMEOUT} behaves: each
 * step is either a chunk of bytes (returned by one or more reads, never more than the chunk)
 * or a read timeout. After the last step the stream ends, unless it was told to fail any
 * further read.
 */
final class ScriptedInputStream extends InputStream {
    private final Deque<Object> steps = new ArrayDeque<>();
    private static final Object TIMEOUT = new Object();
    private static final Object FORBIDDEN = new Object();
    private int reads;

    ScriptedInputStream bytes(byte[] chunk) {
        if (chunk.length > 0) {
            steps.add(chunk.clone());
        }
        return this;
    }

    ScriptedInputStream bytes(byte[] src, int from, int to) {
        return bytes(Arrays.copyOfRange(src, from, to));
    }

    /** The next read throws {@link SocketTimeoutException}, as a socket read timeout does. */
    ScriptedInputStream timeout() {
        steps.add(TIMEOUT);
        return this;
    }

    /** Any read after the steps so far fails the test instead of reporting end of stream. */
    ScriptedInputStream thenNoMoreReads() {
        steps.add(FORBIDDEN);
        return this;
    }

    /** How many read calls returned data, timed out or reported the end. */
    int reads() {
        return reads;
    }

    @Override
    public int read() {
        throw new UnsupportedOperationException("the reader should read in bulk");
    }

    @Override
    public int read(byte[] b, int off, int len) throws SocketTimeoutException {
        reads++;
        Object step = steps.peekFirst();
        if (step == null) {
            return -1;
        }
        if (step == FORBIDDEN) {
            throw new AssertionError("read beyond what the test allowed");
        }
        if (step == TIMEOUT) {
            steps.removeFirst();
            throw new SocketTimeoutException("Read timed out");
        }
        if (len == 0) {
            return 0;
        }
        byte[] chunk = (byte[]) step;
        int n = Math.min(len, chunk.length);
        System.arraycopy(chunk, 0, b, off, n);
        steps.removeFirst();
        if (n < chunk.length) {
            steps.addFirst(Arrays.copyOfRange(chunk, n, chunk.length));
        }
        return n;
    }
}
