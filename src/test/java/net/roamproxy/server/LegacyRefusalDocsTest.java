package net.roamproxy.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import net.roamproxy.testkit.Docs.Table;
import net.roamproxy.testkit.Docs;

/**
 * The design report's table of the version-1 and version-2 refusals, byte by byte, against what
 * {@link LegacyRefusal} sends: an old cproxy reads exactly these bytes, so the table is their
 * only specification. The table's bytes are assembled into a frame (its size from the column's
 * heading, "every byte not listed is zero") and compared whole.
 */
class LegacyRefusalDocsTest {
    private static final Pattern RANGE = Pattern.compile("^(\\d+)(?:–(\\d+))?$");
    private static final Pattern BYTES_AT = Pattern.compile("bytes (\\d+)–(\\d+)");
    private static final Pattern HEX = Pattern.compile("`((?:[0-9a-f]{2} ?)+)`");

    @ParameterizedTest
    @ValueSource(ints = {1, 2})
    void theReportsLegacyRefusalIsWhatSproxySends(int version) {
        Table t = Docs.reportTable("tab-legacy");
        String heading = t.rows().get(0).get(version);
        Matcher size = Pattern.compile("Version " + version + " \\((\\d+) bytes\\)").matcher(heading);
        assertTrue(size.find(), t.where() + ": the heading '" + heading + "' gives no size");
        byte[] documented = new byte[Integer.parseInt(size.group(1))];
        for (List<String> row : t.body()) {
            String cell = row.get(version);
            Matcher range = RANGE.matcher(row.get(0));
            Matcher at = BYTES_AT.matcher(cell);
            int from;
            int to;
            if (range.find()) {
                from = Integer.parseInt(range.group(1));
                to = range.group(2) == null ? from : Integer.parseInt(range.group(2));
            } else {
                assertTrue(at.find(), t.where() + ": row '" + row.get(0) + "' names no bytes");
                from = Integer.parseInt(at.group(1));
                to = Integer.parseInt(at.group(2));
            }
            Matcher hex = HEX.matcher(cell);
            byte[] value = hex.find() ? HexFormat.ofDelimiter(" ").parseHex(hex.group(1).strip())
                    : new byte[to - from + 1]; // "zero"
            assertEquals(to - from + 1, value.length, t.where() + ": row '" + row.get(0) + "', version " + version
                    + ": the bytes do not fill " + from + "–" + to);
            System.arraycopy(value, 0, documented, from, value.length);
        }
        HexFormat h = HexFormat.ofDelimiter(" ");
        assertEquals(h.formatHex(LegacyRefusal.versionMismatch(version)), h.formatHex(documented),
                t.where() + ": version " + version + "'s refusal (left: what sproxy sends, right: the table)");
    }
}
