package net.roamproxy.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A child process's output stream, read line by line on a thread of its own so that a test can
 * wait for a line (a daemon's "listening on ...") while the process runs on. The thread ends
 * with the stream, which a process closes when it exits.
 */
public final class OutputLines {
    private final String name;
    private final List<String> lines = new ArrayList<>();
    private final Thread reader;

    /** Starts reading {@code stream}; {@code name} ("stderr") is what failures call it. */
    public OutputLines(InputStream stream, String name) {
        this.name = name;
        this.reader = new Thread(() -> read(stream), "test-output-" + name);
        reader.setDaemon(true);
        reader.start();
    }

    private void read(InputStream stream) {
        try (BufferedReader in = new BufferedReader(new InputStreamReader(stream, StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) {
                synchronized (lines) {
                    lines.add(line);
                    lines.notifyAll();
                }
            }
        } catch (IOException e) {
            // the process is gone
        } finally {
            synchronized (lines) {
                lines.notifyAll();
            }
        }
    }

    /**
     * Waits for a line matching {@code p}; returns its match.
     *
     * @throws AssertionError if none came within {@code millis} or before the stream ended,
     *                        with everything read so far
     */
    public Matcher await(Pattern p, long millis) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(millis);
        synchronized (lines) {
            for (int seen = 0; ; ) {
                for (; seen < lines.size(); seen++) {
                    Matcher m = p.matcher(lines.get(seen));
                    if (m.find()) {
                        return m;
                    }
                }
                long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
                if (left <= 0 || !reader.isAlive()) {
                    throw new AssertionError("no " + name + " line matching /" + p + "/ within " + millis
                            + " ms; " + name + " so far:\n" + String.join("\n", lines));
                }
                lines.wait(left);
            }
        }
    }

    /** Waits at most {@code millis} for the stream to end (after the process exited: at once). */
    public void awaitEnd(long millis) throws InterruptedException {
        reader.join(millis);
    }

    /** Every line read so far, joined by newlines. */
    public String text() {
        synchronized (lines) {
            return String.join("\n", lines);
        }
    }
}
