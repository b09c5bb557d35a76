package net.roamproxy.session;

import net.roamproxy.net.Sockets;

/**
 * One session as {@code --status} shows it, read at one moment. Immutable.
 *
 * @param name           the session's name in logs ("session 3f9a...", or "session #7" before sproxy named it)
 * @param application    the application connection's other end
 * @param state          {@code linked}, or {@code reconnecting} (cproxy) / {@code detached} (sproxy) while it has no link
 * @param sinceMillis    how long it has been in that state: linked since this link was attached
 *                       (the last resume), or without a link since the last one was lost
 * @param linkLocal      our end of the link, or {@code null} while detached
 * @param linkPeer       the peer's end of the link, or {@code null} while detached
 * @param linkAgeMillis  how long ago the link's connection was made, its handshake included, or -1
 * @param millisSinceFrame time since the last frame from the peer on the current link, or -1
 * @param resumes        links after the first
 * @param bytesSent      bytes of our application's stream so far
 * @param bytesReceived  bytes of the peer's stream so far
 * @param replayBytes    sent but not yet acknowledged: what a resume would resend
 * @param replayBound    the most the replay buffer holds (--buffer)
 * @param lastLoss       why the last link was lost, or {@code null}
 */
public record SessionStatus(String name, String application, String state, long sinceMillis, String linkLocal,
                            String linkPeer, long linkAgeMillis, long millisSinceFrame, int resumes, long bytesSent, long bytesReceived,
                            long replayBytes, int replayBound, String lastLoss) {

    /** Reads {@code s} now; any thread. */
    static SessionStatus of(Session s, String detachedWord) {
        long now = s.clock.getAsLong();
        Link l = s.currentLink();
        long frame = s.history.lastFrameAt();
        return new SessionStatus(s.name(), Sockets.describe(s.app.getRemoteSocketAddress()),
                s.state.link() == SessionState.Link.UP ? "linked" : detachedWord,
                (now - s.history.changedAt()) / 1_000_000,
                l == null ? null : l.local(), l == null ? null : l.peer(), l == null ? -1 : l.ageMillis(),
                l == null || frame < 0 ? -1 : (now - frame) / 1_000_000, s.history.resumes(), s.out.end(),
                s.in.received(), s.out.end() - s.out.acked(), s.settings.bufferBytes(), s.history.lastLoss());
    }
}
