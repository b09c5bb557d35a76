package net.roamproxy.cli;

import java.io.IOException;
import java.net.InetAddress;

import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

import net.roamproxy.client.ClientConfig;
import net.roamproxy.client.ClientProxy;
import net.roamproxy.link.LinkSettings;

/** {@code cproxy SERVER}: the client-side daemon. Listens on localhost:5200, relays to SERVER:6200. */
public final class CproxyMain extends Launcher {

    CproxyMain() {
        super("cproxy", "SERVER", "Client side of roamproxy: accepts local connections on TCP "
                + ClientConfig.DEFAULT_LISTEN_PORT + " (e.g. telnet localhost " + ClientConfig.DEFAULT_LISTEN_PORT
                + ") and relays each over a link to sproxy on SERVER, which survives this host changing "
                + "its address.\n\n");
    }

    public static void main(String[] args) {
        int status = new CproxyMain().run(args, System.out, System.err, true);
        if (status != EXIT_OK) {
            System.exit(status);
        }
    }

    @Override
    void addOptions(Options o) {
        o.addOption(Option.builder("l").longOpt("listen").hasArg().argName("ADDR")
                .desc("address local applications connect to (default 127.0.0.1: only this host)").build());
        o.addOption(Option.builder("p").longOpt("port").hasArg().argName("PORT")
                .desc("port local applications connect to (default " + ClientConfig.DEFAULT_LISTEN_PORT + ")").build());
        o.addOption(Option.builder("s").longOpt("server-port").hasArg().argName("PORT")
                .desc("sproxy's port on SERVER (default " + ClientConfig.DEFAULT_SERVER_PORT + ")").build());
    }

    @Override
    AutoCloseable start(CommandLine cl, LinkSettings link) throws UsageException, IOException {
        if (cl.getArgList().size() != 1) {
            throw new UsageException(cl.getArgList().isEmpty() ? "missing SERVER, the address of the host running sproxy"
                    : "expected one SERVER argument, got " + cl.getArgList());
        }
        String server = cl.getArgList().get(0);
        address("server", server);
        InetAddress listen = cl.hasOption("listen") ? address("listen address", cl.getOptionValue("listen"))
                : InetAddress.getLoopbackAddress();
        int serverPort = port(cl, "server-port", ClientConfig.DEFAULT_SERVER_PORT);
        if (serverPort == 0) {
            throw new UsageException("--server-port must be from 1 to 65535");
        }
        ClientProxy proxy = new ClientProxy(new ClientConfig(listen, port(cl, "port", ClientConfig.DEFAULT_LISTEN_PORT),
                server, serverPort, link));
        proxy.start();
        return proxy;
    }
}
