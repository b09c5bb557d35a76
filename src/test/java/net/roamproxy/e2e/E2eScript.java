package net.roamproxy.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs one scenario of an end-to-end harness script under {@code src/test/e2e} against the
 * packaged tree, streaming its output and requiring exit status 0. The script cleans up its
 * namespaces and processes itself, also when it is sent SIGTERM at the time limit.
 *
 * <p>Threading: one scenario at a time per instance; used from test threads only.
 */
final class E2eScript {
    /** Upper bound per scenario; the harnesses cap themselves below it and clean up on SIGTERM. */
    private static final long SCENARIO_LIMIT_SECONDS = 180;
    private static final long CLEANUP_GRACE_SECONDS = 30;
    private static final int TAIL_LINES = 80;

    private final Path dist;
    private final Path script;

    private E2eScript(Path dist, Path script) {
        this.dist = dist;
        this.script = script;
    }

    /**
     * The harness {@code name} for the packaged tree; skips the test unless running as root,
     * and fails if a tool in {@code tools} or the packaged tree is missing.
     */
    static E2eScript require(String name, List<String> tools) {
        if (effectiveUid() != 0) {
            skip("the end-to-end scenarios of " + name, "need root (network namespaces)");
        }
        // "a|b": either will do (Debian's telnetd is telnetd or in.telnetd).
        List<String> missing = tools.stream().filter(t -> java.util.Arrays.stream(t.split("\\|")).noneMatch(E2eScript::onPath))
                .toList();
        if (!missing.isEmpty()) {
            skip("the end-to-end scenarios of " + name,
                    "need " + String.join(", ", missing) + " on PATH (sudo bash .ci/run installs them)");
        }
        String distProperty = System.getProperty("roamproxy.dist");
        String basedirProperty = System.getProperty("roamproxy.basedir");
        assertTrue(distProperty != null && basedirProperty != null,
                "system properties roamproxy.dist and roamproxy.basedir must be set (failsafe does)");
        Path dist = Path.of(distProperty).toAbsolutePath();
        Path script = Path.of(basedirProperty, "src", "test", "e2e", name).toAbsolutePath();
        assertTrue(Files.isExecutable(dist.resolve("bin/cproxy")) && Files.isExecutable(dist.resolve("bin/sproxy")),
                "no packaged tree with bin/cproxy and bin/sproxy at " + dist + " (run mvn package)");
        assertTrue(Files.isRegularFile(script), "end-to-end harness missing: " + script);
        return new E2eScript(dist, script);
    }

    /**
     * Skips the calling test with one line naming what is missing; where the end-to-end tests
     * must run ({@code ROAMPROXY_E2E=required}, as CI sets it) that is a failure instead.
     */
    static void skip(String what, String why) {
        String line = what + " skipped: " + why;
        if ("required".equals(System.getenv("ROAMPROXY_E2E"))) {
            fail(line + ", but ROAMPROXY_E2E=required");
        }
        System.out.println(line);
        assumeTrue(false, line);
    }

    void run(String scenario) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("python3", "-u", script.toString(), "--dist", dist.toString(), scenario)
                .directory(script.getParent().toFile())
                .redirectErrorStream(true);
        String prefix = "[e2e " + scenario + "] ";
        Process process = pb.start();
        process.getOutputStream().close();
        Deque<String> tail = new ArrayDeque<>();
        Thread pump = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    System.out.println(prefix + line);
                    synchronized (tail) {
                        tail.addLast(line);
                        if (tail.size() > TAIL_LINES) {
                            tail.removeFirst();
                        }
                    }
                }
            } catch (IOException e) {
                System.out.println(prefix + "(output stream ended: " + e + ")");
            }
        }, "e2e-" + scenario + "-output");
        pump.setDaemon(true);
        pump.start();

        boolean finished = process.waitFor(SCENARIO_LIMIT_SECONDS, TimeUnit.SECONDS);
        if (!finished) {
            process.destroy(); // SIGTERM: the harness removes its namespaces and processes
            if (!process.waitFor(CLEANUP_GRACE_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }
        pump.join(TimeUnit.SECONDS.toMillis(10));
        String lastLines;
        synchronized (tail) {
            lastLines = String.join(System.lineSeparator(), tail);
        }
        if (!finished) {
            fail("scenario " + scenario + " did not finish within " + SCENARIO_LIMIT_SECONDS + " s; last output:"
                    + System.lineSeparator() + lastLines);
        }
        assertEquals(0, process.exitValue(), () -> "scenario " + scenario + " failed (exit " + process.exitValue()
                + "); last output:" + System.lineSeparator() + lastLines);
    }

    static boolean onPath(String tool) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String dir : path.split(java.io.File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    /** Effective uid from /proc/self/status ("Uid: real effective saved fs"); -1 if unknown. */
    private static long effectiveUid() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return Long.parseLong(line.substring(4).trim().split("\\s+")[1]);
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
