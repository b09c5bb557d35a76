package net.roamproxy.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Formats frames taken off a link, field by field, as the AsciiDoc listings of the design
 * report; every frame is first read back with the product's {@link FrameReader} (under the
 * peer's keys, if sealed), so a dump is always of a frame the peer accepts. Not thread-safe.
 */
final class HexDumps {
    private static final HexFormat SPACED = HexFormat.ofDelimiter(" ");
    private final StringBuilder out = new StringBuilder();
    /** Every frame dumped, by its id, as it was on the wire, and every value listed, by its name. */
    private final java.util.Map<String, byte[]> frames = new java.util.LinkedHashMap<>();

    /** One field of a frame: its size in bytes and what to print beside it. */
    record Field(int size, String text) {
    }

    HexDumps(String firstLine) {
        out.append(firstLine).append('\n');
    }

    /** Takes the next clear frame off {@code wire}, dumps it, and returns it as the peer's reader reads it. */
    Frame clear(String id, String title, InputStream wire, List<Field> payload) throws IOException {
        byte[] frame = take(wire);
        Frame f = new FrameReader(new ByteArrayInputStream(frame)).next();
        dump(id, title, frame, payload);
        return f;
    }

    /**
     * Takes the next sealed frame off {@code wire}, opens it with {@code peer} (the reader's
     * opener, so its frame count goes on), dumps it, and returns its plaintext.
     */
    Frame sealed(String id, String title, InputStream wire, FrameProtection.Opener peer, String payload)
            throws IOException {
        byte[] frame = take(wire);
        FrameReader reader = new FrameReader(new ByteArrayInputStream(frame));
        reader.protect(peer);
        Frame f = reader.next();
        List<Field> fields = new ArrayList<>();
        if (f.length() > 0) {
            fields.add(new Field(f.length(), payload));
        }
        fields.add(new Field(Wire.TAG_SIZE, "AES-GCM tag"));
        dump(id, title, frame, fields);
        return f;
    }

    /** A listing of named values, sixteen bytes to a line as in the frames, without offsets. */
    void values(String id, String title, List<Value> values) {
        block(id, title, false);
        for (Value v : values) {
            frames.put(v.name(), v.bytes().clone());
            for (int i = 0; i < v.bytes().length; i += 16) {
                String hex = SPACED.formatHex(v.bytes(), i, Math.min(v.bytes().length, i + 16));
                out.append(String.format("%-47s  %s", hex, i == 0 ? v.name() : "").stripTrailing()).append('\n');
            }
        }
        out.append("----\n");
    }

    /** A named value for {@link #values}. */
    record Value(String name, byte[] bytes) {
    }

    /** The frames dumped so far, by id, each as it was on the wire. */
    java.util.Map<String, byte[]> frames() {
        return frames;
    }

    String text() {
        return out.toString();
    }

    /** Reads one whole frame's bytes as they were on the wire. */
    private static byte[] take(InputStream wire) throws IOException {
        // readFully, not readNBytes: the latter ends with a zero-length read, which the
        // in-memory socket answers by waiting for more bytes.
        DataInputStream in = new DataInputStream(wire);
        byte[] header = new byte[Wire.HEADER_SIZE];
        in.readFully(header);
        Wire.Header h;
        try {
            h = Wire.readHeader(header, 0);
        } catch (ProtocolException e) {
            throw new AssertionError("the writer wrote a frame its own decoder refuses", e);
        }
        byte[] frame = new byte[Wire.HEADER_SIZE + h.length()];
        System.arraycopy(header, 0, frame, 0, Wire.HEADER_SIZE);
        in.readFully(frame, Wire.HEADER_SIZE, h.length());
        return frame;
    }

    private void dump(String id, String title, byte[] frame, List<Field> payload) throws ProtocolException {
        Wire.Header h = Wire.readHeader(frame, 0);
        frames.put(id, frame.clone());
        assertEquals(h.length(), payload.stream().mapToInt(Field::size).sum(), title + ": fields do not cover it");
        List<Field> fields = new ArrayList<>(List.of(
                new Field(2, "magic \"RP\""),
                new Field(1, "version " + Wire.VERSION),
                new Field(1, "type " + h.type().code() + ": " + h.type() + (h.type().isSealed() ? ", sealed" : "")),
                new Field(4, "length " + h.length() + (h.type().isSealed() ? " (" + (h.length() - Wire.TAG_SIZE)
                        + " encrypted + " + Wire.TAG_SIZE + " tag)" : "")),
                new Field(8, "seq " + h.seq()),
                new Field(8, "ack " + h.ack())));
        fields.addAll(payload);
        block(id, title + ": " + frame.length + " bytes", true);
        lines(frame, fields);
        out.append("----\n");
    }

    private void block(String id, String title, boolean unbreakable) {
        out.append('\n').append("[[").append(id).append("]]\n");
        out.append('.').append(title).append('\n');
        if (unbreakable) {
            out.append("[%unbreakable]\n");
        }
        out.append("----\n");
    }

    private void lines(byte[] all, List<Field> fields) {
        int off = 0;
        for (Field f : fields) {
            for (int i = 0; i < f.size(); i += 16) {
                int n = Math.min(16, f.size() - i);
                String hex = SPACED.formatHex(all, off + i, off + i + n);
                out.append(String.format("%04x  %-47s  %s", off + i, hex, i == 0 ? f.text() : "").stripTrailing())
                        .append('\n');
            }
            off += f.size();
        }
    }
}
