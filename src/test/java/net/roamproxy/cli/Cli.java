package net.roamproxy.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;

import org.apache.commons.cli.Options;

import net.roamproxy.session.LinkSettings;

/** Runs a command the way {@code main} does, without blocking or exiting, and captures what it printed. */
final class Cli {

    /** The outcome of one run: exit status and everything printed to each stream. */
    record Result(int status, String out, String err) {
        List<String> errLines() {
            return err.lines().toList();
        }

        @Override
        public String toString() {
            return "status " + status + "\n--- out:\n" + out + "--- err:\n" + err;
        }
    }

    private Cli() {
    }

    static Result run(Launcher<?> command, String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int status;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
             PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            status = command.run(args, o, e, false);
        }
        return new Result(status, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    static Result cproxy(String... args) {
        return run(new CproxyMain(), args);
    }

    static Result sproxy(String... args) {
        return run(new SproxyMain(), args);
    }

    /**
     * Runs cproxy for a case that must not start anything, with the command's own error
     * prefix; should it start a proxy after all, that proxy is closed again at once.
     */
    static Result cproxyExpectingNoStart(String... args) {
        return runAndClose("cproxy", new CproxyMain(), args);
    }

    /** As {@link #cproxyExpectingNoStart}, for sproxy. */
    static Result sproxyExpectingNoStart(String... args) {
        return runAndClose("sproxy", new SproxyMain(), args);
    }

    /** Runs a command through {@link Capturing} and closes whatever it started, even if it should not have. */
    static <C> Result runAndClose(String command, Launcher<C> real, String... args) {
        try (Capturing<C> c = new Capturing<>(command, real)) {
            return run(c, args);
        }
    }

    /**
     * Wraps a real command so that the proxy its {@code start} returns can be closed by the
     * test. Parsing, option handling, configuration and start-up are the real command's; only
     * the proxy's reference is kept.
     */
    static final class Capturing<C> extends Launcher<C> implements AutoCloseable {
        private final Launcher<C> real;
        private AutoCloseable started;
        private AutoCloseable metrics;

        Capturing(String command, Launcher<C> real) {
            super(command, "", "");
            this.real = real;
        }

        @Override
        void addOptions(Options options) {
            real.addOptions(options);
        }

        @Override
        Set<String> extraConfigKeys() {
            return real.extraConfigKeys();
        }

        @Override
        C configure(Settings settings, LinkSettings link, byte[] presharedKey) throws UsageException, IOException {
            return real.configure(settings, link, presharedKey);
        }

        @Override
        int defaultPort() {
            return real.defaultPort();
        }

        @Override
        Integer runInstead(Settings settings, C config, PrintStream out) throws IOException, UsageException {
            return real.runInstead(settings, config, out);
        }

        @Override
        String apply(AutoCloseable proxy, C fresh) {
            return real.apply(proxy, fresh);
        }

        @Override
        AutoCloseable start(C config) throws IOException {
            started = real.start(config);
            return started;
        }

        @Override
        AutoCloseable serveMetrics(AutoCloseable proxy) throws IOException {
            metrics = super.serveMetrics(proxy);
            return metrics;
        }

        /** The metrics server the command started, or {@code null} if it started none. */
        AutoCloseable metrics() {
            return metrics;
        }

        /** The proxy the real command started, or {@code null} if it started none. */
        AutoCloseable started() {
            return started;
        }

        @Override
        public void close() {
            if (metrics != null) {
                try {
                    metrics.close();
                } catch (Exception e) {
                    throw new IllegalStateException("closing the metrics server the command started failed", e);
                }
            }
            if (started != null) {
                try {
                    started.close();
                } catch (Exception e) {
                    throw new IllegalStateException("closing the proxy the command started failed", e);
                }
            }
        }
    }
}
