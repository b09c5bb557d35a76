package net.roamproxy.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.DefaultParser;
import org.apache.commons.cli.HelpFormatter;
import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import org.apache.commons.cli.ParseException;
import org.apache.commons.cli.UnrecognizedOptionException;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import net.roamproxy.link.LastResort;
import net.roamproxy.link.LinkSettings;
import net.roamproxy.link.Threads;
import net.roamproxy.session.MemoryBudget;
import net.roamproxy.trust.KeyFileException;

/**
 * What both commands share: option parsing, the {@code --config} file, the link options, the
 * pre-shared key, exit statuses, and running a proxy until SIGTERM or SIGINT. Only
 * {@code main} methods call {@link System#exit}.
 *
 * <p>A run goes: parse the command line, read the config file, {@link #configure} (every
 * check, no side effect but name resolution), {@link #start}, then, if blocking, wait for a
 * stop signal, close the proxy (bounded by {@link #STOP_LIMIT}) and return {@link #EXIT_OK}.
 * Instances are used by one thread.
 *
 * @param <C> the proxy's configuration record
 */
abstract class Launcher<C> {
    /** Stopped normally, including on SIGTERM or SIGINT. */
    static final int EXIT_OK = 0;
    /** Cannot run: a port in use, a name that does not resolve. Restarting may help. */
    static final int EXIT_FAILURE = 1;
    /** Bad command line, config file, key or secret file. Restarting does not help. */
    static final int EXIT_USAGE = 2;

    /** The exit statuses, as {@code --help} and the README state them. */
    static final String EXIT_STATUS_HELP = "Exit status: 0 stopped normally (also on SIGTERM or SIGINT); "
            + "1 cannot run (port already in use, name not resolvable, no Java 17 or later); "
            + "2 bad command line, config file, key or secret file, or log level.";

    /** The threat model in brief, for {@code --help}; docs/security.md has the full table. */
    static final String SECURITY_HELP = "Security: every frame after the opening handshake is encrypted and "
            + "authenticated (AES-256-GCM; fresh X25519 keys on every link). cproxy trusts sproxy's host key on first "
            + "use, as ssh does, or only the one given with --server-fingerprint (sproxy --fingerprint prints it). "
            + "Someone on the path can cut links, and cproxy then resumes; they cannot read, alter or take over a "
            + "session, nor end one once it is established. With --secret-file on both sides, nobody without the "
            + "key can open a session. Full threat table: docs/security.md (with the .deb: "
            + "/usr/share/doc/roamproxy/docs).";

    /** Options of earlier versions that are gone, with what to do instead. */
    static final Map<String, String> RETIRED = Map.of(
            "tls", "every link is now always encrypted and authenticated: remove it",
            "tls-keystore", "sproxy now has a host key instead (--host-key): remove it");

    /** Longest an orderly stop may take before the command exits anyway; systemd's and users' patience is shorter. */
    static final Duration STOP_LIMIT = Duration.ofMillis(1500);

    /**
     * Not a static field: loading the logger sets up log4j, which looks up this host's name and
     * so fixes the JVM's DNS cache policy; cproxy must change that policy first.
     */
    private final Logger log = LogManager.getLogger(Launcher.class);
    private static final long MAX_BUFFER = 1L << 30;
    /** Options that make no sense in a config file. */
    private static final Set<String> COMMAND_LINE_ONLY = Set.of("help", "version", "config", "fingerprint", "status",
            "json", "new-secret");

    private final String command;
    private final String argsSyntax;
    private final String summary;
    /** Where {@code --metrics} serves, set by {@link #configure(Settings)}; {@code null}: off. */
    private InetSocketAddress metricsAt;

    Launcher(String command, String argsSyntax, String summary) {
        this.command = command;
        this.argsSyntax = argsSyntax;
        this.summary = summary;
    }

    /** Adds this command's own options. */
    abstract void addOptions(Options options);

    /** Config-file keys that are not options (cproxy's {@code server}). */
    Set<String> extraConfigKeys() {
        return Set.of();
    }

    /**
     * Checks every setting and builds the configuration; starts nothing.
     *
     * @throws UsageException a bad value ({@value #EXIT_USAGE})
     * @throws IOException    a name that does not resolve ({@value #EXIT_FAILURE})
     */
    abstract C configure(Settings settings, LinkSettings link, byte[] presharedKey) throws UsageException, IOException;

