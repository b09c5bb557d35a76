package net.roamproxy.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import net.roamproxy.testkit.OutputLines;

/**
 * A command's {@code main} in its own JVM, as the {@code bin/} scripts start it: the test
 * classpath, the shipped {@code conf/log4j2.xml}, INFO level. Collects stderr line by line so
 * tests can wait for a log line; {@link #close()} kills what is left.
 */
final class Daemon implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("listening on [^ ]*:(\\d+)");

    private final Process process;
    private final OutputLines stderr;

    private Daemon(Process process) {
        this.process = process;
        this.stderr = new OutputLines(process.getErrorStream(), "stderr");
    }

    /**
     * Starts {@code main} of {@code command} with {@code args}; {@code env} is added to this
     * JVM's environment, minus {@code JOURNAL_STREAM} unless {@code env} sets it.
     */
    static Daemon start(Class<?> command, Map<String, String> env, String... args) throws IOException {
        return start(command, env, List.of(), args);
    }

    /** {@link #start(Class, Map, String...)} with {@code jvmOptions} (such as {@code -Xmx256m}) for the child JVM. */
    static Daemon start(Class<?> command, Map<String, String> env, List<String> jvmOptions, String... args)
            throws IOException {
        String java = ProcessHandle.current().info().command()
                .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        Path log4j = Path.of("conf", "log4j2.xml").toAbsolutePath();
        if (!Files.isRegularFile(log4j)) {
            throw new IllegalStateException("tests run from the project directory; no " + log4j);
        }
        List<String> cmd = new ArrayList<>(List.of(java, "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData"));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-Dlog4j2.configurationFile=" + log4j, "-cp", System.getProperty("java.class.path"),
                command.getName()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectOutput(ProcessBuilder.Redirect.DISCARD);
        pb.environment().remove("JOURNAL_STREAM");
        pb.environment().put("ROAMPROXY_LOG_LEVEL", "INFO");
        pb.environment().putAll(env);
        Process p = pb.start();
        p.getOutputStream().close();
        return new Daemon(p);
    }

    /** Waits for a stderr line matching {@code regex}; returns its match. */
    Matcher awaitLine(String regex, long millis) throws InterruptedException {
        return stderr.await(Pattern.compile(regex), millis);
    }

    /** Waits until the command says it is listening; returns its port. */
    int awaitListening() throws InterruptedException {
        return Integer.parseInt(awaitLine(LISTENING.pattern(), 20_000).group(1));
    }

    /** Sends a signal by name (TERM, INT) with kill(1). */
    void signal(String name) throws IOException, InterruptedException {
        Process kill = new ProcessBuilder("kill", "-s", name, String.valueOf(process.pid())).inheritIO().start();
        if (kill.waitFor() != 0) {
            throw new IllegalStateException("kill -s " + name + " failed");
        }
    }

    /** Whether the JVM started this process with {@code signal} ignored (inherited SIG_IGN), from /proc. */
    boolean ignores(int signal) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(process.pid()), "status"))) {
            if (line.startsWith("SigIgn:")) {
                long mask = Long.parseUnsignedLong(line.substring(7).trim(), 16);
                return (mask & (1L << (signal - 1))) != 0;
            }
        }
        return false;
    }

    Process process() {
        return process;
    }

    /** Everything the process printed to stderr so far (after it exited: all of it). */
    String stderr() throws InterruptedException {
        if (!process.isAlive()) {
            stderr.awaitEnd(5_000);
        }
        return stderr.text();
    }

    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
