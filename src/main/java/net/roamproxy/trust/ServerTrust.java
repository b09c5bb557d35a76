package net.roamproxy.trust;

import java.io.IOException;
import java.nio.file.Path;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import net.roamproxy.wire.HostKey;

/**
 * Which sproxy host key cproxy trusts for one server: the one pinned with
 * {@code --server-fingerprint}, or else the one recorded in the known-servers file the first
 * time cproxy opened a session there (trust on first use, as ssh does). A key is recorded only
 * once the new session's first sealed frame from sproxy has checked out, so with a pre-shared
 * key only a server that knows it is ever recorded. A different key later is refused with an
 * ERROR naming both fingerprints and the fix. Thread-safe.
 */
public final class ServerTrust {
    private static final Logger log = LogManager.getLogger(ServerTrust.class);

    private final String server;
    private final String pinned;
    private final KnownServers known;
    /** The fingerprint last logged as added: sessions opened at once log it once. */
    private volatile String lastLogged;

    /**
     * @param host         sproxy's host as cproxy was told it (name or address)
     * @param pinned       the fingerprint to require, or {@code null} for trust on first use
     * @param knownServers the trust-on-first-use file (unused when pinned)
     * @throws IOException if the known-servers file cannot be read or is malformed: reported
     *                     at start, not at the first dial
     */
    public ServerTrust(String host, int port, String pinned, Path knownServers) throws IOException {
        this.server = (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
        this.pinned = pinned;
        this.known = new KnownServers(knownServers);
        if (pinned == null) {
            known.lookup(server);
        }
    }

    /** sproxy's host key is not the one we trust: no session may be opened with whoever presented it. */
    public static final class Untrusted extends IOException {
        private static final long serialVersionUID = 1L;

        Untrusted(String message) {
            super(message);
        }
    }

    /**
     * Checks a host key sproxy presented in a new session's WELCOME (its signature already
     * checked): the one pinned or recorded, or, at first contact, any key, trusted once
     * {@link #confirm}ed.
     *
     * @throws Untrusted if another key is pinned or recorded for this server (logged at ERROR)
     */
    public void check(byte[] hostKey) throws IOException {
        String seen = HostKey.fingerprint(hostKey);
        String expected = trusted();
        if (expected != null && !expected.equals(seen)) {
            throw mismatch(seen, expected);
        }
    }

    /**
     * Whether a refusal signed by {@code hostKey} may come from this server: the key is the one
     * we trust, or we trust none yet (first contact, where trust on first use has nothing to
     * compare with). Unlike {@link #check} it logs nothing: a refusal signed by another key is
     * only a failed dial.
     */
    public boolean mayRefuse(byte[] hostKey) throws IOException {
        String expected = trusted();
        return expected == null || expected.equals(HostKey.fingerprint(hostKey));
    }

    /**
     * sproxy proved the session's keys with {@code hostKey}: record it if it is new.
     *
     * @throws Untrusted if another key was recorded for this server meanwhile
     */
    public void confirm(byte[] hostKey) throws IOException {
        if (pinned != null) {
            return;
        }
        String seen = HostKey.fingerprint(hostKey);
        String recorded = known.recordIfNew(server, seen);
        if (!recorded.equals(seen)) {
            throw mismatch(seen, recorded);
        }
        if (!seen.equals(lastLogged)) {
            lastLogged = seen;
            log.info("Permanently added sproxy at {} with host key {} to {} (compare it with `sproxy --fingerprint` "
                    + "on the server)", server, seen, known.file() == null ? "this process's memory" : known.file());
        }
    }

    /** The fingerprint pinned or recorded for this server, or {@code null} before first contact. */
    private String trusted() throws IOException {
        return pinned != null ? pinned : known.lookup(server);
    }

    private Untrusted mismatch(String seen, String expected) {
        String fix = pinned != null ? "if the server's key really changed, pin the new one with --server-fingerprint"
                : "if the server's key really changed (sproxy's host key was replaced), remove the line for " + server
                + " from " + (known.file() == null ? "the known-servers file" : known.file());
        String msg = "sproxy at " + server + " presents host key " + seen + " but we trust " + expected
                + ": refusing it (someone may be intercepting the link); " + fix;
        log.error(msg);
        return new Untrusted(msg);
    }
}