    /** Starts the proxy; returns it for shutdown. */
    abstract AutoCloseable start(C config) throws IOException;

    /** The port this command listens on by default: it names the daemon's status socket. */
    abstract int defaultPort();

    /**
     * A one-shot action some option asks for instead of running the proxy (sproxy's
     * {@code --fingerprint}).
     *
     * @return the exit status, or {@code null} to run the proxy
     */
    Integer runInstead(Settings settings, C config, PrintStream out) throws IOException, UsageException {
        return null;
    }

    String command() {
        return command;
    }

    /** This command's options: its own, then the shared ones. */
    final Options options() {
        Options options = new Options();
        addOptions(options);
        options.addOption(Option.builder().longOpt("heartbeat").hasArg().argName("MS")
                .desc("heartbeat interval in milliseconds (default " + LinkSettings.DEFAULT_HEARTBEAT_INTERVAL.toMillis() + ")").build());
        options.addOption(Option.builder().longOpt("missed").hasArg().argName("N")
                .desc("missed heartbeats that mean the link is lost (default " + LinkSettings.DEFAULT_MISSED_HEARTBEATS + ")").build());
        options.addOption(Option.builder().longOpt("buffer").hasArg().argName("BYTES")
                .desc("replay buffer and receive window per session and direction, e.g. 1M or 512K (default 1M)").build());
        options.addOption(Option.builder().longOpt("memory").hasArg().argName("BYTES")
                .desc("all sessions' buffers together, e.g. 512M; near it windows shrink and reading from applications "
                        + "waits (default: half the maximum heap)").build());
        options.addOption(Option.builder().longOpt("detach-timeout").hasArg().argName("SECONDS")
                .desc("how long a session without a link is kept (default " + LinkSettings.DEFAULT_DETACH_TIMEOUT.toSeconds() + ")").build());
        options.addOption(Option.builder().longOpt("secret-file").hasArg().argName("FILE")
                .desc("pre-shared key: the bytes of FILE, at least " + SecretFile.MIN_SIZE + " random ones (sproxy "
                        + "--new-secret makes one), the same file on both hosts (default: none, any cproxy may open "
                        + "a session)").build());
        options.addOption(Option.builder().longOpt(LogLevel.OPTION).hasArg().argName("LEVEL")
                .desc("log level: " + String.join(", ", LogLevel.NAMES) + " (default: the environment's "
                        + LogLevel.ENV + ", else INFO); a reload applies a change").build());
        options.addOption(MetricsOption.option());
        options.addOption(Option.builder("c").longOpt("config").hasArg().argName("FILE")
                .desc("read options from FILE: 'key = value' lines, keys are the long option names, "
                        + "# starts a comment line; the command line overrides it").build());
        options.addOption(Option.builder().longOpt("status")
                .desc("print the live sessions of every " + command + " of this user (of the system, as root), or "
                        + "only of the one with these --port/--config settings, and exit (1 if none runs)").build());
        options.addOption(Option.builder().longOpt("json").desc("with --status: print JSON for scripts").build());
        options.addOption(Option.builder("h").longOpt("help").desc("show this help and exit").build());
        options.addOption(Option.builder("V").longOpt("version").desc("show the version and exit").build());
        return options;
    }

    /** The keys a config file of this command may set. */
    final Set<String> configKeys(Options options) {
        Set<String> keys = new HashSet<>(extraConfigKeys());
        for (Option o : options.getOptions()) {
            if (o.getLongOpt() != null && !COMMAND_LINE_ONLY.contains(o.getLongOpt())) {
                keys.add(o.getLongOpt());
            }
        }
        return keys;
    }

    /**
     * Parses {@code args} and the config file they name and builds the configuration, as
     * {@link #run} does; for tests and for {@code run}.
     */
    final C configure(String... args) throws UsageException, IOException {
        return configure(Settings.of(parse(options(), args), configKeys(options())));
    }

    private C configure(Settings s) throws UsageException, IOException {
        LinkSettings link = linkSettings(s);
        byte[] key = s.has("secret-file") ? SecretFile.read(s.path("secret-file"), s.origin("secret-file")) : null;
        InetSocketAddress metrics = MetricsOption.parse(s);
        C config = configure(s, link, key);
        metricsAt = MetricsOption.resolve(metrics); // names last, as configure resolves them
        return config;
    }

