package net.roamproxy.client;

import java.io.EOFException;
import java.io.IOException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.util.Map;
import java.util.TreeMap;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import net.roamproxy.wire.ProtocolException;
import net.roamproxy.wire.UnsupportedVersionException;

/**
 * The handshakes of one outage that failed after TCP connected: what an attacker on the path
 * (or a broken sproxy) can cause, and all it can cause, since none of them ends the session.
 * They are reported in one WARN when the outage ends, with a count of each kind, instead of a
 * line per dial.
 *
 * <p>Threading: used by one session's worker only.
 */
final class FailedAnswers {
    private static final Logger log = LogManager.getLogger(FailedAnswers.class);

    private final Map<String, Integer> counts = new TreeMap<>();
    private int total;
    private String last;

    void add(IOException e) {
        counts.merge(kind(e), 1, Integer::sum);
        total++;
        last = e.getMessage();
    }

    /** Logs the outage's failed handshakes, if there were any, and forgets them. */
    void report(String session, String outcome) {
        if (total == 0) {
            return;
        }
        StringBuilder kinds = new StringBuilder();
        counts.forEach((kind, n) -> kinds.append(kinds.length() == 0 ? "" : ", ").append(n).append(' ').append(kind));
        log.warn("{}: {} handshake(s) with sproxy failed during this outage ({}; the last: {}); {}", session, total,
                kinds, last, outcome);
        counts.clear();
        total = 0;
        last = null;
    }

    static String kind(IOException e) {
        if (e instanceof ClientHandshake.WrongInstance) {
            return "resumes routed to another sproxy instance";
        } else if (e instanceof ClientHandshake.Unverified) {
            return "answers that did not check out";
        } else if (e instanceof UnsupportedVersionException) {
            return "answers in another protocol version";
        } else if (e instanceof ProtocolException) {
            return "malformed or unauthentic frames";
        } else if (e instanceof SocketTimeoutException) {
            return "timed out";
        } else if (e instanceof EOFException || e instanceof SocketException) {
            return "closed or reset";
        }
        return "other errors";
    }
}
