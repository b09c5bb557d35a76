package net.roamproxy.wire;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Where a session id carries its sproxy instance, and where a load balancer finds it: found
 * here in the bytes of an encoded HELLO RESUME, so that a change of the HELLO's layout cannot
 * leave the documented offset behind unnoticed.
 */
class InstanceByteTest {

    /** The offset of the id's first byte in an encoded HELLO RESUME frame, found by search. */
    static int idOffsetInStream(long id) {
        Hello hello = Hello.forResume(id, new byte[Handshake.KEY_SIZE], 1 << 20);
        byte[] wire = Wire.encode(new Frame(FrameType.HELLO, 0, 7, hello.encode()));
        byte[] idBytes = new byte[8];
        Wire.putLong(idBytes, 0, id);
        for (int i = 0; i + 8 <= wire.length; i++) {
            if (Arrays.equals(wire, i, i + 8, idBytes, 0, 8)) {
                return i;
            }
        }
        throw new AssertionError("the id is not in the frame");
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 2, 17, 255})
    void theInstanceByteOfAResumeIsAtTheDocumentedOffsetOfTheStream(int instance) {
        long id = Handshake.withInstance(0x0123_4567_89ab_cdefL, instance);
        Hello hello = Hello.forResume(id, new byte[Handshake.KEY_SIZE], 1 << 20);
        byte[] wire = Wire.encode(new Frame(FrameType.HELLO, 0, 7, hello.encode()));

        int offset = idOffsetInStream(id);
        assertEquals(Handshake.INSTANCE_BYTE_OFFSET, offset, "the id's first byte");
        assertEquals(25, offset, "what --help, sproxy.conf, scale-out.md and roamproxy.cfg name");
        assertEquals(instance, wire[offset] & 0xff);
        assertEquals(Handshake.Mode.RESUME.code(), wire[offset - 1], "the mode byte just before it");
    }

    @Test
    void anIdKeepsItsRandomBitsAndCarriesItsInstanceInTheFirstByte() {
        long random = 0xfedc_ba98_7654_3210L;
        long id = Handshake.withInstance(random, 3);

        assertEquals(0x03dc_ba98_7654_3210L, id);
        assertEquals(3, Handshake.instanceOf(id));
        assertEquals(0, Handshake.instanceOf(Handshake.withInstance(random, 0)));
        assertEquals(255, Handshake.instanceOf(Handshake.withInstance(0, 255)));
        assertThrows(IllegalArgumentException.class, () -> Handshake.withInstance(random, 256));
        assertThrows(IllegalArgumentException.class, () -> Handshake.withInstance(random, -1));
    }

    @Test
    void wrongInstanceIsANewCodeAndAnUnauthenticatedRefusalOfIt() throws ProtocolException {
        assertEquals(11, Handshake.Status.WRONG_INSTANCE.code());
        Refusal r = new Refusal(Handshake.Status.WRONG_INSTANCE, new byte[0]);
        assertEquals(r, Refusal.decode(new Frame(FrameType.REFUSED, 0, 0, r.encode())));
    }
}
