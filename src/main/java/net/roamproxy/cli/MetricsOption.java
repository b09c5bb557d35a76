package net.roamproxy.cli;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;

import org.apache.commons.cli.Option;

import net.roamproxy.metrics.Measured;
import net.roamproxy.status.MetricsServer;

/**
 * {@code --metrics [ADDR:]PORT}, shared by both commands: off unless given; a bare port is on
 * loopback, because the metrics have no authentication and tell how busy the daemon is.
 * {@link #parse} checks the value with a one-line {@link UsageException} (status 2), and
 * {@link #resolve} resolves a host name after every other check, as for the other options; a
 * port in use when the server starts is a failure to run (status 1), as for the main listener.
 */
final class MetricsOption {
    static final String NAME = "metrics";

    private MetricsOption() {
    }

    static Option option() {
        return Option.builder().longOpt(NAME).hasArg().argName("ADDR:PORT")
                .desc("serve Prometheus metrics over HTTP at /metrics on ADDR:PORT, or with a bare PORT on "
                        + "loopback (127.0.0.1) only; no authentication, so use another address only on a trusted "
                        + "network (default: off)").build();
    }

    /**
     * Where {@code --metrics} (or the config file's {@code metrics}) asks to serve, its host not
     * yet resolved; {@code null} when it is off.
     *
     * @throws UsageException a malformed value
     */
    static InetSocketAddress parse(Settings s) throws UsageException {
        String v = s.value(NAME);
        if (v == null) {
            return null;
        }
        String t = v.trim();
        String usage = s.origin(NAME) + " needs PORT or ADDR:PORT, as in 9200 or 127.0.0.1:9200, got '" + v + "'";
        String host = null;
        String portText = t;
        if (t.startsWith("[")) {
            int close = t.indexOf("]:");
            if (close < 0) {
                throw new UsageException(usage);
            }
            host = t.substring(1, close);
            portText = t.substring(close + 2);
        } else if (t.contains(":")) {
            int colon = t.lastIndexOf(':');
            host = t.substring(0, colon);
            portText = t.substring(colon + 1);
            if (host.contains(":")) {
                throw new UsageException(s.origin(NAME) + " needs an IPv6 address in brackets, as in [::1]:9200, "
                        + "got '" + v + "'");
            }
        }
        if (host != null && host.isEmpty() || t.chars().anyMatch(Character::isWhitespace)
                || !portText.matches("[0-9]{1,9}")) {
            throw new UsageException(usage);
        }
        int port = Integer.parseInt(portText);
        if (port > 65535) {
            throw new UsageException(s.origin(NAME) + " port must be from 0 to 65535, got " + port);
        }
        return host == null ? new InetSocketAddress(InetAddress.getLoopbackAddress(), port)
                : InetSocketAddress.createUnresolved(host, port);
    }

    /**
     * {@code at} with its host resolved; {@code null} if {@code at} is.
     *
     * @throws IOException a name that does not resolve
     */
    static InetSocketAddress resolve(InetSocketAddress at) throws IOException {
        if (at == null || !at.isUnresolved()) {
            return at;
        }
        return new InetSocketAddress(Launcher.address("metrics address", at.getHostString()), at.getPort());
    }

    /**
     * Serves the metrics of {@code proxy} at {@code at}; {@code null} (and nothing served) when
     * {@code at} is. If it cannot, it closes {@code proxy}, so that the command exits without
     * leaving a daemon that runs without what its operator asked for.
     */
    static MetricsServer serve(String command, InetSocketAddress at, AutoCloseable proxy) throws IOException {
        if (at == null) {
            return null;
        }
        try {
            return MetricsServer.start(command, at, ((Measured) proxy).metrics());
        } catch (IOException e) {
            try {
                proxy.close();
            } catch (Exception suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    /** Closes the metrics server (if any), then the proxy: the order in which they were started, reversed. */
    static AutoCloseable both(AutoCloseable metrics, AutoCloseable proxy) {
        if (metrics == null) {
            return proxy;
        }
        return () -> {
            metrics.close();
            proxy.close();
        };
    }
}
