package net.roamproxy.net;

import java.util.concurrent.atomic.AtomicBoolean;

/**
 * For a place given back from more than one spot (early, at a hand-off, and in a
 * {@code finally} for every other way out) that must be given back exactly once.
 */
public final class Once {
    private Once() {
    }

    /** {@code r}, run at most once however often, and from whichever threads, it is called. */
    public static Runnable of(Runnable r) {
        AtomicBoolean done = new AtomicBoolean();
        return () -> {
            if (done.compareAndSet(false, true)) {
                r.run();
            }
        };
    }
}
