package net.roamproxy.wire;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;

import net.roamproxy.testkit.Json;
import net.roamproxy.testkit.PythonCheck;

/**
 * The design report's hex dumps are test vectors (appendix "Test vectors"): every frame of the
 * new session and of the resume, the fixed inputs and every derived secret and key. This test
 * has the independent Python implementation ({@code src/test/python/protocol3_vectors.py dumps},
 * which never runs Java) compute each of them from the same inputs, and compares with what the
 * product wrote in {@link WireDumpsTest}. Skipped only where python3 or its cryptography module
 * is missing, as {@code Protocol3VectorsTest}'s comparisons are.
 */
class WireDumpsPythonTest {
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
        Map<String, String> m = new TreeMap<>();
        ((Map<String, Object>) Json.parse(PythonCheck.run("dumps"))).forEach((k, v) -> m.put(k, (String) v));
        return m;
    }
}
