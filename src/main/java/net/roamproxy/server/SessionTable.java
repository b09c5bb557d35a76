package net.roamproxy.server;

import java.net.Socket;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import net.roamproxy.link.Attachment;
import net.roamproxy.link.LinkSettings;
import net.roamproxy.link.Session;
import net.roamproxy.protocol.Handshake;
import net.roamproxy.session.MemoryBudget;
import net.roamproxy.status.Row;

/**
 * sproxy's live sessions by id. Thread-safe. Once {@linkplain #close closed} it creates no
 * more sessions, so the snapshot that shutdown takes cannot miss one that a handshake was
 * still creating.
 */
final class SessionTable {

    /** A live session: its id, the session itself (which relays the target connection), secret, link hand-off and service. */
    record Entry(long id, Session session, byte[] secret, ResumeQueue links, String service) {
    }

    private final Map<Long, Entry> sessions = new ConcurrentHashMap<>();
    private final SecureRandom random = new SecureRandom();
    /** Where every session's buffers count: {@code --memory}. */
    private final MemoryBudget budget;
    /** Guarded by {@code sessions}: new sessions between {@link #reserve} and {@link #create}. */
    private int reserved;
    /** Guarded by {@code sessions}: set by {@link #close}. */
    private boolean closed;

    SessionTable() {
        this(MemoryBudget.unlimited());
    }

    SessionTable(MemoryBudget budget) {
        this.budget = budget;
    }

    MemoryBudget budget() {
        return budget;
    }

    /** A new session's receive window, reserved before the WELCOME promises it; hand it to {@link #create} or {@link #releaseWindow}. */
    int reserveWindow(int capacity) {
        return budget.reserveWindow(capacity);
    }

    void releaseWindow(int window) {
        budget.releaseWindow(window);
    }

    /**
     * Claims room for one more session, so that handshakes completing at the same moment cannot
     * together exceed {@code max}. Follow with {@link #create} or {@link #release}.
     *
     * @return false if the live and the claimed sessions already reach {@code max}
     */
    boolean reserve(int max) {
        synchronized (sessions) {
            if (closed || sessions.size() + reserved >= max) {
                return false;
            }
            reserved++;
            return true;
        }
    }

    /** Gives back a {@link #reserve}d place that will not be used. */
    void release() {
        synchronized (sessions) {
            reserved--;
        }
    }

    /** A fresh session id, not used by any live session; never 0. */
    long newId() {
        long id;
        do {
            id = random.nextLong();
        } while (id == 0 || sessions.containsKey(id));
        return id;
    }

    /**
     * Registers a new session relaying {@code target}, whose cproxy has proved its keys on
     * {@code first}. Uses the place claimed by {@link #reserve}, and {@code window}, from {@link #reserveWindow}.
     *
     * @return the session, or {@code null} if the table was closed meanwhile or {@code id} was
     *         taken (nothing created)
     */
    Entry create(long id, byte[] secret, Socket target, Attachment first, LinkSettings settings, String service,
                 int window) {
        synchronized (sessions) {
            if (closed || sessions.containsKey(id)) {
                return null;
            }
            String idText = Handshake.idText(id);
            ResumeQueue links = new ResumeQueue(first);
            // sproxy takes a link lost after both directions ended as the end: cproxy resumes
            // only to deliver its last ack, and is told the session is gone.
            Session relay = new Session("session " + idText, "sproxy-session-" + idText, target, settings, links,
                    false, r -> sessions.remove(id), budget, window);
            Entry s = new Entry(id, relay, secret, links, service);
            sessions.put(id, s);
            reserved--;
            return s;
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
