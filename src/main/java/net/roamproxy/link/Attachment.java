package net.roamproxy.link;

import net.roamproxy.protocol.Welcome;

/**
 * A link that finished its handshake and is ready to carry a session.
 *
 * @param link       the connection
 * @param peerAck    bytes of our stream the peer has already delivered: replay starts there
 * @param peerWindow how many unacknowledged bytes the peer can queue
 * @param reply      the WELCOME to send before replaying (sproxy), or {@code null} (cproxy);
 *                   its ack is filled in at send time
 */
public record Attachment(Link link, long peerAck, int peerWindow, Welcome reply) {
}
