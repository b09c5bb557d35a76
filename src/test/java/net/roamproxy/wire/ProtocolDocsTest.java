package net.roamproxy.wire;

import static net.roamproxy.testkit.Docs.assertStates;
import static net.roamproxy.testkit.Docs.plain;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;

import net.roamproxy.testkit.Docs.Table;
import net.roamproxy.testkit.Docs;
import net.roamproxy.wire.Handshake.Mode;
import net.roamproxy.wire.Handshake.Status;

/**
 * The wire format as the design report and docs/metrics.md state it, held against
 * {@link FrameType}, {@link Status}, {@link Mode} and the size constants: these are what a second
 * implementation is written from, so a code, name or size that differs from the code is a bug in
 * the specification. The hex dumps and the state table are generated and checked elsewhere
 * (WireDumpsTest, StateTableTest); this test covers the tables and sentences a person wrote, and
 * {@link ProtocolUserDocsTest} the same facts in the users' docs.
 * Lives in {@code net.roamproxy.wire} for {@link FrameType#allowedLengths()}.
 */
class ProtocolDocsTest {
    private static final String FORMAT = "src/docs/chapters/02-packet-format.adoc";
    private static final String HANDSHAKE = "src/docs/chapters/03-handshake.adoc";

    /** Table "Frame types": every code, name, clear or sealed, and plaintext bounds; no code missing or extra. */
    @Test
    void theReportsFrameTypeTableIsFrameType() {
        Table t = Docs.reportTable("tab-types");
        Map<Integer, String> documented = new TreeMap<>();
        for (List<String> row : t.body()) {
            int code = Integer.parseInt(row.get(0));
            String name = plain(row.get(1));
            documented.put(code, name);
            FrameType type = byName(t.where(), name);
            assertEquals(type.code(), code, t.where() + ": the code of " + name);
            assertEquals(type.isSealed() ? "sealed" : "clear", row.get(2), t.where() + ": whether " + name + " is sealed");
            assertEquals(type.allowedLengths(), row.get(3).replace(",", "").replace("–", ".."),
                    t.where() + ": the plaintext bytes of " + name + " (code: min..max)");
        }
        assertEquals(codes(), documented, t.where() + ": the frame types (code=name) against FrameType");
    }

    /**
     * The sentence after the table lists the unknown codes; with the table they must cover 0..255
     * exactly, so a new type that the table gains must also leave this sentence.
     */
    @Test
    void theReportsUnknownFrameCodesAreTheOnesFrameTypeLacks() {
        Matcher m = Pattern.compile("Codes ([^\\n]+?) are unknown").matcher(Docs.read(FORMAT));
        assertTrue(m.find(), FORMAT + " no longer lists the unknown frame codes");
        TreeSet<Integer> said = new TreeSet<>();
        Matcher n = Pattern.compile("(\\d+)(?:–(\\d+))?(?![^(]*\\))").matcher(m.group(1));
        while (n.find()) {
            int from = Integer.parseInt(n.group(1));
            int to = n.group(2) == null ? from : Integer.parseInt(n.group(2));
            for (int c = from; c <= to; c++) {
                said.add(c);
            }
        }
        TreeSet<Integer> unknown = new TreeSet<>();
        for (int c = 0; c < 256; c++) {
            if (FrameType.ofCode(c) == null) {
                unknown.add(c);
            }
        }
        assertEquals(ranges(unknown), ranges(said), FORMAT + ": the unknown frame codes");
    }

