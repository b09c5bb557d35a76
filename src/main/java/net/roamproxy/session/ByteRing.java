package net.roamproxy.session;

/**
 * A bounded FIFO of bytes in a circular array. There is no array until the first write; it
 * starts small and grows (by doubling, never past the capacity) only when the data needs it,
 * and an idle, empty ring gives it back. A session holds two rings per side, so thousands of
 * idle sessions cost no buffer memory at all, while a bulk transfer gets the full window.
 * Not thread-safe: the streams that use it guard it with their own monitor.
 */
final class ByteRing {
    static final int INITIAL_SIZE = 4096;
    private static final byte[] NONE = new byte[0];

    private final int capacity;
    private byte[] buf;
    private int head;
    private int size;
    /** The most bytes held at once since the last {@link #shrinkIfIdle()}. */
    private int peak;

    ByteRing(int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity must be positive: " + capacity);
        }
        this.capacity = capacity;
        buf = NONE;
    }

    int capacity() {
        return capacity;
    }

    /** Bytes currently allocated: at most the capacity. */
    int allocated() {
        return buf.length;
    }

    int size() {
        return size;
    }

    int free() {
        return capacity - size;
    }

    /** Appends {@code len} bytes; the caller has checked {@code len <= free()}. */
    void write(byte[] src, int off, int len) {
        if (len > free()) {
            throw new IllegalStateException("ring overflow: " + len + " > " + free());
        }
        if (len == 0) {
            return;
        }
        if (size + len > buf.length) {
            grow(size + len);
        }
        int tail = (head + size) % buf.length;
        int first = Math.min(len, buf.length - tail);
        System.arraycopy(src, off, buf, tail, first);
        System.arraycopy(src, off + first, buf, 0, len - first);
        size += len;
        peak = Math.max(peak, size);
    }

    /** Copies {@code len} bytes starting {@code from} bytes after the head, without removing them. */
    void copy(int from, byte[] dst, int dstOff, int len) {
        if (from < 0 || len < 0 || from + len > size) {
            throw new IndexOutOfBoundsException("copy " + from + "+" + len + " of " + size);
        }
        if (len == 0) {
            return;
        }
        int at = (head + from) % buf.length;
        int first = Math.min(len, buf.length - at);
        System.arraycopy(buf, at, dst, dstOff, first);
        System.arraycopy(buf, 0, dst, dstOff + first, len - first);
    }

    private void grow(int needed) {
        int n = Math.max(buf.length, Math.min(capacity, INITIAL_SIZE));
        while (n < needed) {
            n = (int) Math.min(capacity, 2L * n);
        }
        byte[] bigger = new byte[n];
        copy(0, bigger, 0, size);
        buf = bigger;
        head = 0;
    }

    /**
     * Called periodically: if the ring never held more than its initial size since the last
     * call, returns to that size, or to no array at all if it is empty, so a session that is
     * idle again after a bulk transfer or a few keystrokes keeps no array. A busy ring keeps its
     * array (no reallocation churn).
     */
    void shrinkIfIdle() {
        int small = Math.min(capacity, INITIAL_SIZE);
        if (size == 0 && peak <= small) {
            buf = NONE;
            head = 0;
        } else if (buf.length > small && peak <= small) {
            byte[] smaller = new byte[small];
            copy(0, smaller, 0, size);
            buf = smaller;
            head = 0;
        }
        peak = size;
    }

    /** Removes {@code n} bytes from the head. */
    void discard(int n) {
        if (n < 0 || n > size) {
            throw new IndexOutOfBoundsException("discard " + n + " of " + size);
        }
        if (n == 0) {
            return;
        }
        head = (head + n) % buf.length;
        size -= n;
    }
}
