package net.roamproxy.server;

import java.net.InetAddress;
import java.util.Map;
import java.util.Objects;

import net.roamproxy.session.LinkSettings;
import net.roamproxy.trust.ServerKeys;
import net.roamproxy.wire.Handshake;
import net.roamproxy.wire.HostKey;

/**
 * What sproxy needs to run. Immutable.
 *
 * @param listenAddress where cproxy links arrive; {@code null} means every interface
 * @param listenPort    link port, {@value #DEFAULT_LISTEN_PORT} by default; 0 picks a free one
 * @param targetHost    the application server each new session connects to
 * @param targetPort    its port, {@value #DEFAULT_TARGET_PORT} (telnet) by default
 * @param link          link timings and buffer sizes
 * @param maxSessions   live sessions allowed at once; a new session beyond it is refused (BUSY)
 * @param maxHandshakes connections allowed to be in their handshake at once; more are dropped
 *                      at accept, so silent peers cannot exhaust threads
 * @param presharedKey  if not {@code null}, mixed into every new session's keys: a cproxy
 *                      without it cannot open a session
 * @param keys          the host key and refusal key; {@code null}: fresh ones that live as
 *                      long as this process
 * @param services      named services besides the default one ({@code targetHost:targetPort}),
 *                      by name; a new session asks for one by name, or for the default
 * @param maxSessionsPerSource live sessions one source (an IPv4 address, an IPv6 /64) may have
 *                      opened; 0, the default, means no such limit (an office behind one NAT,
 *                      or one jump host, is one source)
 * @param instance      this instance's number among several behind one address, 1 to 255, which
 *                      every session id it issues carries; 0, the default, for a single sproxy
 */
public record ServerConfig(InetAddress listenAddress, int listenPort, String targetHost, int targetPort,
                           LinkSettings link, int maxSessions, int maxHandshakes, byte[] presharedKey,
                           ServerKeys keys, Map<String, Service> services, int maxSessionsPerSource,
                           int instance) {

    /** What a session of a named service connects to. */
    public record Service(String name, String host, int port) {
    }

    /** The name operators see for the default service, which cproxy asks for with an empty name. */
    public static final String DEFAULT_SERVICE = "default";

    public static final int DEFAULT_MAX_SESSIONS = 1024;
    public static final int DEFAULT_MAX_HANDSHAKES = 256;
    /** The highest {@code --instance}: the number fills one byte of the session id. */
    public static final int MAX_INSTANCE = 255;

    public static final int DEFAULT_LISTEN_PORT = 6200;
    public static final String DEFAULT_TARGET_HOST = "127.0.0.1";
    public static final int DEFAULT_TARGET_PORT = 23;

    public ServerConfig {
        Objects.requireNonNull(targetHost, "targetHost");
        Objects.requireNonNull(link, "link");
        services = Map.copyOf(services);
        keys = keys == null ? new ServerKeys(HostKey.generate(), Handshake.randomBytes(32)) : keys;
        if (maxSessions < 1 || maxHandshakes < 1 || maxSessionsPerSource < 0) {
            throw new IllegalArgumentException("session and handshake limits must be at least 1");
        }
        if (instance < 0 || instance > MAX_INSTANCE) {
            throw new IllegalArgumentException("instance must be 0 (single) or 1 to " + MAX_INSTANCE);
        }
    }

    /** A single instance. */
    public ServerConfig(InetAddress listenAddress, int listenPort, String targetHost, int targetPort,
                        LinkSettings link, int maxSessions, int maxHandshakes, byte[] presharedKey,
                        ServerKeys keys, Map<String, Service> services, int maxSessionsPerSource) {
        this(listenAddress, listenPort, targetHost, targetPort, link, maxSessions, maxHandshakes, presharedKey,
                keys, services, maxSessionsPerSource, 0);
    }

    /** No limit of sessions per source. */
    public ServerConfig(InetAddress listenAddress, int listenPort, String targetHost, int targetPort,
                        LinkSettings link, int maxSessions, int maxHandshakes, byte[] presharedKey,
                        ServerKeys keys, Map<String, Service> services) {
        this(listenAddress, listenPort, targetHost, targetPort, link, maxSessions, maxHandshakes, presharedKey,
                keys, services, 0);
    }

    /** No named services. */
    public ServerConfig(InetAddress listenAddress, int listenPort, String targetHost, int targetPort,
                        LinkSettings link, int maxSessions, int maxHandshakes, byte[] presharedKey,
                        ServerKeys keys) {
        this(listenAddress, listenPort, targetHost, targetPort, link, maxSessions, maxHandshakes, presharedKey,
                keys, Map.of());
    }

    /** Keys of this process only, no named services. */
    public ServerConfig(InetAddress listenAddress, int listenPort, String targetHost, int targetPort,
                        LinkSettings link, int maxSessions, int maxHandshakes, byte[] presharedKey) {
        this(listenAddress, listenPort, targetHost, targetPort, link, maxSessions, maxHandshakes, presharedKey, null);
    }

    /** The same configuration with {@code newKeys}. */
    public ServerConfig withKeys(ServerKeys newKeys) {
        return new ServerConfig(listenAddress, listenPort, targetHost, targetPort, link, maxSessions, maxHandshakes,
                presharedKey, newKeys, services, maxSessionsPerSource, instance);
    }

    /**
     * The service a HELLO asks for by {@code name}: the default one for the empty name, or
     * {@code null} if there is none of that name.
     */
    public Service service(String name) {
        return name.isEmpty() ? new Service(DEFAULT_SERVICE, targetHost, targetPort) : services.get(name);
    }

    /** Default limits, no pre-shared key, keys of this process only. */
    public ServerConfig(InetAddress listenAddress, int listenPort, String targetHost, int targetPort,
                        LinkSettings link) {
        this(listenAddress, listenPort, targetHost, targetPort, link, DEFAULT_MAX_SESSIONS, DEFAULT_MAX_HANDSHAKES,
                null);
    }

    /** The classic setup: listen on every interface at 6200, relay to 127.0.0.1:23. */
    public static ServerConfig defaults() {
        return new ServerConfig(null, DEFAULT_LISTEN_PORT, DEFAULT_TARGET_HOST, DEFAULT_TARGET_PORT,
                LinkSettings.defaults());
    }
}
