package net.roamproxy.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;

/**
 * Runs the independent Python implementation of the protocol's constructions
 * ({@code src/test/python/protocol3_vectors.py}) and returns what it printed. Skips the calling
 * test where python3 or its {@code cryptography} module is missing (the script exits 77 then);
 * CI installs both, so there it always runs.
 */
public final class PythonCheck {
    public static final Path SCRIPT = Path.of("src/test/python/protocol3_vectors.py");
    /** The script's exit status when a module it needs is not installed. */
    private static final int MISSING_MODULE = 77;

    private PythonCheck() {
    }

    /** The script's standard output for {@code args}; fails on any other exit status than 0 (or 77: skipped). */
    public static String run(String... args) throws Exception {
        assertTrue(Files.isRegularFile(SCRIPT), SCRIPT.toAbsolutePath() + " is missing");
        List<String> command = new ArrayList<>(List.of("python3", SCRIPT.toString()));
        command.addAll(List.of(args));
        Process p;
        try {
            p = new ProcessBuilder(command).start();
        } catch (IOException e) {
            Assumptions.abort("python3 is not installed, so the independent implementation cannot run: "
                    + e.getMessage());
            throw e;
        }
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        String what = String.join(" ", command);
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), what + " did not finish");
        Assumptions.assumeFalse(p.exitValue() == MISSING_MODULE, () -> "skipped: " + err);
        assertEquals(0, p.exitValue(), () -> what + " failed: " + err);
        return out;
    }
}
