package net.roamproxy.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

import net.roamproxy.server.ServerConfig;
import net.roamproxy.server.ServerProxy;
import net.roamproxy.session.LinkSettings;
import net.roamproxy.trust.ServerKeys;
import net.roamproxy.trust.StateDir;
import net.roamproxy.wire.Handshake;
import net.roamproxy.wire.Hello;

/** {@code sproxy}: the server-side daemon. No argument needed: listens on 6200, relays to 127.0.0.1:23. */
public final class SproxyMain extends Launcher<ServerConfig> {
    static final int MAX_SESSIONS_LIMIT = 1_000_000;
    static final int MAX_HANDSHAKES_LIMIT = 100_000;
    /** Where the host key is: set by {@link #configure}, used by {@link #start} and {@code --fingerprint}. */
    private Path hostKeyFile;

    SproxyMain() {
        super("sproxy", "", "Server side of roamproxy: accepts cproxy links on TCP "
                + ServerConfig.DEFAULT_LISTEN_PORT + " and relays each session to the target service "
                + "(telnetd at " + ServerConfig.DEFAULT_TARGET_HOST + ":" + ServerConfig.DEFAULT_TARGET_PORT
                + " by default). Sessions survive the client changing its address.\n\n");
    }

    public static void main(String[] args) {
        exit(new SproxyMain().run(args, System.out, errorStream(), true));
    }

    @Override
    void addOptions(Options o) {
        o.addOption(Option.builder("l").longOpt("listen").hasArg().argName("ADDR")
                .desc("address to accept cproxy links on (default: all interfaces)").build());
        o.addOption(Option.builder("p").longOpt("port").hasArg().argName("PORT")
                .desc("port to accept cproxy links on (default " + ServerConfig.DEFAULT_LISTEN_PORT + ")").build());
        o.addOption(Option.builder("t").longOpt("target").hasArg().argName("HOST:PORT")
                .desc("service each new session connects to (default " + ServerConfig.DEFAULT_TARGET_HOST + ":"
                        + ServerConfig.DEFAULT_TARGET_PORT + ")").build());
        o.addOption(Option.builder().longOpt("max-sessions").hasArg().argName("N")
                .desc("live sessions at most; a new one beyond is refused (default "
                        + ServerConfig.DEFAULT_MAX_SESSIONS + ")").build());
        o.addOption(Option.builder().longOpt("service").hasArg().argName("NAME=DEST")
                .desc("offer another service by name, DEST being HOST:PORT (repeatable): cproxy's --forward "
                        + "PORT=NAME opens sessions to it; nothing else can be reached").build());
        o.addOption(Option.builder().longOpt("host-key").hasArg().argName("FILE")
                .desc("sproxy's Ed25519 host key, made (mode 0600) on first start if missing (default "
                        + ServerKeys.HOST_KEY_FILE + " in $STATE_DIRECTORY, else ~/.local/state/roamproxy); "
                        + "instances behind one address share one").build());
        o.addOption(Option.builder().longOpt("fingerprint")
                .desc("print the host key's fingerprint, as cproxy records it, and exit (makes no key)").build());
        o.addOption(Option.builder().longOpt("new-secret").hasArg().argName("FILE")
                .desc("write a new random pre-shared key to FILE (mode 0600; FILE must not exist) for "
                        + "--secret-file on both hosts, and exit").build());
        o.addOption(Option.builder().longOpt("max-handshakes").hasArg().argName("N")
                .desc("connections in their handshake at most, a quarter of them from one source; more are "
                        + "reset (default " + ServerConfig.DEFAULT_MAX_HANDSHAKES + ")").build());
        o.addOption(Option.builder().longOpt("max-sessions-per-source").hasArg().argName("N")
                .desc("live sessions one client address (IPv6: one /64) may have opened (default: no limit, since "
                        + "a whole office behind NAT is one address; --secret-file is what keeps strangers out)")
                .build());
        o.addOption(Option.builder().longOpt("instance").hasArg().argName("N")
                .desc("this sproxy's number, 1 to " + ServerConfig.MAX_INSTANCE + ", among several behind one "
                        + "load balancer: every session id it issues carries N in the byte at offset "
                        + Handshake.INSTANCE_BYTE_OFFSET + " of a HELLO RESUME's TCP stream, by which the balancer "
                        + "routes each resume to its instance (default: a single sproxy, which puts 0 there); "
                        + "each instance needs its own state directory").build());
    }

