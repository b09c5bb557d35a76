package net.roamproxy.cli;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.security.Security;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import org.apache.logging.log4j.LogManager;

import net.roamproxy.client.ClientConfig;
import net.roamproxy.client.ClientProxy;
import net.roamproxy.session.LinkSettings;
import net.roamproxy.trust.StateDir;
import net.roamproxy.wire.Hello;
import net.roamproxy.wire.HostKey;

/**
 * {@code cproxy SERVER}: the client-side daemon. Listens on localhost:5200, relays to
 * SERVER:6200. SERVER may also come from the config file's {@code server} key; the command
 * line wins.
 */
public final class CproxyMain extends Launcher<ClientConfig> {
    /** The known-servers file's name in the state directory. */
    static final String KNOWN_SERVERS = "known_host_keys";
    /** As sproxy's: a bound on what one setting can ask for. */
    static final int MAX_SESSIONS_LIMIT = SproxyMain.MAX_SESSIONS_LIMIT;

    CproxyMain() {
        super("cproxy", "SERVER", "Client side of roamproxy: accepts local connections on TCP "
                + ClientConfig.DEFAULT_LISTEN_PORT + " (e.g. telnet localhost " + ClientConfig.DEFAULT_LISTEN_PORT
                + ") and relays each over a link to sproxy on SERVER, which survives this host changing "
                + "its address. A config file may give SERVER as 'server = ADDR'.\n\n");
    }

    static {
        // Every dial resolves SERVER afresh: a name whose addresses change as the client roams
        // must not be served from the JVM's cache, which keeps answers for 30 s and failures
        // (a lookup while the network was gone) for 10 s. The policy is fixed at the first
        // lookup, and setting up log4j makes one: so this runs before any logger exists.
        Security.setProperty("networkaddress.cache.ttl", "0");
        Security.setProperty("networkaddress.cache.negative.ttl", "0");
    }

    public static void main(String[] args) {
        exit(new CproxyMain().run(args, System.out, errorStream(), true));
    }

    @Override
    void addOptions(Options o) {
        o.addOption(Option.builder("l").longOpt("listen").hasArg().argName("ADDR")
                .desc("address local applications connect to (default 127.0.0.1, with ::1 on the same port: only "
                        + "this host)").build());
        o.addOption(Option.builder("p").longOpt("port").hasArg().argName("PORT")
                .desc("port local applications connect to (default " + ClientConfig.DEFAULT_LISTEN_PORT + ")").build());
        o.addOption(Option.builder("s").longOpt("server-port").hasArg().argName("PORT")
                .desc("sproxy's port on SERVER (default " + ClientConfig.DEFAULT_SERVER_PORT + ")").build());
        o.addOption(Option.builder().longOpt("forward").hasArg().argName("PORT=NAME")
                .desc("also listen on PORT, or ADDR:PORT (default address: --listen), for sessions to sproxy's "
                        + "service NAME (repeatable; see sproxy --service)").build());
        o.addOption(Option.builder().longOpt("server-fingerprint").hasArg().argName("FP")
                .desc("accept only the sproxy host key with this fingerprint, SHA256:... as sproxy --fingerprint "
                        + "prints it, instead of trusting the first one seen").build());
        o.addOption(Option.builder().longOpt("known-servers").hasArg().argName("FILE")
                .desc("where the host key first seen for each server is recorded (default " + KNOWN_SERVERS
                        + " in $STATE_DIRECTORY, else ~/.local/state/roamproxy)").build());
        o.addOption(Option.builder().longOpt("max-sessions").hasArg().argName("N")
                .desc("live sessions at most; a new local connection beyond is reset at once (default "
                        + ClientConfig.DEFAULT_MAX_SESSIONS + ")").build());
        o.addOption(Option.builder().longOpt("no-address-watch")
                .desc("do not watch this host's addresses; notice a roam only through missed heartbeats "
                        + "(default: watch, and reconnect as soon as an address goes or appears)").build());
    }

    @Override
    Set<String> extraConfigKeys() {
        return Set.of("server");
    }

