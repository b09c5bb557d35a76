package net.roamproxy.client;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.Collections;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import net.roamproxy.net.Sockets;

/**
 * cproxy's listening sockets, each with the service its connections are for ("": sproxy's
 * default): the main port, one for every {@code --forward}, and for each on IPv4's loopback the
 * same port on IPv6's.
 *
 * <p>Threading: {@link #open} once, on the thread that starts cproxy; {@link #close()} from any
 * thread, and it closes whatever is bound by then.
 */
final class LocalListeners {
    /** cproxy's own logger: these lines keep the name operators know them by. */
    private static final Logger log = LogManager.getLogger(ClientProxy.class);

    /** ::1 */
    private static final byte[] IPV6_LOOPBACK = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

    /** Every listening socket with the service its connections are for ("": the default). */
    private final Map<ServerSocket, String> all = new ConcurrentHashMap<>();
    private ServerSocket main;

    /** Binds every port {@code config} names; on a failure closes those already bound. */
    void open(ClientConfig config) throws IOException {
        try {
            main = Sockets.listen(config.listenAddress(), config.listenPort(), 128);
            all.put(main, "");
            alsoOnIpv6Loopback(main, "");
            for (ClientConfig.Forward f : config.forwards()) {
                ServerSocket ss = Sockets.listen(f.address(), f.port(), 128);
                all.put(ss, f.service());
                alsoOnIpv6Loopback(ss, f.service());
            }
        } catch (IOException e) {
            close();
            throw e;
        }
    }

    /**
     * A listener on IPv4's loopback also listens on IPv6's, at the same port: `telnet localhost
     * 5200` may try ::1 first. Both are this host only. A host without IPv6 keeps IPv4 alone.
     */
    private void alsoOnIpv6Loopback(ServerSocket ss, String service) {
        if (!(ss.getInetAddress() instanceof Inet4Address) || !ss.getInetAddress().isLoopbackAddress()) {
            return;
        }
        try {
            all.put(Sockets.listen(InetAddress.getByAddress(IPV6_LOOPBACK), ss.getLocalPort(), 128), service);
        } catch (IOException e) {
            if (String.valueOf(e.getMessage()).contains("in use")) {
                log.warn("listening on 127.0.0.1:{} only: {}; `telnet localhost` may reach that other program",
                        ss.getLocalPort(), e.getMessage());
            } else {
                log.debug("no IPv6 loopback here ({}): listening on 127.0.0.1:{} only", e.getMessage(),
                        ss.getLocalPort());
            }
        }
    }

    /** Every listening socket with the service its connections are for; a view, not a copy. */
    Map<ServerSocket, String> all() {
        return Collections.unmodifiableMap(all);
    }

    /** The main port. */
    int port() {
        return main.getLocalPort();
    }

    /** The port of the first listener for {@code service}. */
    int port(String service) {
        return all.entrySet().stream().filter(e -> e.getValue().equals(service)).findFirst()
                .map(e -> e.getKey().getLocalPort()).orElseThrow();
    }

    void close() {
        all.keySet().forEach(Sockets::closeQuietly);
    }
}
