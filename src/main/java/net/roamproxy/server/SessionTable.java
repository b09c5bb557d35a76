package net.roamproxy.server;

import java.net.InetAddress;
import java.net.Socket;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import net.roamproxy.metrics.Metrics;
import net.roamproxy.session.Attachment;
import net.roamproxy.session.LinkSettings;
import net.roamproxy.session.LiveSessions;
import net.roamproxy.session.Session;
import net.roamproxy.status.Row;
import net.roamproxy.stream.MemoryBudget;
import net.roamproxy.wire.Handshake;

/**
 * sproxy's live sessions by id. Thread-safe. Once {@linkplain #close closed} it creates no
 * more sessions, so the snapshot that shutdown takes cannot miss one that a handshake was
 * still creating.
 */
final class SessionTable {

    /**
     * A live session: its id, the session itself (which relays the target connection), secret,
     * link hand-off, service, and the source it was opened from (for the per-source limit).
     */
    record Entry(long id, Session session, byte[] secret, ResumeQueue links, String service, InetAddress source) {
    }

    private static final Logger log = LogManager.getLogger(SessionTable.class);

    private final Map<Long, Entry> sessions = new ConcurrentHashMap<>();
    private final SecureRandom random = new SecureRandom();
    /** sproxy's counters, which every session it creates adds to. */
    private final Metrics metrics;
    /** Where every session's buffers count: {@code --memory}. */
    private final MemoryBudget budget;
    /** Stamped on every id issued here, so a load balancer can route resumes. */
    private final Instance instance;
    /** Guarded by {@code sessions}: new sessions between {@link #reserve} and {@link #create}. */
    private int reserved;
    /** Guarded by {@code sessions}: set by {@link #close}. */
    private boolean closed;
    /** Guarded by {@code sessions}: live and reserved sessions by the source that opened them. */
    private final Map<InetAddress, Integer> bySource = new HashMap<>();
    private final LimitReport full = new LimitReport(log, "the session limit (--max-sessions)");
    private final LimitReport sourceFull = new LimitReport(log, "the session limit per source "
            + "(--max-sessions-per-source)");

    SessionTable(Metrics metrics) {
        this(metrics, MemoryBudget.unlimited());
    }

    SessionTable(Metrics metrics, MemoryBudget budget) {
        this(metrics, budget, new Instance(Instance.SINGLE));
    }

    SessionTable(Metrics metrics, MemoryBudget budget, Instance instance) {
        this.metrics = metrics;
        this.budget = budget;
        this.instance = instance;
    }

    /** This sproxy's instance number, which every id here carries. */
    Instance instance() {
        return instance;
    }

    MemoryBudget budget() {
        return budget;
    }

    /** The receive window a new session's WELCOME may promise now; taken only by {@link #takeWindow}. */
    int windowToOffer(int capacity) {
        return budget.windowToOffer(capacity);
    }

    /** Takes a promised window for a proven new session; hand it to {@link #create} or {@link #releaseWindow}. */
    void takeWindow(int window) {
        budget.takeWindow(window);
    }

    void releaseWindow(int window) {
        budget.releaseWindow(window);
    }

    /**
     * Claims room for one more session from {@code source}, so that handshakes completing at the
     * same moment cannot together exceed {@code max}, nor {@code perSource} from one source (0:
     * no such limit). Follow with {@link #create} or {@link #release}. A limit reached is
     * logged here (the first time in full, then as a count).
     *
     * @return false if a limit is reached (or the table closed)
     */
    boolean reserve(int max, InetAddress source, int perSource) {
        int held;
        synchronized (sessions) {
            if (closed) {
                return false;
            }
            held = bySource.getOrDefault(source, 0);
            if (sessions.size() + reserved < max && (perSource == 0 || held < perSource)) {
                reserved++;
                bySource.put(source, held + 1);
                return true;
            }
        }
        String from = Source.describe(source);
        if (perSource != 0 && held >= perSource) {
            sourceFull.reached(() -> "refused a new session from " + from + ": it already has " + perSource
                    + " sessions (--max-sessions-per-source)", from);
        } else {
            full.reached(() -> "refused a new session from " + from + ": the limit of " + max + " sessions is "
                    + "reached (--max-sessions)", from);
        }
        return false;
    }

    /** Gives back a {@link #reserve}d place that will not be used. */
    void release(InetAddress source) {
        synchronized (sessions) {
            reserved--;
            forget(source);
        }
    }

    /** Guarded by {@code sessions}. */
    private void forget(InetAddress source) {
        bySource.computeIfPresent(source, (k, n) -> n == 1 ? null : n - 1);
    }

    /** A fresh session id of this instance, not used by any live session; never 0. */
    long newId() {
        long id;
        do {
            id = instance.stamp(random.nextLong());
        } while (id == 0 || sessions.containsKey(id));
        return id;
    }

    /**
     * Registers a new session relaying {@code target}, whose cproxy has proved its keys on
     * {@code first}. Uses the place claimed by {@link #reserve}, and {@code window}, from {@link #takeWindow}.
     *
     * @return the session, or {@code null} if the table was closed meanwhile or {@code id} was
     *         taken (nothing created)
     */
    Entry create(long id, byte[] secret, Socket target, Attachment first, LinkSettings settings, String service,
                 InetAddress source, int window) {
        synchronized (sessions) {
            if (closed || sessions.containsKey(id)) {
                return null;
            }
            String idText = Handshake.idText(id);
            ResumeQueue links = new ResumeQueue(first);
            // sproxy takes a link lost after both directions ended as the end: cproxy resumes
            // only to deliver its last ack, and is told the session is gone.
            Session relay = new Session("session " + idText, "sproxy-session-" + idText, target, settings, links,
                    false, r -> removed(id), metrics, budget, window);
            Entry s = new Entry(id, relay, secret, links, service, source);
            sessions.put(id, s);
            reserved--;
            return s;
        }
    }

    private void removed(long id) {
        synchronized (sessions) {
            Entry e = sessions.remove(id);
            if (e != null) {
                forget(e.source());
            }
        }
    }

    Entry get(long id) {
        return sessions.get(id);
    }

    /** Every live session as {@code --status} shows it. */
    List<Row> status() {
        List<Row> rows = new ArrayList<>();
        sessions.values().forEach(s -> rows.add(new Row(s.service(), s.session().status("detached"))));
        return rows;
    }

    /** The live sessions' state now, for a scrape of the metrics. */
    Metrics.Live live() {
        return LiveSessions.of(sessions.values().stream().map(Entry::session).toList());
    }

    Set<Long> ids() {
        return Set.copyOf(sessions.keySet());
    }

    int size() {
        return sessions.size();
    }

    /** Creates no more sessions from now on; returns every session that exists. */
    List<Session> close() {
        synchronized (sessions) {
            closed = true;
            List<Session> relays = new ArrayList<>();
            sessions.values().forEach(s -> relays.add(s.session()));
            return relays;
        }
    }
}
