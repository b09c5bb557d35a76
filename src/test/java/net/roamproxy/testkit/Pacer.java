package net.roamproxy.testkit;

/**
 * Lets a test hold a stream writer back, so that a long transfer stays in flight while faults
 * are injected. Called by the writer's thread before each chunk.
 */
@FunctionalInterface
public interface Pacer {
    Pacer NONE = (offset, total) -> { };

    /** Blocks until the writer may write the chunk starting at {@code offset} of {@code total}. */
    void beforeChunk(long offset, long total) throws InterruptedException;
}
