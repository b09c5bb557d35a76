package net.roamproxy.client;

import java.net.InetAddress;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

import net.roamproxy.session.LinkSettings;

/**
 * What cproxy needs to run. Immutable.
 *
 * @param listenAddress where local applications connect (loopback by default)
 * @param listenPort    local port, {@value #DEFAULT_LISTEN_PORT} by default; 0 picks a free one
 * @param serverHost    sproxy's host name or address, resolved again on every reconnect
 * @param serverPort    sproxy's port, {@value #DEFAULT_SERVER_PORT} by default
 * @param link          link timings and buffer sizes
 * @param presharedKey  the key sproxy demands, or {@code null} if it demands none
 * @param addressWatch  whether to watch this host's addresses and redial as soon as they change
 *                      (otherwise only missed heartbeats reveal a roam)
 * @param trust         which sproxy host key to trust; {@code null}: trust on first use,
 *                      remembered by this process only
 * @param forwards      more local ports, each for one of sproxy's named services (the main
 *                      port is for its default service)
 * @param maxSessions   live sessions allowed at once; a local connection beyond it is reset at once
 */
public record ClientConfig(InetAddress listenAddress, int listenPort, String serverHost, int serverPort,
                           LinkSettings link, byte[] presharedKey, boolean addressWatch, Trust trust,
                           List<Forward> forwards, int maxSessions) {

    /**
     * A local port whose connections become sessions of one of sproxy's named services.
     *
     * @param service the name as sproxy's {@code --service} gives it
     */
    public record Forward(InetAddress address, int port, String service) {
    }

    /**
     * How cproxy trusts sproxy's host key.
     *
     * @param pinnedFingerprint the only fingerprint to accept, or {@code null} to trust on first use
     * @param knownServers      where trust on first use records fingerprints; {@code null}:
     *                          in this process's memory only
     */
    public record Trust(String pinnedFingerprint, Path knownServers) {
    }

    public static final int DEFAULT_LISTEN_PORT = 5200;
    public static final int DEFAULT_SERVER_PORT = 6200;
    /** As sproxy's: one laptop rarely needs more, and every session costs threads and buffers. */
    public static final int DEFAULT_MAX_SESSIONS = 1024;

    public ClientConfig {
        Objects.requireNonNull(listenAddress, "listenAddress");
        Objects.requireNonNull(serverHost, "serverHost");
        Objects.requireNonNull(link, "link");
        forwards = List.copyOf(forwards);
        trust = trust == null ? new Trust(null, null) : trust;
        if (maxSessions < 1) {
            throw new IllegalArgumentException("maxSessions must be at least 1, got " + maxSessions);
        }
    }

    /** At most {@value #DEFAULT_MAX_SESSIONS} sessions. */
    public ClientConfig(InetAddress listenAddress, int listenPort, String serverHost, int serverPort,
                        LinkSettings link, byte[] presharedKey, boolean addressWatch, Trust trust,
                        List<Forward> forwards) {
        this(listenAddress, listenPort, serverHost, serverPort, link, presharedKey, addressWatch, trust, forwards,
                DEFAULT_MAX_SESSIONS);
    }

    /** No pre-shared key; the address watch on. */
    public ClientConfig(InetAddress listenAddress, int listenPort, String serverHost, int serverPort,
                        LinkSettings link) {
        this(listenAddress, listenPort, serverHost, serverPort, link, null);
    }

    /** The address watch on. */
    public ClientConfig(InetAddress listenAddress, int listenPort, String serverHost, int serverPort,
                        LinkSettings link, byte[] presharedKey) {
        this(listenAddress, listenPort, serverHost, serverPort, link, presharedKey, true, null);
    }

    /** No forwards. */
    public ClientConfig(InetAddress listenAddress, int listenPort, String serverHost, int serverPort,
                        LinkSettings link, byte[] presharedKey, boolean addressWatch, Trust trust) {
        this(listenAddress, listenPort, serverHost, serverPort, link, presharedKey, addressWatch, trust, List.of());
    }

    /** The classic setup: listen on loopback:5200, relay to {@code serverHost}:6200. */
    public static ClientConfig defaults(String serverHost) {
        return new ClientConfig(InetAddress.getLoopbackAddress(), DEFAULT_LISTEN_PORT, serverHost,
                DEFAULT_SERVER_PORT, LinkSettings.defaults());
    }
}
