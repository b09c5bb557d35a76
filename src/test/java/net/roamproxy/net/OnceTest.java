package net.roamproxy.net;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** A place given back from a hand-off and again from a {@code finally} is given back once. */
@Timeout(10)
class OnceTest {
    @Test
    void runsOnceHoweverManyThreadsCallIt() throws InterruptedException {
        AtomicInteger runs = new AtomicInteger();
        Runnable once = Once.of(runs::incrementAndGet);
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> callers = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            Thread t = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                once.run();
                once.run();
            });
            t.start();
            callers.add(t);
        }
        go.countDown();
        for (Thread t : callers) {
            t.join();
        }
        assertEquals(1, runs.get());
    }
}
