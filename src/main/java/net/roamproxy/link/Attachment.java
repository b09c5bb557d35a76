package net.roamproxy.link;

/**
 * A link that finished its handshake and is ready to carry a session. From the hand-off on,
 * the session owns the link and is the only party that closes it.
 *
 * @param link        the connection, with its keys
 * @param peerAck     bytes of our stream (and our END) the peer has already delivered: replay starts there
 * @param peerWindow  how many unacknowledged bytes the peer can queue
 * @param sessionName the session's new name for log lines once the peer named it (cproxy's
 *                    first WELCOME), or {@code null} to keep the current one
 */
public record Attachment(Link link, long peerAck, int peerWindow, String sessionName) {

    public Attachment(Link link, long peerAck, int peerWindow) {
        this(link, peerAck, peerWindow, null);
    }
}
