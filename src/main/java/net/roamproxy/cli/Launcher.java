package net.roamproxy.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.DefaultParser;
import org.apache.commons.cli.HelpFormatter;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import org.apache.commons.cli.ParseException;

import net.roamproxy.link.LinkSettings;

/**
 * What both commands share: option parsing, the link options, exit statuses, and running a
 * proxy until SIGTERM. Only {@code main} methods call {@link System#exit}.
 */
abstract class Launcher {
    static final int EXIT_OK = 0;
    static final int EXIT_FAILURE = 1;
    static final int EXIT_USAGE = 2;

    private final String command;
    private final String argsSyntax;
    private final String summary;

    Launcher(String command, String argsSyntax, String summary) {
        this.command = command;
        this.argsSyntax = argsSyntax;
        this.summary = summary;
    }

    /** Adds this command's own options. */
    abstract void addOptions(Options options);

    /** Builds and starts the proxy from parsed arguments; returns it for shutdown. */
    abstract AutoCloseable start(CommandLine cl, LinkSettings link) throws UsageException, IOException;

    /**
     * Runs the command: parses, starts, and (if {@code block}) waits until the JVM shuts down.
     *
     * @return the exit status
     */
    int run(String[] args, PrintStream out, PrintStream err, boolean block) {
        Options options = new Options();
        addOptions(options);
        options.addOption(Option.builder().longOpt("heartbeat").hasArg().argName("MS")
                .desc("heartbeat interval in milliseconds (default " + LinkSettings.DEFAULT_HEARTBEAT_INTERVAL.toMillis() + ")").build());
        options.addOption(Option.builder().longOpt("missed").hasArg().argName("N")
                .desc("missed heartbeats that mean the link is lost (default " + LinkSettings.DEFAULT_MISSED_HEARTBEATS + ")").build());
        options.addOption(Option.builder().longOpt("buffer").hasArg().argName("BYTES")
                .desc("replay buffer and receive window per session and direction, e.g. 1M or 512K (default 1M)").build());
        options.addOption(Option.builder().longOpt("detach-timeout").hasArg().argName("SECONDS")
                .desc("how long a session without a link is kept (default " + LinkSettings.DEFAULT_DETACH_TIMEOUT.toSeconds() + ")").build());
        options.addOption(Option.builder("h").longOpt("help").desc("show this help and exit").build());
        options.addOption(Option.builder("V").longOpt("version").desc("show the version and exit").build());

        CommandLine cl;
        try {
            cl = new DefaultParser().parse(options, args);
        } catch (ParseException e) {
            err.println(command + ": " + e.getMessage() + " (try --help)");
            return EXIT_USAGE;
        }
        if (cl.hasOption("help")) {
            help(options, out);
            return EXIT_OK;
        }
        if (cl.hasOption("version")) {
            out.println(command + " (roamproxy) " + version());
            return EXIT_OK;
        }
        AutoCloseable proxy;
        try {
            proxy = start(cl, linkSettings(cl));
        } catch (UsageException e) {
            err.println(command + ": " + e.getMessage() + " (try --help)");
            return EXIT_USAGE;
        } catch (IOException e) {
            err.println(command + ": " + e.getMessage());
            return EXIT_FAILURE;
        }
        if (block) {
            CountDownLatch stopped = new CountDownLatch(1);
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                closeQuietly(proxy);
                stopped.countDown();
            }, command + "-shutdown"));
            try {
                stopped.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return EXIT_OK;
    }

    private static void closeQuietly(AutoCloseable c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // shutting down
        }
    }

    private void help(Options options, PrintStream out) {
        PrintWriter w = new PrintWriter(out);
        HelpFormatter f = new HelpFormatter();
        f.printHelp(w, 90, command + " [OPTIONS] " + argsSyntax, summary, options, 2, 2,
                "Exit status: 0 ok, 1 cannot run (port in use, name not resolvable), 2 bad arguments.", false);
        w.flush();
    }

    static String version() {
        String v = Launcher.class.getPackage().getImplementationVersion();
        return v != null ? v : "development build";
    }

    private static LinkSettings linkSettings(CommandLine cl) throws UsageException {
        LinkSettings d = LinkSettings.defaults();
        long heartbeat = ranged(cl, "heartbeat", d.heartbeatInterval().toMillis(), 10, 3_600_000);
        long missed = ranged(cl, "missed", d.missedHeartbeats(), 1, 1000);
        long buffer = bytesOption(cl, "buffer", d.bufferBytes());
        if (buffer < LinkSettings.MIN_BUFFER_BYTES || buffer > MAX_BUFFER) {
            throw new UsageException("--buffer must be from 64K to 1G, got " + cl.getOptionValue("buffer"));
        }
        long detach = ranged(cl, "detach-timeout", d.detachTimeout().toSeconds(), 1, 31_536_000);
        return new LinkSettings(Duration.ofMillis(heartbeat), (int) missed, (int) buffer, d.handshakeTimeout(),
                Duration.ofSeconds(detach));
    }

    private static final long MAX_BUFFER = 1L << 30;

    private static long ranged(CommandLine cl, String name, long dflt, long min, long max) throws UsageException {
        long v = longOption(cl, name, dflt);
        if (v < min || v > max) {
            throw new UsageException("--" + name + " must be from " + min + " to " + max + ", got " + v);
        }
        return v;
    }

    static long longOption(CommandLine cl, String name, long dflt) throws UsageException {
        String v = cl.getOptionValue(name);
        if (v == null) {
            return dflt;
        }
        try {
            return Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException("--" + name + " needs a whole number, got '" + v + "'");
        }
    }

    static long bytesOption(CommandLine cl, String name, long dflt) throws UsageException {
        String v = cl.getOptionValue(name);
        if (v == null) {
            return dflt;
        }
        String t = v.trim().toUpperCase();
        long unit = 1;
        if (t.endsWith("K") || t.endsWith("M") || t.endsWith("G")) {
            unit = t.endsWith("K") ? 1L << 10 : t.endsWith("M") ? 1L << 20 : 1L << 30;
            t = t.substring(0, t.length() - 1);
        }
        try {
            return Math.multiplyExact(Long.parseLong(t), unit);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new UsageException("--" + name + " needs a size such as 1048576, 512K or 1M, got '" + v + "'");
        }
    }

    static int port(CommandLine cl, String name, int dflt) throws UsageException {
        long p = longOption(cl, name, dflt);
        if (p < 0 || p > 65535) {
            throw new UsageException("--" + name + " must be a port from 0 to 65535, got " + p);
        }
        return (int) p;
    }

    /** Resolves a listen or target address, with a one-line error naming the option. */
    static InetAddress address(String what, String host) throws IOException {
        try {
            return InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            throw new IOException("cannot resolve " + what + " '" + host + "'");
        }
    }
}