    private static CommandLine parse(Options options, String[] args) throws UsageException {
        try {
            return new DefaultParser().parse(options, args);
        } catch (UnrecognizedOptionException e) {
            String retired = RETIRED.get(e.getOption().replaceFirst("^--", "").replaceFirst("=.*", ""));
            throw new UsageException(retired == null ? e.getMessage() : e.getOption() + " is gone: " + retired);
        } catch (ParseException e) {
            throw new UsageException(e.getMessage());
        }
    }

    /**
     * Runs the command: parses, starts, and (if {@code block}) serves until SIGTERM or SIGINT,
     * then stops in order.
     *
     * @return the exit status
     */
    final int run(String[] args, PrintStream out, PrintStream err, boolean block) {
        Options options = options();
        C config;
        org.apache.logging.log4j.Level level;
        try {
            CommandLine cl = parse(options, args);
            if (cl.hasOption("help")) {
                help(options, out);
                return EXIT_OK;
            }
            if (cl.hasOption("version")) {
                out.println(command + " (roamproxy) " + version());
                return EXIT_OK;
            }
            Settings settings = Settings.of(cl, configKeys(options));
            if (cl.hasOption("status")) {
                return settings.has("port") ? StatusCommand.run(command, settings.port("port", defaultPort(), 1),
                        cl.hasOption("json"), out, err) : StatusCommand.runAll(command, cl.hasOption("json"), out, err);
            }
            if (cl.hasOption("json")) {
                throw new UsageException("--json goes with --status");
            }
            config = configure(settings);
            level = LogLevel.of(settings);
            Integer status = runInstead(settings, config, out);
            if (status != null) {
                return status;
            }
        } catch (UsageException e) {
            err.println(command + ": " + e.getMessage() + " (try --help)");
            return EXIT_USAGE;
        } catch (IOException e) {
            err.println(command + ": " + e.getMessage());
            return failureStatus(e);
        }
        // Handlers first: a SIGTERM that arrives while the proxy starts still stops it in order.
        CountDownLatch stop = new CountDownLatch(1);
        AtomicReference<String> signal = new AtomicReference<>();
        AtomicReference<AutoCloseable> running = new AtomicReference<>();
        if (block) {
            List<String> handled = StopSignals.install(name -> {
                signal.compareAndSet(null, name);
                stop.countDown();
            }, () -> {
                AutoCloseable p = running.get();
                if (p != null) {
                    new Thread(() -> reload(args, p), command + "-reload").start();
                }
            });
            if (handled.isEmpty()) {
                log.debug("no signal handlers; SIGTERM ends {} through its shutdown hook", command);
            }
        }
        LogLevel.applyAtStart(level);
        // Before any proxy thread exists: whatever escapes one is logged, not lost on stderr.
        LastResort.install();
        AutoCloseable proxy;
        AutoCloseable metrics;
        try {
            proxy = start(config);
            metrics = serveMetrics(proxy);
        } catch (IOException e) {
            err.println(command + ": " + e.getMessage());
            return failureStatus(e);
        }
        running.set(proxy);
        log.info("{} {} on Java {}; each session's threads are {} threads", command, version(), Runtime.version(),
                Threads.virtual() ? "virtual" : "platform");
        if (block) {
            serveUntilStopped(MetricsOption.both(metrics, proxy), stop, signal);
        }
        return EXIT_OK;
    }

    /** A key file that is there but unusable will not mend itself: usage status, no retry by systemd. */
    private static int failureStatus(IOException e) {
        return e instanceof KeyFileException ? EXIT_USAGE : EXIT_FAILURE;
    }

    /** Serves {@code --metrics} for the started {@code proxy}: {@code null} when off; closes the proxy if it cannot. */
    AutoCloseable serveMetrics(AutoCloseable proxy) throws IOException {
        return MetricsOption.serve(command, metricsAt, proxy);
    }

    /** Where {@code --metrics} serves, as the last {@link #configure} found; {@code null}: off. */
    InetSocketAddress metricsAddress() {
        return metricsAt;
    }

    /**
     * SIGHUP: reads the command line and config file again and applies what can change while
     * sessions live, the log level included. A bad new configuration is refused with one ERROR
     * line, and the running one stays.
     */
    final synchronized void reload(String[] args, AutoCloseable proxy) {
        C fresh;
        org.apache.logging.log4j.Level level;
        try {
            Settings s = Settings.of(parse(options(), args), configKeys(options()));
            fresh = configure(s);
            level = LogLevel.of(s);
        } catch (UsageException | IOException e) {
            log.error("{}: the new configuration is refused, the running one stays: {}", command, e.getMessage());
            return;
        }
        String levelNow = LogLevel.applyOnReload(level);
        log.info("{} reloaded its configuration: {}; {}; live sessions are kept", command, levelNow,
                apply(proxy, fresh));
    }

