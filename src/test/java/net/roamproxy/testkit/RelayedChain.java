package net.roamproxy.testkit;

import java.time.Duration;

import net.roamproxy.link.LinkSettings;

/**
 * The product on loopback with a {@link FaultyRelay} in the link, as {@link Chaos} sees it:
 * the link settings, the relay, and the deadlines derived from the one heartbeat interval.
 * The deadlines are generous upper bounds (for a loaded two-core machine), never delays.
 */
public interface RelayedChain {
    LinkSettings link();

    FaultyRelay relay();

    default Duration intervals(long n) {
        return link().heartbeatInterval().multipliedBy(n);
    }

    /** Upper bound for bytes to cross a healthy chain. */
    default Duration flowDeadline() {
        return intervals(50);
    }

    /** Upper bound for either proxy to notice a silent link: twice the dead time, plus slack. */
    default Duration noticeDeadline() {
        return link().deadAfter().multipliedBy(2).plus(intervals(10));
    }

    /**
     * Upper bound for cproxy to be linked again once the path works: it may first have to
     * notice the loss, and may be waiting out the handshake timeout of an attempt that went
     * into the black hole.
     */
    default Duration relinkDeadline() {
        return noticeDeadline().plus(link().handshakeTimeout()).plus(intervals(20));
    }
}
