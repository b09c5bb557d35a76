package net.roamproxy.server;

import java.net.InetAddress;
import java.nio.file.Path;
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
 * @param maxSessions   live sessions allowed at once; a new session beyond it is refused (BUSY)
 * @param maxHandshakes connections allowed to be in their handshake at once; more are dropped
 *                      at accept, so silent peers cannot exhaust threads
 * @param presharedKey  if not {@code null}, a cproxy must prove it knows this key (HMAC
 *                      challenge-response) before it can open or resume any session
 * @param tlsKeystore   if not {@code null}, links use TLS 1.3 with the key and certificate in
 *                      this PKCS#12 file, made there on first start
 */
public record ServerConfig(InetAddress listenAddress, int listenPort, String targetHost, int targetPort,
                           LinkSettings link, int maxSessions, int maxHandshakes, byte[] presharedKey,
                           Path tlsKeystore) {

    public static final int DEFAULT_MAX_SESSIONS = 1024;
    public static final int DEFAULT_MAX_HANDSHAKES = 256;

    public static final int DEFAULT_LISTEN_PORT = 6200;
    public static final String DEFAULT_TARGET_HOST = "127.0.0.1";
    public static final int DEFAULT_TARGET_PORT = 23;

    public ServerConfig {
        Objects.requireNonNull(targetHost, "targetHost");
        Objects.requireNonNull(link, "link");
        if (maxSessions < 1 || maxHandshakes < 1) {
            throw new IllegalArgumentException("session and handshake limits must be at least 1");
        }
    }

    /** No TLS. */
    public ServerConfig(InetAddress listenAddress, int listenPort, String targetHost, int targetPort,
                        LinkSettings link, int maxSessions, int maxHandshakes, byte[] presharedKey) {
        this(listenAddress, listenPort, targetHost, targetPort, link, maxSessions, maxHandshakes, presharedKey, null);
    }

    /** Default limits, no pre-shared key, no TLS. */
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
