package net.roamproxy.session;

import java.util.Collection;

import net.roamproxy.metrics.Metrics;

/**
 * The metrics that describe a moment rather than count events, read from the sessions
 * themselves at each scrape: a daemon's session table is their only source, so they cannot
 * drift from it as a second tally could.
 */
public final class LiveSessions {
    private LiveSessions() {
    }

    /**
     * What {@code sessions} hold now: how many, how many have a link, and the memory their
     * buffers hold (not their capacity: an idle session holds none). Any thread; each session
     * is read on its own, so the totals may mix moments a few microseconds apart.
     */
    public static Metrics.Live of(Collection<Session> sessions) {
        int count = 0;
        int links = 0;
        long replay = 0;
        long receive = 0;
        for (Session s : sessions) {
            count++;
            links += s.state.link() == SessionState.Link.UP ? 1 : 0;
            replay += s.out.allocated();
            receive += s.in.allocated();
        }
        return new Metrics.Live(count, links, replay, receive);
    }
}
