package net.roamproxy.server;

import java.net.InetAddress;
import java.util.Objects;

import net.roamproxy.link.LinkSettings;

/**
 * What sproxy needs to run. Immutable.
 *
 * @param listenAddress where cproxy links arrive; {@code null} means every interface
 * @param listenPort    link port, {@value #DEFAULT_LISTEN_PORT} by default; 0 picks a free one
 * @param targetHost    the application server each new session connects to
 * @param targetPort    its port, {@value #DEFAULT_TARGET_PORT} (telnet) by default
 * @param link          link timings and buffer sizes
 */
public record ServerConfig(InetAddress listenAddress, int listenPort, String targetHost, int targetPort,
                           LinkSettings link) {

    public static final int DEFAULT_LISTEN_PORT = 6200;
    public static final String DEFAULT_TARGET_HOST = "127.0.0.1";
    public static final int DEFAULT_TARGET_PORT = 23;

    public ServerConfig {
        Objects.requireNonNull(targetHost, "targetHost");
        Objects.requireNonNull(link, "link");
    }

    /** The classic setup: listen on every interface at 6200, relay to 127.0.0.1:23. */
    public static ServerConfig defaults() {
        return new ServerConfig(null, DEFAULT_LISTEN_PORT, DEFAULT_TARGET_HOST, DEFAULT_TARGET_PORT,
                LinkSettings.defaults());
    }
}
