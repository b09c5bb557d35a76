package net.roamproxy.wire;

import static net.roamproxy.testkit.Docs.assertStates;
import static net.roamproxy.testkit.Docs.number;
import static net.roamproxy.testkit.Docs.plain;
import static net.roamproxy.wire.ProtocolDocsTest.byName;
import static net.roamproxy.wire.ProtocolDocsTest.codes;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import net.roamproxy.server.ServerConfig;
import net.roamproxy.testkit.Docs.Table;
import net.roamproxy.testkit.Docs;
import net.roamproxy.wire.Handshake.Mode;
import net.roamproxy.wire.Handshake.Status;

/**
 * The wire format as the users' docs give it (docs/design.md's frame table, docs/scale-out.md's
 * bytes for a load balancer, sizes in docs/security.md), held against the code as
 * {@link ProtocolDocsTest} holds the design report: an operator configures a balancer from
 * these offsets, and reads a capture with these codes.
 */
class ProtocolUserDocsTest {
    private static final String DESIGN = "docs/design.md";

    /** docs/design.md's frame table: code, sealed, and the payload sizes it names within the code's bounds. */
    @Test
    void designMdsFrameTableIsFrameType() {
        Table t = Docs.markdownTable(DESIGN, "## The link and its frames");
        Map<Integer, String> documented = new TreeMap<>();
        for (List<String> row : t.body()) {
            String name = plain(row.get(0));
            FrameType type = byName(t.where(), name);
            documented.put(Integer.parseInt(row.get(1)), name);
            assertEquals(type.isSealed() ? "yes" : "no", row.get(2), t.where() + ": whether " + name + " is sealed");
            TreeSet<Long> sizes = new TreeSet<>();
            Matcher n = Pattern.compile("\\d[\\d,]*").matcher(row.get(3));
            while (n.find()) {
                sizes.add(number(n.group()));
            }
            if (row.get(3).equals("none")) {
                sizes.add(0L);
            }
            // The smallest and largest size the cell names are the type's bounds.
            String range = sizes.isEmpty() ? "?" : sizes.first() + (sizes.size() > 1 ? ".." + sizes.last() : "");
            assertEquals(type.allowedLengths(), range, t.where() + ": payload of " + name + " ('" + row.get(3)
                    + "'), min..max");
        }
        assertEquals(codes(), documented, t.where() + ": the frame types (code=name) against FrameType");
    }

    /** The sizes docs/design.md and docs/security.md give in prose. */
    @Test
    void theUsersDocsSizesAreTheConstants() {
        assertStates(DESIGN, "the header size", "has a (\\d+)-byte header", Wire.HEADER_SIZE);
        assertStates(DESIGN, "the tag size", "followed by a (\\d+)-byte tag", Wire.TAG_SIZE);
        assertStates(DESIGN, "the instance byte's offset", "at byte (\\d+) of the stream", Handshake.INSTANCE_BYTE_OFFSET);
        assertStates("docs/security.md", "the key usage limit", "A key seals at most (\\S+\\s+frames or \\d+ GiB)",
                "2^" + Long.numberOfTrailingZeros(FrameProtection.MAX_FRAMES) + " frames or "
                        + (FrameProtection.MAX_BYTES >> 30) + " GiB");
    }

    /** docs/scale-out.md: where a balancer finds the instance byte, and the codes around it. */
    @Test
    void scaleOutMdsOffsetsAreTheWireFormat() {
        String file = "docs/scale-out.md";
        Table t = Docs.markdownTable(file, "# Several sproxy instances behind one address");
        assertEquals(List.of(
                List.of("stream offset", "bytes", "what"),
                List.of("0", "4", String.format("`%02x %02x %02x %02x`", Wire.MAGIC >> 8, Wire.MAGIC & 0xff, Wire.VERSION,
                        FrameType.HELLO.code()) + ": magic \"RP\", protocol version " + Wire.VERSION
                        + ", frame type " + FrameType.HELLO.code() + " (HELLO)"),
                List.of(String.valueOf(Wire.HEADER_SIZE), "1", String.format("mode: `%02x` a new session, `%02x` a resume",
                        Mode.NEW.code(), Mode.RESUME.code())),
                List.of("**" + Handshake.INSTANCE_BYTE_OFFSET + "**", "1",
                        "resume: the instance number N of the session (the first byte of its id)")),
                t.rows(), t.where() + ": the bytes a balancer reads");
        String text = Docs.read(file);
        assertStates(file, text, "the header size", "right after the (\\d+)-byte frame header", Wire.HEADER_SIZE);
        assertStates(file, text, "the instance numbers", "--instance N` \\((1 to \\d+),", "1 to " + ServerConfig.MAX_INSTANCE);
        assertStates(file, text, "the instance byte's offset", "reads byte (\\d+) of the first packet",
                Handshake.INSTANCE_BYTE_OFFSET);
        assertStates(file, text, "the instance byte's offset", "(?:with|by) `req\\.payload\\((\\d+),1\\)`",
                Handshake.INSTANCE_BYTE_OFFSET);
        assertStates(file, text, "the mode byte", "`req\\.payload\\((\\d+,1)\\)` is `02`", Wire.HEADER_SIZE + ",1");
        assertStates(file, text, "the bytes to wait for", "wait for the first (\\d+) bytes of the HELLO",
                Handshake.INSTANCE_BYTE_OFFSET + 1);
        assertStates(file, text, "the bytes to wait for", "req\\.len ge (\\d+) \\}", Handshake.INSTANCE_BYTE_OFFSET + 1);
        assertStates(file, text, "WRONG_INSTANCE's code", "`WRONG_INSTANCE` \\(code (\\d+),", Status.WRONG_INSTANCE.code());
    }
}
