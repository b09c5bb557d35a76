package net.roamproxy.server;

import java.net.Socket;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import net.roamproxy.link.Attachment;
import net.roamproxy.link.LinkSettings;
import net.roamproxy.protocol.Handshake;

/**
 * sproxy's live sessions by id. Thread-safe. Once {@linkplain #close closed} it creates no
 * more sessions, so the snapshot that shutdown takes cannot miss one that a handshake was
 * still creating.
 */
final class SessionTable {

    /**
     * A live session: its id, the session itself ({@code relay}: it relays the target
     * connection), resume credential, link hand-off and the new-session token of the HELLO
     * that opened it.
     */
    record Session(long id, net.roamproxy.link.Session relay, byte[] secret, ResumeQueue links, byte[] newSessionToken) {
    }

    private static final byte[] NO_TOKEN = new byte[Handshake.SECRET_SIZE];

    private final Map<Long, Session> sessions = new ConcurrentHashMap<>();
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
     * Registers a new session relaying {@code target}, with a fresh id and 128-bit secret.
     * The first link is {@code first}, which will be answered with a WELCOME naming both.
     * Uses the place claimed by {@link #reserve}.
     *
     * @return the session, or {@code null} if the table was closed meanwhile (nothing created)
     */
    Session create(Socket target, Attachment first, LinkSettings settings, byte[] newSessionToken) {
        byte[] secret = Handshake.randomBytes(Handshake.SECRET_SIZE);
        synchronized (sessions) {
            if (closed) {
                return null;
            }
            long id;
            do {
                id = random.nextLong();
            } while (id == 0 || sessions.containsKey(id));
            String idText = Handshake.idText(id);
            ResumeQueue links = new ResumeQueue(new Attachment(first.link(), first.peerAck(), first.peerWindow(),
                    Handshake.welcome(Handshake.Status.NEW_SESSION, id, secret, settings.bufferBytes())));
            long key = id;
            // sproxy takes a link lost after both directions ended as the end: cproxy resumes
            // only to deliver its last ack, and is told the session is gone.
            net.roamproxy.link.Session relay = new net.roamproxy.link.Session("session " + idText,
                    "sproxy-session-" + idText, target, settings, links, false, r -> sessions.remove(key));
            Session s = new Session(id, relay, secret, links, newSessionToken.clone());
            sessions.put(id, s);
            reserved--;
            return s;
        }
    }

    Session get(long id) {
        return sessions.get(id);
    }

    /**
     * The live session opened by a HELLO with this new-session token from which nothing has
     * been heard since: its cproxy may never have received the WELCOME. {@code null} if none, or
     * for the all-zero token (a client that sends none).
     */
    Session unanswered(byte[] newSessionToken) {
        if (MessageDigest.isEqual(newSessionToken, NO_TOKEN)) {
            return null;
        }
        for (Session s : sessions.values()) {
            if (MessageDigest.isEqual(s.newSessionToken(), newSessionToken) && !s.relay().heardFromPeer()
                    && !s.relay().isClosed()) {
                return s;
            }
        }
        return null;
    }

    Set<Long> ids() {
        return Set.copyOf(sessions.keySet());
    }

    int size() {
        return sessions.size();
    }

    /** Creates no more sessions from now on; returns every session that exists. */
    List<net.roamproxy.link.Session> close() {
        synchronized (sessions) {
            closed = true;
            List<net.roamproxy.link.Session> relays = new ArrayList<>();
            sessions.values().forEach(s -> relays.add(s.relay()));
            return relays;
        }
    }
}
