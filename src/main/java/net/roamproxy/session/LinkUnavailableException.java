package net.roamproxy.session;

/**
 * A {@link LinkProvider} will provide no more links: the peer refused the session, it did not
 * come back within the detach timeout, or the session is closing. The message is the reason
 * the session's close line gives.
 */
public final class LinkUnavailableException extends Exception {
    private static final long serialVersionUID = 1L;
    private final boolean peerEnded;

    public LinkUnavailableException(String message) {
        this(message, false);
    }

    /**
     * @param peerEnded the peer says the session no longer exists there, which after both
     *                  directions finished is the expected end, not a failure
     */
    public LinkUnavailableException(String message, boolean peerEnded) {
        super(message);
        this.peerEnded = peerEnded;
    }

    public boolean peerEnded() {
        return peerEnded;
    }
}
