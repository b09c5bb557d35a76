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
import net.roamproxy.link.Relay;
import net.roamproxy.protocol.Handshake;

/** sproxy's live sessions by id. Thread-safe. */
final class SessionTable {

    /** A live session: its relay, its resume credential and its link hand-off. */
    record Session(Relay relay, byte[] secret, ResumeQueue links) {
    }

    private final Map<Long, Session> sessions = new ConcurrentHashMap<>();
    private final SecureRandom random = new SecureRandom();

    /**
     * Registers a new session relaying {@code target}, with a fresh id and 128-bit secret.
     * The first link is {@code first}, which will be answered with a WELCOME naming both.
     */
    Session create(Socket target, Attachment first, LinkSettings settings) {
        byte[] secret = Handshake.randomBytes(Handshake.SECRET_SIZE);
        synchronized (sessions) {
            long id;
            do {
                id = random.nextLong();
            } while (id == 0 || sessions.containsKey(id));
            String idText = Handshake.idText(id);
            ResumeQueue links = new ResumeQueue(new Attachment(first.link(), first.peerAck(), first.peerWindow(),
                    Handshake.welcome(Handshake.Status.NEW_SESSION, id, secret, settings.bufferBytes())));
            long key = id;
            Relay relay = new Relay("session " + idText, "sproxy-session-" + idText, target, settings, links,
                    r -> sessions.remove(key));
            Session s = new Session(relay, secret, links);
            sessions.put(id, s);
            return s;
        }
    }

    Session get(long id) {
        return sessions.get(id);
    }

    Set<Long> ids() {
        return Set.copyOf(sessions.keySet());
    }

    int size() {
        return sessions.size();
    }

    List<Relay> relays() {
        List<Relay> relays = new ArrayList<>();
        sessions.values().forEach(s -> relays.add(s.relay()));
        return relays;
    }
}
