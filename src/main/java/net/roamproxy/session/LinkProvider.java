package net.roamproxy.session;

/**
 * Where a session's links come from: cproxy dials sproxy; sproxy waits for cproxy to come back.
 * A provider returns a link or says why there will be none; it never drives the session (it
 * sees it only through the read-only {@link SessionView}).
 *
 * <p>Threading: {@link #next} is called only by the session's link reader; {@link #close} and
 * {@link #hasWaiting} from any thread.
 */
public interface LinkProvider {

    /**
     * Blocks until a link is ready for {@code session}, first or replacement.
     *
     * @throws LinkUnavailableException if no link will come (refused, timed out, closed): the
     *                                  session ends with its message
     */
    Attachment next(SessionView session) throws InterruptedException, LinkUnavailableException;

    /** A replacement link is already waiting (sproxy): the reader should switch to it. */
    default boolean hasWaiting() {
        return false;
    }

    /**
     * Whether the peer waits for our first frame on a resumed link (cproxy paces its dials by
     * sproxy's): the session then sends one at once rather than with its next data or heartbeat.
     */
    default boolean peerAwaitsFirstFrame() {
        return false;
    }

    /** The session is closing: release anything {@link #next} may be blocked on. */
    default void close() {
    }
}
