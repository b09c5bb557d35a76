package net.roamproxy.session;

/**
 * A fixed-capacity FIFO of bytes in a circular array. Not thread-safe: the streams that use it
 * guard it with their own monitor.
 */
final class ByteRing {
    private final byte[] buf;
    private int head;
    private int size;

    ByteRing(int capacity) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity must be positive: " + capacity);
        }
        buf = new byte[capacity];
    }

    int capacity() {
        return buf.length;
    }

    int size() {
        return size;
    }

    int free() {
        return buf.length - size;
    }

    /** Appends {@code len} bytes; the caller has checked {@code len <= free()}. */
    void write(byte[] src, int off, int len) {
        if (len > free()) {
            throw new IllegalStateException("ring overflow: " + len + " > " + free());
        }
        int tail = (head + size) % buf.length;
        int first = Math.min(len, buf.length - tail);
        System.arraycopy(src, off, buf, tail, first);
        System.arraycopy(src, off + first, buf, 0, len - first);
        size += len;
    }

    /** Copies {@code len} bytes starting {@code from} bytes after the head, without removing them. */
    void copy(int from, byte[] dst, int dstOff, int len) {
        if (from < 0 || len < 0 || from + len > size) {
            throw new IndexOutOfBoundsException("copy " + from + "+" + len + " of " + size);
        }
        int at = (head + from) % buf.length;
        int first = Math.min(len, buf.length - at);
        System.arraycopy(buf, at, dst, dstOff, first);
        System.arraycopy(buf, 0, dst, dstOff + first, len - first);
    }

    /** Removes {@code n} bytes from the head. */
    void discard(int n) {
        if (n < 0 || n > size) {
            throw new IndexOutOfBoundsException("discard " + n + " of " + size);
        }
        head = (head + n) % buf.length;
        size -= n;
    }
}
