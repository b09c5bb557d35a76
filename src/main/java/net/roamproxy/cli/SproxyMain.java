package net.roamproxy.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.nio.file.Path;

import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

import net.roamproxy.link.LinkSettings;
import net.roamproxy.server.ServerConfig;
import net.roamproxy.server.ServerProxy;
import net.roamproxy.tls.StateDir;
import net.roamproxy.tls.TlsServer;

/** {@code sproxy}: the server-side daemon. No argument needed: listens on 6200, relays to 127.0.0.1:23. */
public final class SproxyMain extends Launcher<ServerConfig> {
    static final int MAX_SESSIONS_LIMIT = 1_000_000;
    static final int MAX_HANDSHAKES_LIMIT = 100_000;

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
        o.addOption(Option.builder().longOpt("tls")
                .desc("encrypt every link with TLS 1.3; cproxy must run with --tls too (default: off)").build());
        o.addOption(Option.builder().longOpt("tls-keystore").hasArg().argName("FILE")
                .desc("PKCS#12 file with sproxy's TLS key and certificate, made (mode 0600) if missing (default "
                        + "sproxy-tls.p12 in $STATE_DIRECTORY, else ~/.local/state/roamproxy)").build());
        o.addOption(Option.builder().longOpt("fingerprint")
                .desc("print the TLS certificate's fingerprint (making the key store if missing) and exit").build());
        o.addOption(Option.builder().longOpt("max-handshakes").hasArg().argName("N")
                .desc("connections in their handshake at most; more are reset (default "
                        + ServerConfig.DEFAULT_MAX_HANDSHAKES + ")").build());
    }

    @Override
    ServerConfig configure(Settings s, LinkSettings link, byte[] presharedKey) throws UsageException, IOException {
        if (!s.arguments().isEmpty()) {
            throw new UsageException("unexpected argument '" + s.arguments().get(0) + "'");
        }
        String targetHost = ServerConfig.DEFAULT_TARGET_HOST;
        int targetPort = ServerConfig.DEFAULT_TARGET_PORT;
        if (s.has("target")) {
            String t = s.value("target");
            String origin = s.origin("target");
            int colon = t.lastIndexOf(':');
            if (colon <= 0 || colon == t.length() - 1) {
                throw new UsageException(origin + " needs HOST:PORT, got '" + t + "'");
            }
            targetHost = t.substring(0, colon).replaceAll("^\\[|]$", "");
            try {
                targetPort = Integer.parseInt(t.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new UsageException(origin + " port must be a number, got '" + t.substring(colon + 1) + "'");
            }
            if (targetPort < 1 || targetPort > 65535) {
                throw new UsageException(origin + " port must be from 1 to 65535, got " + targetPort);
            }
        }
        int port = s.port("port", ServerConfig.DEFAULT_LISTEN_PORT, 0);
        int maxSessions = (int) s.number("max-sessions", ServerConfig.DEFAULT_MAX_SESSIONS, 1, MAX_SESSIONS_LIMIT);
        int maxHandshakes = (int) s.number("max-handshakes", ServerConfig.DEFAULT_MAX_HANDSHAKES, 1,
                MAX_HANDSHAKES_LIMIT);
        // Names are resolved last, so that a bad value is reported as such (status 2) even
        // when the network is down.
        InetAddress listen = s.has("listen") ? address("listen address", s.value("listen")) : null;
        if (s.has("target")) {
            address("target host", targetHost);
        }
        Path keystore = s.has("tls-keystore") ? s.path("tls-keystore") : StateDir.resolve().resolve("sproxy-tls.p12");
        if (s.has("tls-keystore") && !s.flag("tls") && !s.flag("fingerprint")) {
            throw new UsageException(s.origin("tls-keystore") + " needs --tls");
        }
        return new ServerConfig(listen, port, targetHost, targetPort, link, maxSessions, maxHandshakes, presharedKey,
                s.flag("tls") || s.flag("fingerprint") ? keystore : null);
    }

    @Override
    Integer runInstead(Settings s, ServerConfig config, PrintStream out) throws IOException, UsageException {
        if (!s.flag("fingerprint")) {
            return null;
        }
        out.println(TlsServer.loadOrCreate(config.tlsKeystore()).fingerprint());
        return EXIT_OK;
    }

    @Override
    AutoCloseable start(ServerConfig config) throws IOException {
        ServerProxy proxy = new ServerProxy(config);
        proxy.start();
        return proxy;
    }
}
