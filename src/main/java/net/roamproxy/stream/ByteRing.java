package net.roamproxy.stream;

/**
 * A bounded FIFO of bytes in a circular array. There is no array until the first write; it
 * starts small and grows (by doubling, never past the capacity) only when the data needs it,
 * and an idle, empty ring gives it back. A session holds two rings per side, so thousands of
 * idle sessions cost no buffer memory at all, while a bulk transfer gets the full window.
 * Not thread-safe: the streams that use it guard it with their own monitor.
 *
 * <p>A ring given a {@link MemoryBudget} counts its array there: the first {@code floor} bytes
 * are the session's guarantee, anything above is taken from the shared part before the array
 * grows and given back when it shrinks. Such a ring grows only as far as the budget allows
 * ({@link #makeRoom}); its owner waits for the rest.
 */
final class ByteRing {
    static final int INITIAL_SIZE = 4096;
    /**
     * Periods in a row without a write before an empty ring gives its small array back. A
     * session that types or pings now and then would otherwise allocate a new array for nearly
     * every keystroke, and thousands of them keep the collector busy for nothing.
     */
    static final int QUIET_PERIODS_BEFORE_RELEASE = 8;
    private static final byte[] NONE = new byte[0];

    private final int capacity;
    private byte[] buf;
    private int head;
    private int size;
    /** The most bytes held at once since the last {@link #shrinkIfIdle()}. */
    private int peak;
    /** Whether anything was written since the last {@link #shrinkIfIdle()}. */
    private boolean written;
    /** {@link #shrinkIfIdle()} calls in a row that found nothing written in their period. */
    private int quietPeriods;
    /** Where the array is counted, or {@code null} if its owner reserved the whole capacity up front. */
    private MemoryBudget budget;
    /** Array bytes covered by the owner's guarantee. */
    private final int floor;
    /** Array bytes above the floor, taken from the budget: always {@code max(0, buf.length - floor)}. */
    private int charged;

    ByteRing(int capacity) {
        this(capacity, null, 0);
    }

