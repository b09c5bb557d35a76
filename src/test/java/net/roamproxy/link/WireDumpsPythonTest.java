package net.roamproxy.link;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import net.roamproxy.testkit.Json;

/**
 * The design report's hex dumps are test vectors (appendix "Test vectors"): every frame of the
 * new session and of the resume, the fixed inputs and every derived secret and key. This test
 * has the independent Python implementation ({@code src/test/python/protocol3_vectors.py dumps},
 * which never runs Java) compute each of them from the same inputs, and compares with what the
 * product wrote in {@link WireDumpsTest}. Skipped only where python3 or its cryptography module
 * is missing, as {@code Protocol3VectorsTest}'s comparisons are.
 */
class WireDumpsPythonTest {
    private static final Path SCRIPT = Path.of("src/test/python/protocol3_vectors.py");
    private static final int MISSING_MODULE = 77;

    @Test
    void thePythonImplementationComputesEveryFrameAndKeyOfTheDumps() throws Exception {
        Map<String, String> product = new TreeMap<>();
        WireDumpsTest.dumps().frames().forEach((k, v) -> product.put(k, HexFormat.of().formatHex(v)));
        Map<String, String> python = python();
        List<String> problems = new ArrayList<>();
        TreeSet<String> names = new TreeSet<>(product.keySet());
        names.addAll(python.keySet());
        for (String name : names) {
            if (!String.valueOf(product.get(name)).equals(python.get(name))) {
                problems.add(name + ":\n    product: " + product.get(name) + "\n    Python:  " + python.get(name));
            }
        }
        assertTrue(problems.isEmpty(), problems.size() + " dump vectors differ:\n" + String.join("\n", problems));
        assertTrue(product.size() >= 30, "only " + product.size() + " vectors");
    }

    @SuppressWarnings("unchecked")
    private static Map<String, String> python() throws Exception {
        assertTrue(Files.isRegularFile(SCRIPT), SCRIPT.toAbsolutePath() + " is missing");
        Process p;
        try {
            p = new ProcessBuilder("python3", SCRIPT.toString(), "dumps").start();
        } catch (IOException e) {
            Assumptions.abort("python3 is not installed, so the independent implementation cannot run: "
                    + e.getMessage());
            throw e;
        }
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "python3 " + SCRIPT + " did not finish");
        Assumptions.assumeFalse(p.exitValue() == MISSING_MODULE, () -> "skipped: " + err);
        assertEquals(0, p.exitValue(), () -> "python3 " + SCRIPT + " dumps failed: " + err);
        Map<String, String> m = new TreeMap<>();
        ((Map<String, Object>) Json.parse(out)).forEach((k, v) -> m.put(k, (String) v));
        return m;
    }
}
