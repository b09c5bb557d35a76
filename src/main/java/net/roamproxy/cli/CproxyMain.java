package net.roamproxy.cli;

import java.io.IOException;
import java.net.InetAddress;
import java.security.Security;
import java.util.List;
import java.util.Set;

import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

import net.roamproxy.client.ClientConfig;
import net.roamproxy.client.ClientProxy;
import net.roamproxy.link.LinkSettings;

/**
 * {@code cproxy SERVER}: the client-side daemon. Listens on localhost:5200, relays to
 * SERVER:6200. SERVER may also come from the config file's {@code server} key; the command
 * line wins.
 */
public final class CproxyMain extends Launcher<ClientConfig> {

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
                .desc("address local applications connect to (default 127.0.0.1: only this host)").build());
        o.addOption(Option.builder("p").longOpt("port").hasArg().argName("PORT")
                .desc("port local applications connect to (default " + ClientConfig.DEFAULT_LISTEN_PORT + ")").build());
        o.addOption(Option.builder("s").longOpt("server-port").hasArg().argName("PORT")
                .desc("sproxy's port on SERVER (default " + ClientConfig.DEFAULT_SERVER_PORT + ")").build());
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
        // Names are resolved last, so that a bad value is reported as such (status 2) even
        // when the network is down.
        address("server", server);
        InetAddress listen = s.has("listen") ? address("listen address", s.value("listen"))
                : InetAddress.getLoopbackAddress();
        return new ClientConfig(listen, port, server, serverPort, link, presharedKey, !s.flag("no-address-watch"));
    }

    @Override
    AutoCloseable start(ClientConfig config) throws IOException {
        ClientProxy proxy = new ClientProxy(config);
        proxy.start();
        return proxy;
    }
}
