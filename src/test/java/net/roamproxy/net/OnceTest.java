package net.roamproxy.net;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import net.roamproxy.testkit.Crowd;

/** A place given back from a hand-off and again from a {@code finally} is given back once. */
@Timeout(10)
class OnceTest {
    @Test
    void runsOnceHoweverManyThreadsCallIt() throws InterruptedException {
        AtomicInteger runs = new AtomicInteger();
        Runnable once = Once.of(runs::incrementAndGet);
        Crowd.run(8, () -> {
            once.run();
            once.run();
        });
        assertEquals(1, runs.get());
    }
}