    @Override
    ServerConfig configure(Settings s, LinkSettings link, byte[] presharedKey) throws UsageException, IOException {
        if (!s.arguments().isEmpty()) {
            throw new UsageException("unexpected argument '" + s.arguments().get(0) + "'");
        }
        String targetHost = ServerConfig.DEFAULT_TARGET_HOST;
        int targetPort = ServerConfig.DEFAULT_TARGET_PORT;
        if (s.has("target")) {
            ServerConfig.Service t = hostPort(ServerConfig.DEFAULT_SERVICE, s.value("target"), s.origin("target"));
            targetHost = t.host();
            targetPort = t.port();
        }
        Map<String, ServerConfig.Service> services = new LinkedHashMap<>();
        for (Settings.Origin o : s.values("service")) {
            int eq = o.value().indexOf('=');
            if (eq < 0) {
                throw new UsageException(o.origin() + " needs NAME=HOST:PORT, got '" + o.value() + "'");
            }
            String name = o.value().substring(0, eq).trim();
            if (!Hello.validService(name) || name.equals(ServerConfig.DEFAULT_SERVICE)) {
                throw new UsageException(o.origin() + " name must be 1 to " + Hello.MAX_SERVICE_LENGTH
                        + " lower-case letters, digits, '.', '_' or '-', and not 'default', got '" + name + "'");
            }
            ServerConfig.Service svc = hostPort(name, o.value().substring(eq + 1).trim(), o.origin());
            if (services.putIfAbsent(name, svc) != null) {
                throw new UsageException(o.origin() + " names service '" + name + "' twice");
            }
        }
        int port = s.port("port", ServerConfig.DEFAULT_LISTEN_PORT, 0);
        int maxSessions = (int) s.number("max-sessions", ServerConfig.DEFAULT_MAX_SESSIONS, 1, MAX_SESSIONS_LIMIT);
        int maxHandshakes = (int) s.number("max-handshakes", ServerConfig.DEFAULT_MAX_HANDSHAKES, 1,
                MAX_HANDSHAKES_LIMIT);
        int perSource = (int) s.number("max-sessions-per-source", 0, 1, MAX_SESSIONS_LIMIT);
        int instance = (int) s.number("instance", 0, 1, ServerConfig.MAX_INSTANCE);
        // Names are resolved last, so that a bad value is reported as such (status 2) even
        // when the network is down.
        InetAddress listen = s.has("listen") ? address("listen address", s.value("listen")) : null;
        if (s.has("target")) {
            address("target host", targetHost);
        }
        hostKeyFile = s.has("host-key") ? s.path("host-key") : StateDir.resolve().resolve(ServerKeys.HOST_KEY_FILE);
        for (ServerConfig.Service svc : services.values()) {
            address("host of service " + svc.name(), svc.host());
        }
        return new ServerConfig(listen, port, targetHost, targetPort, link, maxSessions, maxHandshakes, presharedKey,
                null, services, perSource, instance);
    }

    /** {@code HOST:PORT} (HOST may be an IPv6 address in brackets), with one-line errors naming {@code origin}. */
    private static ServerConfig.Service hostPort(String name, String t, String origin) throws UsageException {
        int colon = t.lastIndexOf(':');
        if (colon <= 0 || colon == t.length() - 1) {
            throw new UsageException(origin + " needs HOST:PORT, got '" + t + "'");
        }
        int port;
        try {
            port = Integer.parseInt(t.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new UsageException(origin + " port must be a number, got '" + t.substring(colon + 1) + "'");
        }
        if (port < 1 || port > 65535) {
            throw new UsageException(origin + " port must be from 1 to 65535, got " + port);
        }
        return new ServerConfig.Service(name, t.substring(0, colon).replaceAll("^\\[|]$", ""), port);
    }

    @Override
    Integer runInstead(Settings s, ServerConfig config, PrintStream out) throws IOException, UsageException {
        if (s.has("new-secret")) {
            SecretFile.create(s.path("new-secret"));
            out.println("wrote a new pre-shared key to " + s.path("new-secret") + "; copy it to the client host and "
                    + "start both proxies with --secret-file pointing at their copy");
            return EXIT_OK;
        }
        if (!s.flag("fingerprint")) {
            return null;
        }
        try {
            out.println(ServerKeys.readHostKey(hostKeyFile).fingerprint());
        } catch (NoSuchFileException e) {
            throw new IOException("no host key at " + hostKeyFile + " yet: sproxy makes one when it first starts");
        }
        return EXIT_OK;
    }

    @Override
    int defaultPort() {
        return ServerConfig.DEFAULT_LISTEN_PORT;
    }

    @Override
    String apply(AutoCloseable proxy, ServerConfig fresh) {
        return ((ServerProxy) proxy).reload(fresh);
    }

    @Override
    AutoCloseable start(ServerConfig config) throws IOException {
        // The keys live in the state directory, made on first start: the refusal key always
        // there, so that instances sharing a host key file never share it.
        ServerKeys keys = ServerKeys.loadOrCreate(hostKeyFile, StateDir.resolve().resolve(ServerKeys.REFUSAL_KEY_FILE));
        ServerProxy proxy = new ServerProxy(config.withKeys(keys));
        proxy.start();
        return proxy;
    }
}
