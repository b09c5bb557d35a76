package net.roamproxy.testkit;

import java.util.Arrays;

/** A growable record of the bytes a test endpoint received. Thread-safe. */
public final class ByteSink {
    private byte[] buf = new byte[64 * 1024];
    private int count;

    public synchronized void append(byte[] b, int off, int len) {
        if (count + len > buf.length) {
            buf = Arrays.copyOf(buf, Math.max(buf.length * 2, count + len));
        }
        System.arraycopy(b, off, buf, count, len);
        count += len;
    }

    public synchronized int count() {
        return count;
    }

    public synchronized byte[] bytes() {
        return Arrays.copyOf(buf, count);
    }

    /** Whether at least {@code prefix.length} bytes arrived and they start with {@code prefix}. */
    public synchronized boolean startsWith(byte[] prefix) {
        return count >= prefix.length && Arrays.equals(buf, 0, prefix.length, prefix, 0, prefix.length);
    }
}
