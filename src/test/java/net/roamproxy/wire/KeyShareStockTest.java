package net.roamproxy.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import net.roamproxy.testkit.Await;

/**
 * Key shares made ahead: each handed out once, made only up to the target, only while no
 * handshake is taking them, and on the spot when none is ready.
 */
@Timeout(30)
class KeyShareStockTest {
    private static final Duration WAIT = Duration.ofSeconds(20);
    private final AtomicInteger made = new AtomicInteger();

    private KeyShare make() {
        made.incrementAndGet();
        return KeyShare.generate();
    }

    @Test
    void everyShareIsHandedOutOnceAndNoneIsLost() throws Exception {
        int target = 20;
        KeyShareStock stock = new KeyShareStock(this::make, () -> target, System::nanoTime, 0).start("test-shares");
        try {
            Set<String> seen = ConcurrentHashMap.newKeySet();
            AtomicInteger taken = new AtomicInteger();
            AtomicBoolean repeated = new AtomicBoolean();
            List<Thread> takers = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                Thread t = new Thread(() -> {
                    for (int k = 0; k < 100; k++) {
                        if (!seen.add(HexFormat.of().formatHex(stock.take().publicKey()))) {
                            repeated.set(true);
                        }
                        taken.incrementAndGet();
                    }
                });
                t.start();
                takers.add(t);
            }
            for (Thread t : takers) {
                t.join();
            }
            assertFalse(repeated.get(), "a key share was handed out twice");
            assertEquals(400, seen.size());
            // Once full again the filler makes no more: every share made was taken or is ready.
            Await.until(WAIT, "the stock is full again", () -> stock.ready() == target);
            assertEquals(taken.get() + target, made.get());
        } finally {
            stock.close();
        }
    }

    @Test
    void makesOnlyUpToTheTarget() throws Exception {
        AtomicBoolean beyond = new AtomicBoolean();
        KeyShareStock[] holder = new KeyShareStock[1];
        KeyShareStock stock = new KeyShareStock(() -> {
            if (holder[0].ready() >= 5) {
                beyond.set(true);
            }
            return make();
        }, () -> 5, System::nanoTime, 0);
        holder[0] = stock;
        stock.start("test-shares");
        try {
            Await.until(WAIT, "5 shares ready", () -> stock.ready() == 5);
            stock.take();
            stock.take();
            Await.until(WAIT, "5 shares ready", () -> stock.ready() == 5);
            assertEquals(7, made.get());
            assertFalse(beyond.get(), "a share was made while the stock was full");
        } finally {
            stock.close();
        }
    }

    @Test
    void makesNothingUntilNoHandshakeHasTakenAShareForTheQuietTime() throws Exception {
        AtomicLong now = new AtomicLong(1_000_000);
        long quiet = 1_000;
        KeyShareStock stock = new KeyShareStock(this::make, () -> 3, now::get, quiet).start("test-shares");
        try {
            Await.until(WAIT, "3 shares ready", () -> stock.ready() == 3);
            stock.take(); // at the same moment by the clock: a crowd of handshakes is under way
            long looks = stock.looks();
            Await.until(WAIT, "the filler looked 100 times more", () -> stock.looks() > looks + 100);
            assertEquals(2, stock.ready());
            assertEquals(3, made.get());
            now.addAndGet(quiet);
            Await.until(WAIT, "3 shares ready", () -> stock.ready() == 3);
            assertEquals(4, made.get());
        } finally {
            stock.close();
        }
    }

    @Test
    void fillsAsTheTargetGrowsWithTheSessionsThatTakeShares() throws Exception {
        AtomicInteger sessions = new AtomicInteger();
        KeyShareStock stock = new KeyShareStock(this::make, sessions::get, System::nanoTime, 0).start("test-shares");
        try {
            long looks = stock.looks();
            Await.until(WAIT, "the filler looked", () -> stock.looks() > looks); // it looked, found the target (no sessions) met, and waits
            for (int i = 0; i < 3; i++) {
                stock.take(); // a new session's handshake, with nothing ready yet
                sessions.incrementAndGet();
            }
            Await.until(WAIT, "3 shares ready", () -> stock.ready() == 3);
            assertEquals(6, made.get());
        } finally {
            stock.close();
        }
    }

    @Test
    void withNoneReadyAHandshakeMakesItsOwn() {
        KeyShareStock stock = new KeyShareStock(this::make, () -> 10, System::nanoTime, 0); // no filler
        KeyShare a = stock.take();
        KeyShare b = stock.take();
        assertEquals(2, made.get());
        assertEquals(0, stock.ready());
        assertFalse(HexFormat.of().formatHex(a.publicKey()).equals(HexFormat.of().formatHex(b.publicKey())));
    }

    @Test
    void closeEndsTheFillerAndDropsWhatItMade() throws Exception {
        KeyShareStock stock = new KeyShareStock(this::make, () -> 4, System::nanoTime, 0).start("test-shares");
        Await.until(WAIT, "4 shares ready", () -> stock.ready() == 4);
        stock.close();
        stock.join();
        assertEquals(0, stock.ready());
    }
}
