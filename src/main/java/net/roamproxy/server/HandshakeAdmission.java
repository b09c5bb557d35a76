package net.roamproxy.server;

import java.net.InetAddress;
import java.util.HashMap;
import java.util.Map;

/**
 * Which accepted connections may start a handshake: at most {@code max} at once in all, and at
 * most a quarter of them from any one source ({@link Source}), so that one host, however many
 * connections it opens and keeps silent, can never take the places every other host's resumes
 * need. A cproxy paces its own dials well below its share (see ClientProxy), so its sessions
 * resuming all at once after an address change are queued there, not turned away here.
 *
 * <p>Thread-safe: the accept thread admits, handshake threads release, a reload resizes.
 */
final class HandshakeAdmission {
    /** Why a connection was not admitted. */
    enum Verdict { ADMITTED, ALL_PLACES_TAKEN, SOURCE_SHARE_TAKEN }

    private final Map<InetAddress, Integer> bySource = new HashMap<>();
    private int max;
    private int inUse;

    HandshakeAdmission(int max) {
        this.max = max;
    }

    /** The most one source may hold at once: a quarter of all places, at least one. */
    static int perSource(int max) {
        return Math.max(1, max / 4);
    }

    synchronized Verdict admit(InetAddress source) {
        if (inUse >= max) {
            return Verdict.ALL_PLACES_TAKEN;
        }
        int held = bySource.getOrDefault(source, 0);
        if (held >= perSource(max)) {
            return Verdict.SOURCE_SHARE_TAKEN;
        }
        bySource.put(source, held + 1);
        inUse++;
        return Verdict.ADMITTED;
    }

    /** Gives back the place of an admitted connection from {@code source}; exactly once per admission. */
    synchronized void release(InetAddress source) {
        bySource.computeIfPresent(source, (k, n) -> n == 1 ? null : n - 1);
        inUse--;
    }

    /** A reload: handshakes running now finish; beyond the new limit, none start. */
    synchronized void resize(int newMax) {
        max = newMax;
    }

    synchronized int inUse() {
        return inUse;
    }
}
