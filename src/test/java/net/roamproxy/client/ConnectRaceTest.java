package net.roamproxy.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketAddress;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import net.roamproxy.testkit.Await;

/**
 * The connect race on fake sockets: each target address has a script of what its successive
 * connects do (fail at once, hang until abandoned, connect). The test waits on the race's own
 * result and on latches in the fakes, never on sleeps.
 */
@Timeout(20)
class ConnectRaceTest {
    private static final InetSocketAddress V4 = target("192.0.2.1");
    private static final InetSocketAddress V6 = target("2001:db8::1");
    private static final int ATTEMPT_MS = 10_000;
    private static final long CAP_MS = 200;
    private static final long LIMIT_MS = 10_000;
    private static final long STAGGER_MS = 20;

    private final ExecutorService pool = Executors.newCachedThreadPool();
    /** What the next connects to each target do, in order; the last entry repeats. */
    private final Map<InetSocketAddress, List<Behaviour>> scripts = new ConcurrentHashMap<>();
    private final Map<InetSocketAddress, AtomicInteger> tries = new ConcurrentHashMap<>();
    private final List<FakeSocket> sockets = new CopyOnWriteArrayList<>();
    private final AtomicInteger hanging = new AtomicInteger();
    private final AtomicInteger maxHanging = new AtomicInteger();
    private final ConnectRace race = new ConnectRace(FakeSocket::new, pool, STAGGER_MS);

    enum Behaviour { FAIL, HANG, CONNECT }

    @AfterEach
    void stopPool() throws InterruptedException {
        for (FakeSocket s : sockets) {
            s.close();
        }
        pool.shutdownNow();
        assertTrue(pool.awaitTermination(5, TimeUnit.SECONDS), "fake connects ended");
    }

