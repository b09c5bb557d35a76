package net.roamproxy.session;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import net.roamproxy.metrics.LinkLoss;
import net.roamproxy.wire.ProtocolException;

/**
 * How the end of a session's link is told, for each way a link ends while the session lives
 * on: one line an operator at a demo can read, with the session and the peer; the reason
 * {@code --status} shows; the count in the metrics. Used by the session's link reader only.
 */
final class LinkEnds {
    private static final Logger log = LogManager.getLogger(LinkEnds.class);

    private final Session s;

    LinkEnds(Session s) {
        this.s = s;
    }

    /** Nothing from the peer for the missed heartbeats. */
    void silent(Link l, long sinceFrameMillis) {
        log.info("{}: link {} lost: no frame for {} ms ({} heartbeats missed); keeping the session",
                s.name(), l.peer(), sinceFrameMillis, s.settings.missedHeartbeats());
        lost(LinkLoss.HEARTBEATS_MISSED, s.settings.missedHeartbeats() + " heartbeats missed");
    }

    /** The peer's FIN while the session goes on. */
    void peerEnded(Link l, long sinceFrameMillis) {
        log.info("{}: link {} lost: the peer ended it ({} ms since its last frame); keeping the session",
                s.name(), l.peer(), sinceFrameMillis);
        lost(LinkLoss.PEER_ENDED, "the peer ended the link");
    }

    /** The link's read failed for {@code why}: lost, or replaced by a newer link the peer proved. */
    void lostOrReplaced(Link l, long sinceFrameMillis, LinkLoss kind, String why) {
        if (s.provider.hasWaiting()) {
            replaced(l, sinceFrameMillis);
        } else if (!s.isClosed()) {
            log.info("{}: link {} lost: {} ({} ms since its last frame); keeping the session",
                    s.name(), l.peer(), why, sinceFrameMillis);
            lost(kind, why);
        }
    }

    /** The peer proved itself on a new link while this one still looked up: the usual case after a roam. */
    void replaced(Link l, long sinceFrameMillis) {
        log.info("{}: link {} replaced by a newer one from the peer ({} ms since its last frame)", s.name(), l.peer(),
                sinceFrameMillis);
        lost(LinkLoss.REPLACED, "replaced by a newer link from the peer");
    }

    /** The peer broke the protocol on {@code l}: the link goes, and the session tries another. */
    void protocolError(Link l, ProtocolException e) {
        log.warn("{}: dropping link {}: {}", s.name(), l.peer(), e.getMessage());
        if (!s.isClosed()) {
            s.metrics.linkLost(LinkLoss.PROTOCOL_ERROR);
        }
    }

    /** {@code --status} shows {@code why}, the metrics count {@code kind}. */
    private void lost(LinkLoss kind, String why) {
        s.history.lost(why);
        s.metrics.linkLost(kind);
    }
}
