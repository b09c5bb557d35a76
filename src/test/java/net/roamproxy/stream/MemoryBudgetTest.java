package net.roamproxy.stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The budget's arithmetic, and how the replay buffer and the receive queue behave near its limit. */
@Timeout(30)
class MemoryBudgetTest {
    private static final int G = MemoryBudget.GUARANTEED;
    private static final int MIB = 1 << 20;

    @Test
    void takesWithinTheLimitGuaranteesPastItAndReleases() {
        MemoryBudget b = new MemoryBudget(100_000);
        assertTrue(b.tryTake(60_000));
        assertFalse(b.tryTake(50_000), "would pass the limit");
        assertEquals(60_000, b.inUse());
        b.guarantee(50_000);
        assertEquals(110_000, b.inUse(), "a guarantee is never refused");
        assertEquals(0, b.available());
        b.release(110_000);
        assertEquals(0, b.inUse());
        assertEquals(100_000, b.limit());
        assertThrows(IllegalArgumentException.class, () -> new MemoryBudget(MemoryBudget.MIN_LIMIT - 1));
        assertTrue(MemoryBudget.defaultLimit() <= Runtime.getRuntime().maxMemory() / 2 + MemoryBudget.MIN_LIMIT);
    }

    @Test
    void windowsAreFullSizedWhileThereIsRoomAndShrinkToTheGuaranteeAsTheBudgetFills() {
        MemoryBudget b = new MemoryBudget(64L * MIB);
        List<Integer> windows = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            windows.add(b.reserveWindow(MIB));
        }
        assertEquals(MIB, windows.get(0));
        for (int i = 1; i < windows.size(); i++) {
            assertTrue(windows.get(i) <= windows.get(i - 1), "never larger than the one before: " + windows);
        }
        assertEquals(G, windows.get(windows.size() - 1), "the last ones get the guarantee: " + windows);
        long total = windows.stream().mapToLong(Integer::longValue).sum();
        assertEquals(total, b.inUse());
        assertTrue(total <= 32L * MIB + 200L * G, "beyond half the budget, windows get only their guarantee: " + total);
        windows.forEach(b::releaseWindow);
        assertEquals(0, b.inUse());
        assertEquals(MIB, b.reserveWindow(MIB), "full-sized again once given back");
    }

    @Test
    void aWindowOfferedButNotTakenHoldsNothingAndATakenOneCountsLikeAReservedOne() {
        MemoryBudget b = new MemoryBudget(64L * MIB);
        for (int i = 0; i < 200; i++) {
            assertEquals(MIB, b.windowToOffer(MIB), "handshakes that never go on shrink no one's window");
        }
        assertEquals(0, b.inUse());

        int offered = b.windowToOffer(MIB);
        b.takeWindow(offered);
        assertEquals(offered, b.inUse());
        for (int i = 0; i < 100; i++) { // as the budget fills, an offer is what a reservation would give
            int offer = b.windowToOffer(MIB);
            assertEquals(offer, b.reserveWindow(MIB));
        }
        assertTrue(b.windowToOffer(MIB) < MIB, "and it shrinks too");
    }

    @Test
    void aReceiveQueueOwnsItsWindowUntilClosed() throws Exception {
        MemoryBudget b = new MemoryBudget(MIB);
        ReceiveQueue q = new ReceiveQueue(MIB, b);
        assertTrue(q.window() >= G && q.window() < MIB, "the guarantee and a share of a small budget: " + q.window());
        assertEquals(q.window(), b.inUse(), "the whole window counts, not just what arrived");
        q.accept(0, new byte[q.window()]);
        assertEquals(q.window(), b.inUse());
        q.close();
        q.close();
        assertEquals(0, b.inUse(), "given back once");
    }

    @Test
    void theReplayBufferCountsItsArrayAndStopsGrowingAtTheLimit() throws Exception {
        MemoryBudget b = new MemoryBudget(4L * G);
        ReplayBuffer r = new ReplayBuffer(MIB, b);
        assertEquals(G, b.inUse(), "the guarantee, taken at once");
        assertEquals(4 * G - r.buffered(), r.awaitRoom(MIB), "room: the guarantee and what the budget has left");
        assertEquals(G, b.inUse(), "asking for room allocates nothing");
        r.append(new byte[4 * G], 0, 4 * G);
        assertEquals(4 * G, b.inUse());
        assertEquals(4 * G, r.allocated(), "the array is what counts");

        // Full: the next append waits, and an ack (which makes room in the array) lets it in.
        CompletableFuture<Void> more = CompletableFuture.runAsync(() -> {
            try {
                r.append(new byte[1000], 0, 1000);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        assertFalse(more.isDone(), "cannot be done: there is no room until the ack below");
        r.drainTo(new byte[4 * G], 0, 4 * G);
        r.ack(1000);
        more.get(10, TimeUnit.SECONDS);
        assertEquals(4 * G, r.buffered());
        assertEquals(4 * G, b.inUse(), "no new memory: the ack made room in the same array");

        r.close();
        assertEquals(0, b.inUse());
    }

    @Test
    void aSessionAlwaysGetsItsGuaranteeEvenWhenOthersHoldEverything() throws Exception {
        MemoryBudget b = new MemoryBudget(MemoryBudget.MIN_LIMIT);
        assertTrue(b.tryTake(b.available()), "another session took all that is shared");
        ReplayBuffer r = new ReplayBuffer(MIB, b);
        ReceiveQueue q = new ReceiveQueue(MIB, b);
        assertEquals(G, q.window());
        assertEquals(G, r.awaitRoom(MIB));
        r.append(new byte[G], 0, G);
        assertEquals(G, r.buffered());
        assertTrue(b.inUse() > b.limit(), "past the limit by the guarantees only: " + b.inUse());
    }

    @Test
    void aReplayBufferGrowsAsFarAsTheBudgetAllowsAndShrinksWhenIdle() throws Exception {
        MemoryBudget b = new MemoryBudget(G + 10_000 + 3 * G);
        ReplayBuffer r = new ReplayBuffer(MIB, b);
        assertTrue(b.tryTake(3 * G));
        r.append(new byte[G + 10_000], 0, G + 10_000);
        assertEquals(b.limit(), b.inUse(), "the array took exactly what was left, not the next power of two");
        assertEquals(G + 10_000, r.allocated());
        r.drainTo(new byte[G + 10_000], 0, G + 10_000);
        r.ack(G + 10_000);
        for (int i = 0; i <= ByteRing.QUIET_PERIODS_BEFORE_RELEASE; i++) {
            r.shrinkIfIdle();
        }
        assertEquals(0, r.allocated());
        assertEquals(G + 3 * G, b.inUse(), "the shared part went back; the guarantee stays until the session closes");
    }
}