    ByteRing(int capacity, MemoryBudget budget, int floor) {
        if (capacity <= 0) {
            throw new IllegalArgumentException("capacity must be positive: " + capacity);
        }
        this.capacity = capacity;
        this.budget = budget;
        this.floor = floor;
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

    /**
     * Grows the array, as far as the budget allows, so that up to {@code want} more bytes fit.
     *
     * @return how many bytes (at most {@code want} and {@link #free()}) can now be written
     *         without allocating: 0 if the array is full and the budget has nothing left
     */
    int makeRoom(int want) {
        want = Math.min(want, free());
        if (size + want > buf.length) {
            grow(size + want, false);
        }
        return Math.max(0, Math.min(want, buf.length - size));
    }

    /**
     * How many of {@code want} more bytes would fit now, the array grown within the budget,
     * without growing it: so that nothing is allocated before the bytes are there.
     */
    int affordable(int want) {
        want = Math.min(want, free());
        if (budget == null) {
            return want;
        }
        long fits = (long) Math.max(floor, buf.length) + budget.available() - size;
        return (int) Math.max(0, Math.min(want, fits));
    }

    /**
     * Appends {@code len} bytes; the caller has checked {@code len <= free()}, and for a ring
     * with a budget, {@code len <= makeRoom(len)} (if not, the growth is counted all the same).
     */
    void write(byte[] src, int off, int len) {
        if (len > free()) {
            throw new IllegalStateException("ring overflow: " + len + " > " + free());
        }
        if (len == 0) {
            return;
        }
        if (size + len > buf.length) {
            grow(size + len, true);
        }
        int tail = (head + size) % buf.length;
        int first = Math.min(len, buf.length - tail);
        System.arraycopy(src, off, buf, tail, first);
        System.arraycopy(src, off + first, buf, 0, len - first);
        size += len;
        peak = Math.max(peak, size);
        written = true;
    }

    /**
     * Where the next {@code len} bytes go if they lie in one piece in the array, which is grown
     * for them first as {@link #write} grows it; they become part of the ring only with
     * {@link #wrote}. The caller has checked {@code 0 < len <= free()}.
     *
     * @return their index in {@link #array()}, or -1 if they would wrap around its end
     */
    int reserve(int len) {
        if (len <= 0 || len > free()) {
            throw new IllegalStateException("cannot reserve " + len + " of " + free());
        }
        if (size + len > buf.length) {
            grow(size + len, true);
        }
        int tail = head + size;
        if (tail >= buf.length) {
            return len <= head - (tail - buf.length) ? tail - buf.length : -1; // free space: [tail, head)
        }
        return len <= buf.length - tail ? tail : -1;
    }

    /** The {@code len} bytes put where {@link #reserve} said are now the ring's newest. */
    void wrote(int len) {
        if (len > free()) {
            throw new IllegalStateException("ring overflow: " + len + " > " + free());
        }
        size += len;
        peak = Math.max(peak, size);
        written = true;
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

    /**
     * The array the oldest bytes are in, from {@link #headIndex()} on, for {@link #contiguous()}
     * bytes. Those bytes stay as they are until {@link #discard}ed: writes go to free space only,
     * and a growth or shrink copies into a new array, leaving this one alone.
     */
    byte[] array() {
        return buf;
    }

    int headIndex() {
        return head;
    }

    /** How many of the oldest bytes lie in one piece from {@link #headIndex()}. */
    int contiguous() {
        return Math.min(size, buf.length - head);
    }

    /** Grows towards {@code needed} (by doubling); {@code force}: past the budget if it must. */
    private void grow(int needed, boolean force) {
        int n = Math.max(buf.length, Math.min(capacity, INITIAL_SIZE));
        while (n < needed) {
            n = (int) Math.min(capacity, 2L * n);
        }
        if (budget != null) {
            n = force ? forceCharge(n) : charge(n);
            if (n <= buf.length) {
                return;
            }
        }
        byte[] bigger = new byte[n];
        copy(0, bigger, 0, size);
        buf = bigger;
        head = 0;
    }

    /**
     * Takes what an array of {@code n} bytes needs above the floor; if the budget has less,
     * settles for a smaller array (not smaller than the current one, nor than the floor).
     *
     * @return the array size paid for
     */
    private int charge(int n) {
        int len = n;
        for (int attempt = 0; attempt < 2; attempt++) {
            long delta = Math.max(0, len - floor) - charged;
            if (budget.tryTake(delta)) {
                charged += (int) Math.max(0, delta);
                return len;
            }
            // Not all of it: as much as is left now (another thread may take it first, hence two tries).
            len = (int) Math.min(n, (long) Math.max(floor, buf.length) + budget.available());
        }
        return Math.min(n, Math.max(floor, buf.length));
    }

    private int forceCharge(int n) {
        int delta = Math.max(0, n - floor) - charged;
        if (delta > 0) {
            budget.guarantee(delta);
            charged += delta;
        }
        return n;
    }

    /** Sets the array to {@code n} bytes' worth of charge (after a shrink): gives back the rest. */
    private void recharge(int n) {
        if (budget != null) {
            int c = Math.max(0, n - floor);
            budget.release(charged - c);
            charged = c;
        }
    }

    /** Gives back everything taken from the budget; the ring's owner is closed and counts no more. */
    void releaseBudget() {
        recharge(0);
        budget = null;
    }

    /**
     * Called periodically: if the ring never held more than its initial size since the last
     * call, returns to that size; an empty ring written to in none of the last
     * {@link #QUIET_PERIODS_BEFORE_RELEASE} periods keeps no array at all. So a session idle
     * again after a bulk transfer soon holds a small array, and an idle one none, while a busy
     * ring keeps its array (no reallocation churn).
     */
    void shrinkIfIdle() {
        int small = Math.min(capacity, INITIAL_SIZE);
        quietPeriods = written ? 0 : quietPeriods + 1;
        written = false;
        if (size == 0 && peak <= small && quietPeriods >= QUIET_PERIODS_BEFORE_RELEASE) {
            buf = NONE;
            head = 0;
            recharge(0);
        } else if (buf.length > small && peak <= small) {
            byte[] smaller = new byte[small];
            copy(0, smaller, 0, size);
            buf = smaller;
            head = 0;
            recharge(small);
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
