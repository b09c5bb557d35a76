package net.roamproxy.session;

/**
 * What a session's links have been, for {@code --status}: written only by the session's link
 * reader, read by the status thread (volatile fields, each read on its own; a status line may
 * mix two moments by a few microseconds, which nobody can see).
 */
final class LinkHistory {
    private volatile long changedAt;
    private volatile long lastFrameAt = -1;
    private volatile int links;
    private volatile String lastLoss;

    LinkHistory(long now) {
        changedAt = now;
    }

    void attached(long now) {
        links++;
        changedAt = now;
        lastFrameAt = now;
    }

    void detached(long now) {
        changedAt = now;
        lastFrameAt = -1;
    }

    void frame(long now) {
        lastFrameAt = now;
    }

    void lost(String why) {
        lastLoss = why;
    }

    long changedAt() {
        return changedAt;
    }

    long lastFrameAt() {
        return lastFrameAt;
    }

    int resumes() {
        return Math.max(0, links - 1);
    }

    String lastLoss() {
        return lastLoss;
    }
}
