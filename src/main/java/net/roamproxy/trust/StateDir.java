package net.roamproxy.trust;

import java.nio.file.Path;
import java.util.Map;

/**
 * Where the daemons keep what they must remember across restarts (sproxy's host key and refusal key,
 * cproxy's known servers): systemd's {@code StateDirectory=} when run as a unit
 * ({@code $STATE_DIRECTORY}, /var/lib/roamproxy), otherwise the user's
 * {@code $XDG_STATE_HOME/roamproxy}, by default {@code ~/.local/state/roamproxy}.
 */
public final class StateDir {
    private StateDir() {
    }

    /** The directory for this process's environment. */
    public static Path resolve() {
        return resolve(System.getenv(), System.getProperty("user.home"));
    }

    static Path resolve(Map<String, String> env, String home) {
        String systemd = env.get("STATE_DIRECTORY");
        if (systemd != null && !systemd.isBlank()) {
            return Path.of(systemd.split(":")[0]); // systemd lists one directory per StateDirectory= entry
        }
        String xdg = env.get("XDG_STATE_HOME");
        if (xdg != null && Path.of(xdg).isAbsolute()) {
            return Path.of(xdg, "roamproxy");
        }
        return Path.of(home, ".local", "state", "roamproxy");
    }
}
