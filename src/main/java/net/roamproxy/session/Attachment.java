package net.roamproxy.session;

/**
 * A link that finished its handshake and is ready to carry a session. From the hand-off on,
 * the session owns the link and is the only party that closes it.
 *
 * @param link        the connection, with its keys
 * @param peerAck     bytes of our stream (and our END) the peer has already delivered: replay starts there
 * @param peerWindow  how many unacknowledged bytes the peer can queue
 * @param sessionName the session's new name for log lines once the peer named it (cproxy's
 *                    first WELCOME), or {@code null} to keep the current one
 * @param settled     run once, by the session, when the first frame from the peer arrives on
 *                    the link or the link ends before one: whoever made the link learns that
 *                    the peer has taken it up (cproxy paces its resumes by this)
 */
public record Attachment(Link link, long peerAck, int peerWindow, String sessionName, Runnable settled) {

    public Attachment(Link link, long peerAck, int peerWindow, String sessionName) {
        this(link, peerAck, peerWindow, sessionName, () -> { });
    }

    public Attachment(Link link, long peerAck, int peerWindow) {
        this(link, peerAck, peerWindow, null);
    }

    /** This attachment, with {@code settled} to run as {@link #settled()} says. */
    public Attachment settledBy(Runnable settled) {
        return new Attachment(link, peerAck, peerWindow, sessionName, settled);
    }
}
