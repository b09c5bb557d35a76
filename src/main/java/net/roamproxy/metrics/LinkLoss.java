package net.roamproxy.metrics;

import java.util.Locale;

/**
 * Why a session lost a link, in the few words a dashboard can group by. A small fixed set on
 * purpose: every value is a time series, and the free-text reasons the log gives (with
 * addresses and timings in them) would make a new one at every loss.
 */
public enum LinkLoss {
    /** No frame from the peer for the configured number of heartbeat intervals. */
    HEARTBEATS_MISSED,
    /** The peer (or something on the path) closed the link in order, with a FIN. */
    PEER_ENDED,
    /** The link's socket failed: a connection reset, or another error reading it. */
    RESET,
    /** The peer proved itself on a newer link, which took over (the usual case after a roam). */
    REPLACED,
    /** cproxy: the local address the link was sent from left this host. */
    ADDRESS_REMOVED,
    /** The peer sent something the protocol does not allow, and the link was dropped. */
    PROTOCOL_ERROR;

    /** The label value: the name in lower case, as Prometheus label values usually are. */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }
}