    @Override
    ClientConfig configure(Settings s, LinkSettings link, byte[] presharedKey) throws UsageException, IOException {
        List<String> args = s.arguments();
        if (args.size() > 1) {
            throw new UsageException("expected one SERVER argument, got " + args);
        }
        String server = args.isEmpty() ? s.fileOnly("server") : args.get(0);
        if (server == null) {
            throw new UsageException("missing SERVER, the address of the host running sproxy");
        }
        int port = s.port("port", ClientConfig.DEFAULT_LISTEN_PORT, 0);
        int serverPort = s.port("server-port", ClientConfig.DEFAULT_SERVER_PORT, 1);
        int maxSessions = (int) s.number("max-sessions", ClientConfig.DEFAULT_MAX_SESSIONS, 1, MAX_SESSIONS_LIMIT);
        if (server.isBlank() || server.chars().anyMatch(Character::isWhitespace)) {
            throw new UsageException("SERVER must be a host name or address, got '" + server + "'");
        }
        // SERVER is not resolved here: a laptop may start cproxy before it has a network, and
        // every dial resolves the name afresh anyway. The listen address is resolved last, so
        // that a bad value is reported as such (status 2) even when the network is down.
        InetAddress listen = s.has("listen") ? address("listen address", s.value("listen"))
                : InetAddress.getLoopbackAddress();
        return new ClientConfig(listen, port, server, serverPort, link, presharedKey, !s.flag("no-address-watch"),
                trust(s), forwards(s, listen, port), maxSessions);
    }

    /** The --forward options: each a distinct local port, each for a validly named service. */
    private static List<ClientConfig.Forward> forwards(Settings s, InetAddress listen, int mainPort)
            throws UsageException, IOException {
        List<ClientConfig.Forward> out = new ArrayList<>();
        for (Settings.Origin o : s.values("forward")) {
            String v = o.value();
            int eq = v.lastIndexOf('=');
            if (eq < 0) {
                throw new UsageException(o.origin() + " needs [ADDR:]PORT=NAME, got '" + v + "'");
            }
            String name = v.substring(eq + 1).trim();
            if (!Hello.validService(name)) {
                throw new UsageException(o.origin() + " service name must be 1 to " + Hello.MAX_SERVICE_LENGTH
                        + " lower-case letters, digits, '.', '_' or '-', got '" + name + "'");
            }
            String where = v.substring(0, eq).trim();
            int colon = where.lastIndexOf(':');
            String portText = where.substring(colon + 1);
            int port;
            try {
                port = Integer.parseInt(portText);
            } catch (NumberFormatException e) {
                throw new UsageException(o.origin() + " port must be a number, got '" + portText + "'");
            }
            if (port < 1 || port > 65535) {
                throw new UsageException(o.origin() + " port must be from 1 to 65535, got " + port);
            }
            if (port == mainPort || out.stream().anyMatch(f -> f.port() == port)) {
                throw new UsageException(o.origin() + " uses port " + port + ", which another listener already has");
            }
            InetAddress addr = colon < 0 ? listen
                    : address("--forward address", where.substring(0, colon).replaceAll("^\\[|]$", ""));
            // "default" is how operators name sproxy's default service; on the wire it is "".
            out.add(new ClientConfig.Forward(addr, port, name.equals("default") ? "" : name));
        }
        return out;
    }

    private static ClientConfig.Trust trust(Settings s) throws UsageException {
        String pinned = s.value("server-fingerprint");
        if (pinned != null && !HostKey.validFingerprint(pinned.trim())) {
            throw new UsageException(s.origin("server-fingerprint") + " needs SHA256: and 43 base64 characters, as "
                    + "sproxy --fingerprint prints it, got '" + pinned + "'");
        }
        Path known = s.has("known-servers") ? s.path("known-servers") : StateDir.resolve().resolve(KNOWN_SERVERS);
        return new ClientConfig.Trust(pinned == null ? null : pinned.trim(), known);
    }

    @Override
    int defaultPort() {
        return ClientConfig.DEFAULT_LISTEN_PORT;
    }

    @Override
    AutoCloseable start(ClientConfig config) throws IOException {
        ClientProxy proxy = new ClientProxy(config);
        proxy.start();
        try {
            InetAddress.getAllByName(config.serverHost());
        } catch (UnknownHostException e) {
            // A logger only now: loading one resolves this host's name, and the static block
            // above must set the JVM's DNS cache policy before any lookup.
            LogManager.getLogger(CproxyMain.class).warn("sproxy's host '{}' does not resolve yet; cproxy resolves "
                    + "it again on every dial", config.serverHost());
        }
        return proxy;
    }
}
