package net.roamproxy.server;

import java.net.Socket;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import net.roamproxy.link.Attachment;
import net.roamproxy.link.LinkSettings;
import net.roamproxy.link.Session;
import net.roamproxy.protocol.Handshake;
import net.roamproxy.protocol.ProtocolException;
import net.roamproxy.protocol.SessionKeys;
import net.roamproxy.protocol.Welcome;
import net.roamproxy.status.Row;

/**
 * sproxy's live sessions by id. Thread-safe. Once {@linkplain #close closed} it creates no
 * more sessions, so the snapshot that shutdown takes cannot miss one that a handshake was
 * still creating.
 */
final class SessionTable {

    /**
     * A live session: its id, the session itself (which relays the target connection), secret,
     * link hand-off, the WELCOME that answered the HELLO that opened it (sent again if that
     * HELLO is retried), and its service.
     */
    record Entry(long id, Session session, byte[] secret, ResumeQueue links, Welcome welcome, String service) {
    }

    private final Map<Long, Entry> sessions = new ConcurrentHashMap<>();
    /**
     * The same sessions by the key share of the HELLO that opened them (hex), so that a retried
     * HELLO finds its session without a scan over all of them: with thousands of sessions that
     * scan was a third of sproxy's time while sessions were being opened.
     */
    private final Map<String, Entry> byKeyShare = new ConcurrentHashMap<>();
    private final SecureRandom random = new SecureRandom();
    /** Guarded by {@code sessions}: new sessions between {@link #reserve} and {@link #create}. */
    private int reserved;
    /** Guarded by {@code sessions}: set by {@link #close}. */
    private boolean closed;

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

    /**
     * Registers a new session relaying {@code target}, with a fresh id and a secret agreed with
     * the key share of cproxy's HELLO ({@link SessionKeys}). The first link is {@code first},
     * which will be answered with a WELCOME carrying the id and sproxy's key share. Uses the
     * place claimed by {@link #reserve}.
     *
     * @param salt the pre-shared key's salt, or {@code null}
     * @return the session, or {@code null} if the table was closed meanwhile (nothing created)
     * @throws ProtocolException if cproxy's key share is unusable
     */
    Entry create(Socket target, Attachment first, LinkSettings settings, byte[] clientKeyShare, byte[] salt,
                   String service) throws ProtocolException {
        SessionKeys.KeyShare own = SessionKeys.KeyShare.generate();
        byte[] shared = own.agree(clientKeyShare);
        synchronized (sessions) {
            if (closed) {
                return null;
            }
            long id;
            do {
                id = random.nextLong();
            } while (id == 0 || sessions.containsKey(id));
            byte[] secret = SessionKeys.sessionSecret(shared, id, clientKeyShare, own.publicKey(), salt);
            Welcome welcome = new Welcome(Handshake.Status.NEW_SESSION, id, own.publicKey(), settings.bufferBytes(),
                    SessionKeys.newSessionConfirmation(secret));
            String idText = Handshake.idText(id);
            ResumeQueue links = new ResumeQueue(new Attachment(first.link(), first.peerAck(), first.peerWindow(),
                    welcome));
            long key = id;
            String share = HexFormat.of().formatHex(clientKeyShare);
            // sproxy takes a link lost after both directions ended as the end: cproxy resumes
            // only to deliver its last ack, and is told the session is gone.
            Session relay = new Session("session " + idText, "sproxy-session-" + idText, target, settings, links,
                    false, r -> byKeyShare.remove(share, sessions.remove(key))); // only if it is still ours
            Entry s = new Entry(id, relay, secret, links, welcome, service);
            sessions.put(id, s);
            byKeyShare.put(share, s);
            reserved--;
            return s;
        }
    }

    Entry get(long id) {
        return sessions.get(id);
    }

    /**
     * The live session opened by a HELLO with this key share from which nothing has been heard
     * since: its cproxy may never have received the WELCOME. {@code null} if none.
     */
    Entry unanswered(byte[] clientKeyShare) {
        Entry s = byKeyShare.get(HexFormat.of().formatHex(clientKeyShare));
        return s != null && !s.session().heardFromPeer() && !s.session().isClosed() ? s : null;
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
