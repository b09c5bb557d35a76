package net.roamproxy.trust;

import java.io.IOException;

/**
 * A key file that is there but cannot be used: damaged, not a file, owned by another user, or
 * open to other users.
 * Unlike a missing network or a port in use, restarting does not help, so the command exits
 * with its usage status and systemd does not retry.
 */
public final class KeyFileException extends IOException {
    private static final long serialVersionUID = 1L;

    KeyFileException(String message) {
        super(message);
    }
}
