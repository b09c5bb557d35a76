package net.roamproxy.session;

/**
 * What a {@link LinkProvider} may know of the session it dials or waits for: read-only, so
 * that a provider never drives the session. Thread-safe.
 */
public interface SessionView {
    /** The session's name for log lines. */
    String name();

    /** Bytes of the peer's stream (and its END) delivered to our application: the ack a HELLO carries. */
    long delivered();

    /** Our receive window, advertised in the handshake. */
    int window();

    /** Whether our application has ended its stream (or reset it). */
    boolean applicationFinished();

    LinkSettings settings();

    /**
     * Whether the peer ever sent a frame after its first handshake; if not, it may never have
     * received our answer to that handshake.
     */
    boolean heardFromPeer();
}
