package net.roamproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import net.roamproxy.wire.Frame;
import net.roamproxy.wire.FrameType;
import net.roamproxy.wire.Handshake;
import net.roamproxy.wire.Hello;
import net.roamproxy.wire.Wire;

/**
 * {@code sproxy --instance N}: its range, and the byte offset that --help, sproxy.conf,
 * the docs and the HAProxy configuration name, checked against where an encoded HELLO RESUME
 * really carries the instance byte.
 */
class InstanceOptionTest {

    /** The offset of a session id's first byte in the stream of an encoded HELLO RESUME. */
    private static int instanceByteInStream() {
        long id = 0x2a11_2233_4455_6677L;
        byte[] wire = Wire.encode(new Frame(FrameType.HELLO, 0, 9,
                Hello.forResume(id, new byte[Handshake.KEY_SIZE], 1 << 20).encode()));
        byte[] idBytes = new byte[8];
        Wire.putLong(idBytes, 0, id);
        for (int i = 0; i + 8 <= wire.length; i++) {
            if (Arrays.equals(wire, i, i + 8, idBytes, 0, 8)) {
                return i;
            }
        }
        throw new AssertionError("no id in the frame");
    }

    @Test
    void helpConfigDocsAndHaproxyNameTheOffsetWhereAResumeCarriesTheInstance() throws IOException {
        int offset = instanceByteInStream();
        String help = Cli.sproxy("--help").out().replaceAll("\\s+", " ");
        assertTrue(help.contains("--instance <N>"), help);
        assertTrue(help.contains("byte at offset " + offset + " of a HELLO RESUME"), help);
        assertTrue(Files.readString(Path.of("conf/sproxy.conf")).contains("byte offset " + offset + " "));
        assertTrue(Files.readString(Path.of("docs/scale-out.md")).contains("| **" + offset + "** |"));
        String cfg = Files.readString(Path.of("contrib/haproxy/roamproxy.cfg"));
        assertTrue(cfg.contains("req.payload(" + offset + ",1) -m bin 01"), cfg);
        assertTrue(cfg.contains("req.payload(" + (offset - 1) + ",1) -m bin 02"), "the mode byte: RESUME");
        assertTrue(cfg.contains("req.len ge " + (offset + 1) + " "), "accepted once the instance byte is in");
    }

    @ParameterizedTest
    @ValueSource(strings = {"0", "256", "-1", "one"})
    void anInstanceOutsideOneTo255IsAUsageError(String n) {
        Cli.Result r = Cli.sproxyExpectingNoStart("--instance", n);

        assertEquals(2, r.status(), r.toString());
        assertTrue(r.err().contains("--instance"), r.err());
    }
}