    /** The frame definitions: "==== HELLO (1)" headings and "Type = 1" in each frame's header. */
    @Test
    void theReportsFrameDefinitionsUseTheCodes() {
        String text = Docs.read(FORMAT);
        Matcher heading = Pattern.compile("(?m)^==== (.+)$").matcher(text);
        int named = 0;
        while (heading.find()) {
            Matcher each = Pattern.compile("([A-Z]+) \\((\\d+)\\)").matcher(heading.group(1));
            while (each.find()) {
                named++;
                assertEquals(byName(FORMAT, each.group(1)).code(), Integer.parseInt(each.group(2)),
                        FORMAT + ": the code in the heading '" + heading.group(1) + "'");
            }
        }
        assertEquals(FrameType.values().length, named, FORMAT + ": headings naming a frame type and its code");
        Matcher def = Pattern.compile("([A-Z]+) Frame\\s*\\{\\s*Header \\((\\d+)\\) \\{ Type = (\\d+)").matcher(text);
        int defined = 0;
        while (def.find()) {
            defined++;
            assertEquals(Wire.HEADER_SIZE * 8, Integer.parseInt(def.group(2)), FORMAT + ": header bits of " + def.group(1));
            assertEquals(byName(FORMAT, def.group(1)).code(), Integer.parseInt(def.group(3)),
                    FORMAT + ": Type = in the definition of " + def.group(1));
        }
        assertEquals(FrameType.values().length, defined, FORMAT + ": frame definitions with a Type");
    }

    /**
     * Table "Handshake status codes" with the note on code 4 below it, and metrics.md's refusal
     * reasons: together every {@link Status}, by code and name, and nothing else.
     */
    @Test
    void theStatusCodesAreStatus() {
        Table t = Docs.reportTable("tab-status");
        Map<Integer, String> documented = new TreeMap<>();
        for (List<String> row : t.body()) {
            documented.put(Integer.parseInt(row.get(0)), plain(row.get(1)));
        }
        String text = Docs.read(FORMAT);
        Matcher note = Pattern.compile("Code (\\d+) is `([A-Z_]+)` of versions").matcher(text);
        assertTrue(note.find(), FORMAT + " no longer names the status of the old versions' refusal");
        documented.put(Integer.parseInt(note.group(1)), note.group(2));
        Map<Integer, String> code = Arrays.stream(Status.values())
                .collect(Collectors.toMap(Status::code, Status::name, (a, b) -> a, TreeMap::new));
        assertEquals(code, documented, t.where() + " and the note below it: the statuses (code=name)");

        // REFUSED's definition lists the codes it may carry: every refusal but the old versions' one.
        Matcher refused = Pattern.compile("Status \\(8\\), +// ([\\d, or]+): tab-status").matcher(text);
        assertTrue(refused.find(), FORMAT + " no longer lists REFUSED's status codes");
        assertEquals(Arrays.stream(Status.values()).filter(s -> !s.accepted() && s != Status.VERSION_MISMATCH)
                        .map(s -> String.valueOf(s.code())).collect(Collectors.joining(",")),
                refused.group(1).replaceAll(" or |, ", ","), FORMAT + ": the statuses of REFUSED's definition");
        assertStates(FORMAT, text, "WELCOME's statuses", "Status \\(8\\), +// (1 \\w+, 2 \\w+)\n",
                Status.NEW_SESSION.code() + " " + Status.NEW_SESSION + ", " + Status.RESUMED.code() + " " + Status.RESUMED);
        assertStates(FORMAT, text, "HELLO's modes", "Mode \\(8\\), +// (.*)\n",
                Arrays.stream(Mode.values()).map(m -> m.code() + " " + m).collect(Collectors.joining(", ")));

        Table reasons = Docs.markdownTable("docs/metrics.md", "### Refusal reasons");
        assertEquals(new TreeSet<>(Status.refusalNames()),
                reasons.body().stream().map(r -> plain(r.get(0))).collect(Collectors.toCollection(TreeSet::new)),
                reasons.where() + ": the refusal reasons against Status.refusalNames()");
    }

