package net.roamproxy.hardening;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.EOFException;
import java.io.IOException;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import net.roamproxy.wire.FrameType;
import net.roamproxy.wire.UnsupportedVersionException;

/** What a fuzz run went through, so that a test can prove it reached every outcome it claims to check. */
final class FuzzStats {
    private static final Pattern BEFORE_KEYS = Pattern.compile("sealed (\\w+) before the link has keys");

    final Map<String, Integer> inputs = new TreeMap<>();
    final Map<String, Integer> reasons = new TreeMap<>();
    final Set<FrameType> refusedBeforeKeys = EnumSet.noneOf(FrameType.class);
    long frames;
    long handshakes;
    long handshakeErrors;
    long versionErrors;
    long endsOfStream;
    long cleanEnds;
    long clearFramesAfterAMutation;
    long sealedFramesAfterAClearOne;
    long maxAllocated;
    int maxBuffer;

    void countInput(String kind) {
        inputs.merge(kind, 1, Integer::sum);
    }

    /** Files the exception that ended a case under the field or check it names. */
    void ended(IOException e) {
        if (e instanceof EOFException) {
            endsOfStream++;
            if (!e.getMessage().contains("mid-frame")) {
                cleanEnds++;
            }
            return;
        }
        if (e instanceof UnsupportedVersionException) {
            versionErrors++;
            return;
        }
        String m = e.getMessage();
        Matcher keys = BEFORE_KEYS.matcher(m);
        boolean beforeKeys = keys.find();
        if (beforeKeys) {
            refusedBeforeKeys.add(FrameType.valueOf(keys.group(1)));
        }
        String l = m.toLowerCase(Locale.ROOT);
        String key = beforeKeys ? "keys" : l.contains("failed authentication") ? "authentication"
                : l.contains("magic") ? "magic" : l.contains("length") ? "length" : l.contains("type") ? "type"
                : l.contains("seq") ? "seq" : l.contains("ack") ? "ack" : "other: " + m;
        reasons.merge(key, 1, Integer::sum);
    }

    void allocated(long bytes, int buffer) {
        maxAllocated = Math.max(maxAllocated, bytes);
        maxBuffer = Math.max(maxBuffer, buffer);
    }

    void assertReached(String... reasonsExpected) {
        for (String r : reasonsExpected) {
            assertTrue(reasons.getOrDefault(r, 0) > 0, "no input was refused for its " + r + ": " + this);
        }
        assertTrue(endsOfStream > 0, "no input ended the stream: " + this);
        assertEquals(0, reasons.keySet().stream().filter(k -> k.startsWith("other")).count(),
                "every refusal names what was wrong: " + this);
    }

    void assertEverySealedTypeRefusedBeforeKeys() {
        for (FrameType t : FrameType.values()) {
            assertEquals(t.isSealed(), refusedBeforeKeys.contains(t), t + " refused before keys: " + this);
        }
    }

    void assertInputsIncluded(List<String> kinds) {
        for (String k : kinds) {
            assertTrue(inputs.getOrDefault(k, 0) > 0, "no " + k + " input: " + this);
        }
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "inputs %s -> %d frames (%d handshakes decoded, %d refused), "
                        + "%d clear frames after a mutation (%d sealed after them); refused: %s, %d versions, sealed before keys %s; "
                        + "%d ends of stream (%d clean); largest read buffer %d bytes, most allocated by one case "
                        + "%d bytes", inputs, frames, handshakes, handshakeErrors, clearFramesAfterAMutation,
                sealedFramesAfterAClearOne, reasons,
                versionErrors, refusedBeforeKeys, endsOfStream, cleanEnds, maxBuffer, maxAllocated);
    }
}
