package net.roamproxy.link;

/**
 * Where a session's links come from: cproxy dials sproxy; sproxy waits for cproxy to come back.
 * Called only by the session's worker thread.
 */
public interface LinkProvider {

    /**
     * Blocks until a link is ready for {@code relay}, first or replacement.
     *
     * @return the link, or {@code null} if the session should end (the reason has been given
     *         to {@link Relay#close(String)} or logged)
     */
    Attachment next(Relay relay) throws InterruptedException;

    /** A replacement link is already waiting (sproxy): the worker should switch to it. */
    default boolean hasWaiting() {
        return false;
    }

    /** The session is closing: release anything {@link #next} may be blocked on. */
    default void close() {
    }
}
