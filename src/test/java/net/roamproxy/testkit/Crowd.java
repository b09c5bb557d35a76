package net.roamproxy.testkit;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;

/**
 * Many threads doing the same thing at once, for tests of what must hold however calls
 * interleave. Stateless.
 */
public final class Crowd {
    private Crowd() {
    }

    /**
     * Runs {@code body} on {@code threads} new threads, held at one gate until all are started
     * and then let go together, so that their calls overlap as much as they can; returns once
     * every one has ended.
     */
    public static void run(int threads, Runnable body) throws InterruptedException {
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> started = new ArrayList<>();
        for (int i = 0; i < threads; i++) {
            Thread t = new Thread(() -> {
                try {
                    go.await();
                } catch (InterruptedException e) {
                    return;
                }
                body.run();
            });
            t.start();
            started.add(t);
        }
        go.countDown();
        for (Thread t : started) {
            t.join();
        }
    }
}