    /**
     * Applies {@code fresh} to the running {@code proxy} as far as it can while sessions live.
     *
     * @return what now applies, for the log line
     */
    String apply(AutoCloseable proxy, C fresh) {
        return "its other settings apply after a restart";
    }

    /**
     * Blocks until {@code stop} opens (SIGTERM or SIGINT), then closes the proxy. Other ways
     * the JVM ends (System.exit elsewhere) still close it through a shutdown hook.
     */
    private void serveUntilStopped(AutoCloseable proxy, CountDownLatch stop, AtomicReference<String> signal) {
        Thread hook = new Thread(() -> closeWithin(proxy, STOP_LIMIT), command + "-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            stop.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        log.info("{} received {}, stopping", command, signal.get());
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            return; // the JVM is already shutting down; the hook closes the proxy
        }
        closeWithin(proxy, STOP_LIMIT);
    }

    /** Closes {@code proxy} on a helper thread, waiting at most {@code limit} for it. */
    private void closeWithin(AutoCloseable proxy, Duration limit) {
        Thread closer = new Thread(() -> {
            try {
                proxy.close();
            } catch (Exception e) {
                log.warn("{}: error while stopping: {}", command, e.toString());
            }
        }, command + "-stop");
        closer.setDaemon(true);
        closer.start();
        try {
            closer.join(limit.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (closer.isAlive()) {
            log.warn("{}: stopping took longer than {} ms; exiting anyway", command, limit.toMillis());
        }
    }

    /**
     * Where {@code main} prints errors: stderr, with the syslog prefix {@code <3>} when stderr
     * is the journal (systemd sets {@code JOURNAL_STREAM}), so the journal records the line as
     * an error, as it does log4j's ERROR lines (see conf/log4j2.xml).
     */
    static PrintStream errorStream() {
        if (System.getenv("JOURNAL_STREAM") == null) {
            return System.err;
        }
        return new PrintStream(System.err, true) {
            @Override
            public void println(String line) {
                super.println("<3>" + line);
            }
        };
    }

    /** Ends the JVM with {@code status} once {@link #run} has returned; the proxy's threads must not keep it alive. */
    static void exit(int status) {
        LogManager.shutdown();
        System.exit(status);
    }

    private void help(Options options, PrintStream out) {
        PrintWriter w = new PrintWriter(out);
        HelpFormatter f = new HelpFormatter();
        f.printHelp(w, 90, command + " [OPTIONS] " + argsSyntax, summary, options, 2, 2,
                "\n" + SECURITY_HELP + "\n\n" + EXIT_STATUS_HELP, false);
        w.flush();
    }

    static String version() {
        String v = Launcher.class.getPackage().getImplementationVersion();
        return v != null ? v : "development build";
    }

    private static LinkSettings linkSettings(Settings s) throws UsageException {
        LinkSettings d = LinkSettings.defaults();
        long heartbeat = s.number("heartbeat", d.heartbeatInterval().toMillis(), 10, 3_600_000);
        long missed = s.number("missed", d.missedHeartbeats(), 1, 1000);
        long buffer = s.size("buffer", d.bufferBytes());
        if (buffer < LinkSettings.MIN_BUFFER_BYTES || buffer > MAX_BUFFER) {
            throw new UsageException(s.origin("buffer") + " must be from 64K to 1G, got " + s.value("buffer"));
        }
        long detach = s.number("detach-timeout", d.detachTimeout().toSeconds(), 1, 31_536_000);
        long memory = s.size("memory", d.memoryBytes());
        if (memory < MemoryBudget.MIN_LIMIT) {
            throw new UsageException(s.origin("memory") + " must be at least " + MemoryBudget.MIN_LIMIT / 1024
                    + "K (what one session needs), got " + s.value("memory"));
        }
        return new LinkSettings(Duration.ofMillis(heartbeat), (int) missed, (int) buffer, d.handshakeTimeout(),
                Duration.ofSeconds(detach), memory);
    }

    /** Resolves a listen or target address, with a one-line error naming what it is. */
    static InetAddress address(String what, String host) throws IOException {
        try {
            return InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            throw new IOException("cannot resolve " + what + " '" + host + "'");
        }
    }
}
