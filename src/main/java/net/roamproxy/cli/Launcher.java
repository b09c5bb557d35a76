package net.roamproxy.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.commons.cli.CommandLine;
import org.apache.commons.cli.Options;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import net.roamproxy.net.LastResort;
import net.roamproxy.net.Threads;
import net.roamproxy.session.LinkSettings;
import net.roamproxy.trust.KeyFileException;

/**
 * What both commands share: option parsing, the {@code --config} file, the link options, the
 * pre-shared key, exit statuses, and running a proxy until SIGTERM or SIGINT. Only
 * {@code main} methods call {@link System#exit}.
 *
 * <p>A run goes: parse the command line, read the config file, {@link #configure} (every
 * check, no side effect but name resolution), {@link #start}, then, if blocking, wait for a
 * stop signal, close the proxy (bounded by {@link Stopping#LIMIT}) and return {@link #EXIT_OK}.
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

    /**
     * Not a static field: loading the logger sets up log4j, which looks up this host's name and
     * so fixes the JVM's DNS cache policy; cproxy must change that policy first.
     */
    private final Logger log = LogManager.getLogger(Launcher.class);

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
        SharedOptions.add(options, command);
        return options;
    }

    /** The keys a config file of this command may set. */
    final Set<String> configKeys(Options options) {
        return SharedOptions.configKeys(options, extraConfigKeys());
    }

    /**
     * Parses {@code args} and the config file they name and builds the configuration, as
     * {@link #run} does; for tests and for {@code run}.
     */
    final C configure(String... args) throws UsageException, IOException {
        return configure(Settings.of(SharedOptions.parse(options(), args), configKeys(options())));
    }

    private C configure(Settings s) throws UsageException, IOException {
        LinkSettings link = SharedOptions.linkSettings(s);
        byte[] key = s.has("secret-file") ? SecretFile.read(s.path("secret-file"), s.origin("secret-file")) : null;
        InetSocketAddress metrics = MetricsOption.parse(s);
        C config = configure(s, link, key);
        metricsAt = MetricsOption.resolve(metrics); // names last, as configure resolves them
        return config;
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
            CommandLine cl = SharedOptions.parse(options, args);
            if (cl.hasOption("help")) {
                SharedOptions.help(out, command + " [OPTIONS] " + argsSyntax, summary, options);
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
        // A SIGHUP while the proxy starts is kept for when it runs: each side marks its part, then
        // looks at the other's, so one of them sees both and the reload happens exactly once.
        AtomicBoolean reloadAsked = new AtomicBoolean();
        if (block) {
            List<String> handled = StopSignals.install(name -> {
                signal.compareAndSet(null, name);
                stop.countDown();
            }, () -> {
                reloadAsked.set(true);
                reloadIfAsked(args, running.get(), reloadAsked);
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
        reloadIfAsked(args, proxy, reloadAsked);
        log.info("{} {} on Java {}; each session's threads are {} threads", command, version(), Runtime.version(),
                Threads.virtual() ? "virtual" : "platform");
        if (block) {
            new Stopping(command).serveUntilStopped(MetricsOption.both(metrics, proxy), stop, signal);
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

    /** Reloads {@code proxy} on its own thread if a SIGHUP asked for it and nobody took it yet. */
    private void reloadIfAsked(String[] args, AutoCloseable proxy, AtomicBoolean asked) {
        if (proxy != null && asked.getAndSet(false)) {
            new Thread(() -> reload(args, proxy), command + "-reload").start();
        }
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
            Settings s = Settings.of(SharedOptions.parse(options(), args), configKeys(options()));
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

    static String version() {
        String v = Launcher.class.getPackage().getImplementationVersion();
        return v != null ? v : "development build";
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