    private static InetSocketAddress target(String ip) {
        try {
            return new InetSocketAddress(InetAddress.getByName(ip), 6200);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    private void script(InetSocketAddress t, Behaviour... b) {
        scripts.put(t, List.of(b));
    }

    private List<FakeSocket> socketsTo(InetSocketAddress t) {
        return sockets.stream().filter(s -> t.equals(s.target)).toList();
    }

    @Test
    void aTargetThatFailsAtOnceHandsOverToTheNextWithoutWaitingForTheStagger() throws Exception {
        script(V6, Behaviour.FAIL);
        script(V4, Behaviour.CONNECT);
        // With a stagger this long, only the hand-over on failure can finish the race in time.
        ConnectRace slowStagger = new ConnectRace(FakeSocket::new, pool, 60_000);

        Socket s = slowStagger.race(List.of(V6, V4), ATTEMPT_MS, CAP_MS, LIMIT_MS);

        assertEquals(V4, ((FakeSocket) s).target);
        assertEquals(List.of(V6, V4), sockets.stream().map(f -> f.target).toList(), "tried in the given order");
    }

    @Test
    void aConnectThePoolRefusesFailsTheRaceAtOnceWithTheReasonAndLeavesNoSocketOpen() throws Exception {
        script(V4, Behaviour.CONNECT);
        ConnectRace full = new ConnectRace(FakeSocket::new, job -> {
            throw new java.util.concurrent.RejectedExecutionException("all 16 dial-io threads are busy (test)");
        }, STAGGER_MS);

        IOException e = assertThrows(IOException.class, () -> full.race(List.of(V4), ATTEMPT_MS, CAP_MS, LIMIT_MS),
                "a failed dial, which the session retries, not a race that waits for its limit");

        assertTrue(e.getMessage().contains("no thread free") && e.getMessage().contains("dial-io threads are busy"),
                e.getMessage());
        assertTrue(sockets.stream().allMatch(f -> f.closed), "the attempt's socket is closed");
    }

    @Test
    void aConnectThatThrowsAnUncheckedExceptionIsAFailedAttemptNotAHang() throws Exception {
        ConnectRace odd = new ConnectRace(() -> new Socket() {
            @Override
            public void connect(SocketAddress endpoint, int timeout) {
                throw new IllegalArgumentException("unsupported address type (test)");
            }
        }, pool, STAGGER_MS);

        IOException e = assertThrows(IOException.class, () -> odd.race(List.of(V4), ATTEMPT_MS, CAP_MS, LIMIT_MS));

        assertTrue(e.getMessage().contains("unsupported address type (test)"), e.getMessage());
    }

    @Test
    void aHangingTargetDoesNotHoldUpTheNextAndIsAbandonedWhenAnotherConnects() throws Exception {
        script(V4, Behaviour.HANG);
        script(V6, Behaviour.CONNECT);

        Socket s = race.race(List.of(V4, V6), ATTEMPT_MS, CAP_MS, LIMIT_MS);

        assertEquals(V6, ((FakeSocket) s).target);
        assertTrue(socketsTo(V4).get(0).closedLatch.await(5, TimeUnit.SECONDS), "the hanging connect was abandoned");
        assertTrue(!((FakeSocket) s).closed, "the winner is handed over open");
    }

    @Test
    void withOneAddressBehindABlackHoleALaterAttemptStartsWhileTheFirstStillHangs() throws Exception {
        script(V4, Behaviour.HANG, Behaviour.HANG, Behaviour.CONNECT);

        Socket s = race.race(List.of(V4), ATTEMPT_MS, CAP_MS, LIMIT_MS);

        assertEquals(3, socketsTo(V4).size());
        assertSame(socketsTo(V4).get(2), s, "the third attempt won");
        assertTrue(socketsTo(V4).get(0).closedLatch.await(5, TimeUnit.SECONDS)
                && socketsTo(V4).get(1).closedLatch.await(5, TimeUnit.SECONDS), "both hanging attempts abandoned");
        assertEquals(ConnectRace.MAX_PENDING, maxHanging.get(), "at most " + ConnectRace.MAX_PENDING
                + " connects in flight: the oldest is abandoned to make room");
    }

    @Test
    void withNoDialPlaceToSpareABlackHoledAddressGetsNoSecondConnect() {
        script(V4, Behaviour.HANG, Behaviour.CONNECT);
        Semaphore none = new Semaphore(0);

        // Within the limit, a race with places to spare starts its second connect after two
        // staggers: here it never may, so the race ends at its limit.
        assertThrows(SocketTimeoutException.class, () -> race.race(List.of(V4), ATTEMPT_MS, CAP_MS, 300, none));

        assertEquals(1, sockets.size(), "one connect at a time when every dial place is taken");
    }

    @Test
    void aRepeatConnectTakesADialPlaceUntilTheRaceEnds() throws Exception {
        script(V4, Behaviour.HANG, Behaviour.HANG, Behaviour.CONNECT);
        Semaphore one = new Semaphore(1);

        Socket s = race.race(List.of(V4), ATTEMPT_MS, CAP_MS, LIMIT_MS, one);

        assertSame(socketsTo(V4).get(2), s, "the third attempt won, in the place of the first it abandoned");
        assertEquals(1, one.availablePermits(), "the place taken for the second connect is given back");
    }

    @Test
    void whenEveryTargetFailsAtOnceTheRaceFailsWithTheFirstReason() {
        script(V4, Behaviour.FAIL);
        script(V6, Behaviour.FAIL);

        IOException e = assertThrows(IOException.class, () -> race.race(List.of(V4, V6), ATTEMPT_MS, CAP_MS, LIMIT_MS));

        assertTrue(e.getMessage().contains("Network is unreachable"), e.getMessage());
        assertTrue(e.getMessage().contains("192.0.2.1:6200") && e.getMessage().contains("[2001:db8::1]:6200"),
                "names the addresses tried: " + e.getMessage());
        assertEquals(2, sockets.size(), "one attempt each, no retry inside the race");
    }

    @Test
    void aWakeUpAbandonsEveryPendingConnect() throws Exception {
        script(V4, Behaviour.HANG);
        CountDownLatch woken = new CountDownLatch(1);
        pool.execute(() -> {
            try {
                race.race(List.of(V4), ATTEMPT_MS, CAP_MS, LIMIT_MS);
            } catch (ConnectRace.Woken e) {
                woken.countDown();
            } catch (IOException | InterruptedException e) {
                // not what this test expects: the latch stays up
            }
        });
        FakeSocket first = awaitSocket(V4, 0);
        first.connectingLatch.await(5, TimeUnit.SECONDS);

        race.wake();

        assertTrue(woken.await(5, TimeUnit.SECONDS), "the race ended with Woken");
        for (FakeSocket s : socketsTo(V4)) {
            assertTrue(s.closedLatch.await(5, TimeUnit.SECONDS), "pending connect abandoned");
        }
    }

    @Test
    void aPauseEndsEarlyOnAWakeUp() throws Exception {
        race.wake();
        assertTrue(race.pause(60_000));
    }

    @Test
    void aRaceWithNoAnswerEndsAtItsLimit() {
        script(V4, Behaviour.HANG);

        assertThrows(SocketTimeoutException.class, () -> race.race(List.of(V4), ATTEMPT_MS, CAP_MS, 100));

        sockets.forEach(s -> assertTrue(s.closed, "abandoned at the end of the race"));
    }

    @Test
    void aWakeUpFromBeforeTheRaceDoesNotEndIt() throws Exception {
        script(V4, Behaviour.CONNECT);
        race.wake();

        Socket s = race.race(List.of(V4), ATTEMPT_MS, CAP_MS, LIMIT_MS);

        assertEquals(V4, ((FakeSocket) s).target);
    }

    private FakeSocket awaitSocket(InetSocketAddress t, int index) throws InterruptedException {
        Await.until(Duration.ofSeconds(5), "attempt #" + index + " to " + t, () -> socketsTo(t).size() > index);
        return socketsTo(t).get(index);
    }

    /** A socket whose connect does what the target's script says. */
    private final class FakeSocket extends Socket {
        final CountDownLatch closedLatch = new CountDownLatch(1);
        final CountDownLatch connectingLatch = new CountDownLatch(1);
        volatile InetSocketAddress target;
        volatile boolean closed;

        FakeSocket() {
            sockets.add(this);
        }

        @Override
        public void connect(SocketAddress endpoint, int timeout) throws IOException {
            target = (InetSocketAddress) endpoint;
            List<Behaviour> script = scripts.get(target);
            int n = tries.computeIfAbsent(target, k -> new AtomicInteger()).getAndIncrement();
            Behaviour b = script.get(Math.min(n, script.size() - 1));
            switch (b) {
                case FAIL -> throw new ConnectException("Network is unreachable");
                case CONNECT -> {
                    return;
                }
                case HANG -> {
                    maxHanging.accumulateAndGet(hanging.incrementAndGet(), Math::max);
                    connectingLatch.countDown();
                    try {
                        closedLatch.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    } finally {
                        hanging.decrementAndGet();
                    }
                    throw new SocketException("Socket closed");
                }
                default -> throw new AssertionError(b);
            }
        }

        @Override
        public synchronized void close() {
            closed = true;
            closedLatch.countDown();
        }
    }
}
