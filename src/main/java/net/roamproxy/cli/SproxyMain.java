package net.roamproxy.cli;

import java.io.IOException;
import java.net.InetAddress;

import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;

import net.roamproxy.link.LinkSettings;
import net.roamproxy.server.ServerConfig;
import net.roamproxy.server.ServerProxy;

/** {@code sproxy}: the server-side daemon. No argument needed: listens on 6200, relays to 127.0.0.1:23. */
public final class SproxyMain extends Launcher {

    SproxyMain() {
        super("sproxy", "", "Server side of roamproxy: accepts cproxy links on TCP "
                + ServerConfig.DEFAULT_LISTEN_PORT + " and relays each session to the target service "
                + "(telnetd at " + ServerConfig.DEFAULT_TARGET_HOST + ":" + ServerConfig.DEFAULT_TARGET_PORT
                + " by default). Sessions survive the client changing its address.\n\n");
    }

    public static void main(String[] args) {
        int status = new SproxyMain().run(args, System.out, System.err, true);
        if (status != EXIT_OK) {
            System.exit(status);
        }
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
    }

    @Override
    AutoCloseable start(CommandLine cl, LinkSettings link) throws UsageException, IOException {
        if (!cl.getArgList().isEmpty()) {
            throw new UsageException("unexpected argument '" + cl.getArgList().get(0) + "'");
        }
        InetAddress listen = cl.hasOption("listen") ? address("listen address", cl.getOptionValue("listen")) : null;
        String targetHost = ServerConfig.DEFAULT_TARGET_HOST;
        int targetPort = ServerConfig.DEFAULT_TARGET_PORT;
        if (cl.hasOption("target")) {
            String t = cl.getOptionValue("target");
            int colon = t.lastIndexOf(':');
            if (colon <= 0 || colon == t.length() - 1) {
                throw new UsageException("--target needs HOST:PORT, got '" + t + "'");
            }
            targetHost = t.substring(0, colon).replaceAll("^\\[|]$", "");
            try {
                targetPort = Integer.parseInt(t.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new UsageException("--target port must be a number, got '" + t.substring(colon + 1) + "'");
            }
            if (targetPort < 1 || targetPort > 65535) {
                throw new UsageException("--target port must be from 1 to 65535, got " + targetPort);
            }
            address("target host", targetHost);
        }
        ServerProxy proxy = new ServerProxy(new ServerConfig(listen, port(cl, "port", ServerConfig.DEFAULT_LISTEN_PORT),
                targetHost, targetPort, link));
        proxy.start();
        return proxy;
    }
}
