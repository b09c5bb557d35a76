package net.roamproxy.stream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.Random;

import org.junit.jupiter.api.Test;

/** The circular byte FIFO under the replay buffer and the receive queue. */
class ByteRingTest {

    private static byte[] bytes(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) {
            b[i] = (byte) values[i];
        }
        return b;
    }

    private static byte[] copy(ByteRing ring, int from, int len) {
        byte[] out = new byte[len];
        ring.copy(from, out, 0, len);
        return out;
    }

    @Test
    void writtenBytesCopyOutInOrderAndStayUntilDiscarded() {
        ByteRing ring = new ByteRing(8);

        ring.write(bytes(1, 2, 3, 4, 5), 1, 3);

        assertEquals(3, ring.size());
        assertEquals(5, ring.free());
        assertArrayEquals(bytes(2, 3, 4), copy(ring, 0, 3));
        assertArrayEquals(bytes(3, 4), copy(ring, 1, 2));
        assertEquals(3, ring.size(), "copy does not consume");
    }

    @Test
    void writeThatWrapsPastTheEndOfTheArrayKeepsOrder() {
        ByteRing ring = new ByteRing(8);
        ring.write(bytes(1, 2, 3, 4, 5, 6), 0, 6);
        ring.discard(5);

        ring.write(bytes(7, 8, 9, 10, 11, 12, 13), 0, 7);

        assertEquals(8, ring.size());
        assertEquals(0, ring.free());
        assertArrayEquals(bytes(6, 7, 8, 9, 10, 11, 12, 13), copy(ring, 0, 8));
    }

    @Test
    void copyStartingPastTheWrapPointReadsTheRightBytes() {
        ByteRing ring = new ByteRing(5);
        ring.write(bytes(1, 2, 3, 4), 0, 4);
        ring.discard(3);
        ring.write(bytes(5, 6, 7, 8), 0, 4);

        assertArrayEquals(bytes(6, 7, 8), copy(ring, 2, 3));
        assertArrayEquals(bytes(5, 6), copy(ring, 1, 2));
    }

    @Test
    void discardThatWrapsMovesTheHeadAcrossTheEnd() {
        ByteRing ring = new ByteRing(4);
        ring.write(bytes(1, 2, 3), 0, 3);
        ring.discard(2);
        ring.write(bytes(4, 5, 6), 0, 3);

        ring.discard(3);

        assertEquals(1, ring.size());
        assertArrayEquals(bytes(6), copy(ring, 0, 1));
    }

    @Test
    void writeLargerThanTheFreeSpaceIsRefusedAndChangesNothing() {
        ByteRing ring = new ByteRing(4);
        ring.write(bytes(1, 2, 3), 0, 3);

        assertThrows(IllegalStateException.class, () -> ring.write(bytes(9, 9), 0, 2));

        assertEquals(3, ring.size());
        assertArrayEquals(bytes(1, 2, 3), copy(ring, 0, 3));
    }

    @Test
    void copyBeyondTheStoredBytesIsRefused() {
        ByteRing ring = new ByteRing(4);
        ring.write(bytes(1, 2), 0, 2);

        assertThrows(IndexOutOfBoundsException.class, () -> ring.copy(1, new byte[2], 0, 2));
        assertThrows(IndexOutOfBoundsException.class, () -> ring.copy(-1, new byte[1], 0, 1));
    }

    @Test
    void discardOfMoreThanIsStoredIsRefused() {
        ByteRing ring = new ByteRing(4);
        ring.write(bytes(1, 2), 0, 2);

        assertThrows(IndexOutOfBoundsException.class, () -> ring.discard(3));
        assertThrows(IndexOutOfBoundsException.class, () -> ring.discard(-1));
        assertEquals(2, ring.size());
    }

    @Test
    void nonPositiveCapacityIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new ByteRing(0));
    }

    @Test
    void randomWritesCopiesAndDiscardsMatchASimpleQueue() {
        Random random = new Random(42);
        ByteRing ring = new ByteRing(13);
        ArrayDeque<Byte> model = new ArrayDeque<>();
        byte next = 0;
        for (int step = 0; step < 20_000; step++) {
            if (random.nextBoolean()) {
                int n = random.nextInt(ring.free() + 1);
                byte[] src = new byte[n + 2];
                for (int i = 0; i < n; i++) {
                    src[i + 1] = next;
                    model.addLast(next++);
                }
                ring.write(src, 1, n);
            } else {
                ring.discard(random.nextInt(ring.size() + 1));
                while (model.size() > ring.size()) {
                    model.removeFirst();
                }
            }
            assertEquals(model.size(), ring.size());
            assertEquals(13 - model.size(), ring.free());
            int from = random.nextInt(ring.size() + 1);
            byte[] got = copy(ring, from, ring.size() - from);
            Iterator<Byte> it = model.iterator();
            for (int i = 0; i < from; i++) {
                it.next();
            }
            for (byte b : got) {
                assertEquals(it.next().byteValue(), b, "step " + step);
            }
        }
    }

    @Test
    void allocatesOnlyWhatTheDataNeedsAndNeverMoreThanTheCapacity() {
        ByteRing ring = new ByteRing(1 << 20);
        assertEquals(0, ring.allocated(), "a ring never written holds no array");

        byte[] chunk = new byte[100_000];
        for (int i = 0; i < chunk.length; i++) {
            chunk[i] = (byte) i;
        }
        ring.write(chunk, 0, 10);
        ring.discard(7); // head no longer at 0, so growth must keep the order across the wrap
        ring.write(chunk, 10, chunk.length - 10);

        assertTrue(ring.allocated() >= ring.size() && ring.allocated() < 2 * ring.size() + ByteRing.INITIAL_SIZE,
                "allocated " + ring.allocated() + " for " + ring.size());
        byte[] back = new byte[ring.size()];
        ring.copy(0, back, 0, back.length);
        assertArrayEquals(java.util.Arrays.copyOfRange(chunk, 7, chunk.length), back);

        ring.write(new byte[ring.free()], 0, ring.free());
        assertEquals(1 << 20, ring.allocated());
    }

    @Test
    void shrinkAfterAnIdlePeriodKeepsWrappedContentInOrder() {
        ByteRing ring = new ByteRing(1 << 20);
        ring.write(new byte[200_000], 0, 200_000);
        ring.discard(200_000 - 10); // 10 bytes left near the end of the big array
        ring.shrinkIfIdle(); // the last period held 200 KB: too busy to shrink
        assertTrue(ring.allocated() > ByteRing.INITIAL_SIZE);
        int grown = ring.allocated();
        ring.write(bytes(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16), 0, 16);
        assertEquals(grown, ring.allocated(), "no reallocation while the data fits");

        ring.shrinkIfIdle();

        assertEquals(ByteRing.INITIAL_SIZE, ring.allocated());
        assertEquals(26, ring.size());
        assertArrayEquals(bytes(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16), copy(ring, 10, 16));
    }

    @Test
    void aRingWrittenToNowAndThenKeepsItsSmallArray() {
        ByteRing ring = new ByteRing(1 << 20);
        ring.write(bytes(1), 0, 1);
        ring.discard(1);
        for (int period = 0; period < 3 * ByteRing.QUIET_PERIODS_BEFORE_RELEASE; period++) {
            ring.shrinkIfIdle();
            if (period % (ByteRing.QUIET_PERIODS_BEFORE_RELEASE - 1) == 0) {
                ring.write(bytes(period), 0, 1); // a keystroke every few periods
                ring.discard(1);
            }
            assertEquals(ByteRing.INITIAL_SIZE, ring.allocated(), "period " + period);
        }
    }

    @Test
    void anEmptyIdleRingGivesItsArrayBackAndWorksAfterwards() {
        ByteRing ring = new ByteRing(1 << 20);
        ring.write(bytes(1, 2, 3), 0, 3);
        ring.shrinkIfIdle();
        assertEquals(ByteRing.INITIAL_SIZE, ring.allocated(), "holding data: keeps a small array");
        ring.discard(3);
        for (int i = 1; i < ByteRing.QUIET_PERIODS_BEFORE_RELEASE; i++) {
            ring.shrinkIfIdle();
            assertEquals(ByteRing.INITIAL_SIZE, ring.allocated(), "empty, but written to " + i + " periods ago");
        }
        ring.shrinkIfIdle();
        assertEquals(0, ring.allocated(), "empty and idle: no array");
        ring.write(new byte[0], 0, 0);
        ring.discard(0);
        ring.write(bytes(4, 5), 0, 2);
        assertArrayEquals(bytes(4, 5), copy(ring, 0, 2));
    }
}