    /** Sizes the report states in its frame definitions, checks and tables, against the constants. */
    @Test
    void theReportsSizesAreTheConstants() {
        String f = Docs.read(FORMAT);
        assertStates(FORMAT, f, "the header size", "Frame header: (\\d+) bytes", Wire.HEADER_SIZE);
        assertStates(FORMAT, f, "the header size", "reads the (\\d+)-byte header", Wire.HEADER_SIZE);
        assertStates(FORMAT, f, "the largest frame", "allocate more than\\s+(\\S+ \\+ \\S+ \\+ \\S+) bytes",
                String.format(Locale.ROOT, "%d + %,d + %d", Wire.HEADER_SIZE, Wire.MAX_DATA, Wire.TAG_SIZE));
        assertStates(FORMAT, f, "the tag size", "ciphertext \\+ (\\d+)-byte tag", Wire.TAG_SIZE);
        assertStates(FORMAT, f, "the tag size", "a sealed frame's `length` is (\\d+) more", Wire.TAG_SIZE);
        assertStates(FORMAT, f, "the tag bits", "Tag \\((\\d+)\\)", Wire.TAG_SIZE * 8);
        assertStates(FORMAT, f, "the tag bits", "AES-256-GCM and a (\\d+)-bit tag", Wire.TAG_SIZE * 8);
        assertStates(FORMAT, f, "an empty sealed frame's length", "Ack, Length = (\\d+) \\}", Wire.TAG_SIZE);
        assertStates(FORMAT, f, "DATA's plaintext bits", "Sealed \\((\\d+\\.\\.\\d+)\\) \\{ Application",
                8 + ".." + Wire.MAX_DATA * 8);
        assertStates(FORMAT, f, "PROOF's and TOKEN's length", "Length = (\\d+) \\},\n  Sealed",
                Handshake.MAC_SIZE + Wire.TAG_SIZE);
        assertStates(FORMAT, f, "PROOF's length in the checks", "`length` ≠ (\\d+)", Handshake.MAC_SIZE + Wire.TAG_SIZE);
        assertStates(FORMAT, f, "a nonce's bits", "Nonce \\((\\d+)\\)", Handshake.NONCE_SIZE * 8);
        assertStates(FORMAT, f, "a key share's bits", "Key Share \\((\\d+)\\)", Handshake.KEY_SIZE * 8);
        assertStates(FORMAT, f, "the host key's bits", "Host Key \\((\\d+)\\)", Handshake.HOST_KEY_SIZE * 8);
        assertStates(FORMAT, f, "the signature's bits", "Signature \\((\\d+)\\)", Handshake.SIGNATURE_SIZE * 8);
        assertStates(FORMAT, f, "a MAC's bits", "(?:Proof|Token) \\((\\d+)\\)", Handshake.MAC_SIZE * 8);
        assertStates(FORMAT, f, "the longest service name", "Service Length \\(8\\), +// n: 0\\.\\.(\\d+)",
                Hello.MAX_SERVICE_LENGTH);
        assertStates(FORMAT, f, "HELLO's size without a service", "payload length ≠ (\\d+) \\+ Service Length",
                Hello.MIN_SIZE);
        assertStates(FORMAT, f, "WELCOME's sizes", "size not (\\d+ \\(NEW_SESSION\\) or \\d+ \\(RESUMED\\))",
                Welcome.NEW_SESSION_SIZE + " (NEW_SESSION) or " + Welcome.RESUMED_SIZE + " (RESUMED)");
        assertStates(FORMAT, f, "WELCOME's sizes", "(\\d+ bytes for a new session, \\d+ for a resume)",
                Welcome.NEW_SESSION_SIZE + " bytes for a new session, " + Welcome.RESUMED_SIZE + " for a resume");
        assertStates(FORMAT, f, "REFUSED's authentication sizes", "authentication not (\\d+, \\d+ or \\d+) bytes",
                "0, " + Handshake.MAC_SIZE + " or " + Refusal.SIGNED_AUTH_SIZE);
        assertStates(FORMAT, f, "REFUSED's authentication bits", "Authentication \\((\\d+/\\d+/\\d+)\\)",
                "0/" + Handshake.MAC_SIZE * 8 + "/" + Refusal.SIGNED_AUTH_SIZE * 8);
        assertStates(FORMAT, f, "the IV size", "a (\\d+)-byte IV per direction", KeySchedule.IV_SIZE);
        assertStates(FORMAT, f, "the key usage limit", "No key seals more than (\\S+) frames",
                "2^" + Long.numberOfTrailingZeros(FrameProtection.MAX_FRAMES) + "^");
        assertStates(FORMAT, f, "the key usage limit", "frames or (\\S+) plaintext bytes",
                "2^" + Long.numberOfTrailingZeros(FrameProtection.MAX_BYTES) + "^");

        String h = Docs.read(HANDSHAKE);
        assertStates(HANDSHAKE, h, "the largest HELLO", "`HELLO`\\s+of at most (\\d+) bytes", Hello.MAX_SIZE);
        assertStates(HANDSHAKE, h, "the sizes Expand makes", "th\\(HELLO \\| WELCOME\\), (\\d+ \\| \\d+)\\)",
                KeySchedule.KEY_SIZE + " | " + KeySchedule.IV_SIZE);
        assertStates(HANDSHAKE, h, "the session secret's size", "\"session\", th\\(HELLO \\| WELCOME\\), (\\d+)\\)",
                KeySchedule.SECRET_SIZE);
        assertStates(HANDSHAKE, h, "the signature and MAC sizes", "drops the last (\\d+ or \\d+) bytes",
                Handshake.SIGNATURE_SIZE + " or " + Handshake.MAC_SIZE);
        assertStates(HANDSHAKE, h, "the instance byte's offset", "at offset (\\d+) of the link's stream",
                Handshake.INSTANCE_BYTE_OFFSET);
        assertStates(HANDSHAKE, h, "the instance byte's offset", "req\\.payload\\((\\d+),1\\)", Handshake.INSTANCE_BYTE_OFFSET);
        assertStates(HANDSHAKE, h, "the header size", "\\((\\d+) header bytes,", Wire.HEADER_SIZE);

        Table limits = Docs.reportTable("tab-limits");
        assertEquals(String.format(Locale.ROOT, "%,d bytes (`DATA`)", Wire.MAX_DATA), limits.row("Frame payload").get(1),
                limits.where() + ": Frame payload");
        assertEquals("2^" + Long.numberOfTrailingZeros(FrameProtection.MAX_FRAMES) + "^ frames, 2^"
                        + Long.numberOfTrailingZeros(FrameProtection.MAX_BYTES) + "^ bytes ("
                        + (FrameProtection.MAX_BYTES >> 30) + " GiB)", limits.row("Key usage").get(1),
                limits.where() + ": Key usage");
        assertEquals("1–" + Hello.MAX_SERVICE_LENGTH + " bytes", limits.row("Service name").get(1),
                limits.where() + ": Service name");
    }

    static FrameType byName(String where, String name) {
        return Arrays.stream(FrameType.values()).filter(t -> t.name().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError(where + " names a frame type the code lacks: " + name));
    }

    static Map<Integer, String> codes() {
        return Arrays.stream(FrameType.values())
                .collect(Collectors.toMap(FrameType::code, FrameType::name, (a, b) -> a, TreeMap::new));
    }

    /** A set of codes as "0, 7, 13-255", for a readable failure. */
    private static String ranges(TreeSet<Integer> codes) {
        StringBuilder b = new StringBuilder();
        Integer start = null;
        Integer prev = null;
        for (int c : codes) {
            if (prev != null && c == prev + 1) {
                prev = c;
                continue;
            }
            if (start != null) {
                b.append(b.length() > 0 ? ", " : "").append(start.equals(prev) ? start : start + "-" + prev);
            }
            start = c;
            prev = c;
        }
        if (start != null) {
            b.append(b.length() > 0 ? ", " : "").append(start.equals(prev) ? start : start + "-" + prev);
        }
        return b.toString();
    }
}
