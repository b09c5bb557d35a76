package net.roamproxy.stream;

import java.io.IOException;

/** The session ended while a thread was waiting on one of its streams. */
public final class SessionClosedException extends IOException {
    private static final long serialVersionUID = 1L;

    public SessionClosedException() {
        super("session closed");
    }
}
