package net.roamproxy.wire;

import static net.roamproxy.wire.Sealing.data;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.EOFException;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import net.roamproxy.wire.Handshake.Status;

/**
 * The reader's part of frame protection: no sealed frame before the link has keys, every
 * sealed frame opened in place (or refused) once it has them, clear frames passed on as they
 * came, and the frame kept as it arrived for the handshake's transcript.
 */
class FrameReaderSealingTest {

    private static FrameReader keyed(ScriptedInputStream in) {
        FrameReader r = new FrameReader(in);
        r.protect(Sealing.opener());
        return r;
    }

    @ParameterizedTest
    @EnumSource(value = FrameType.class, names = {"HELLO", "WELCOME", "REFUSED"}, mode = EnumSource.Mode.EXCLUDE)
    void aSealedFrameBeforeTheLinkHasKeysIsRefusedRightAfterItsHeaderWithoutReadingItsPayload(FrameType type) {
        byte[] frame = Sealing.wire(Sealing.sealer(), new Frame(type, 1, 2, new byte[WireTest.plainSizeFor(type)]));
        ScriptedInputStream in = new ScriptedInputStream().bytes(frame, 0, Wire.HEADER_SIZE).thenNoMoreReads();

        ProtocolException e = assertThrows(ProtocolException.class, () -> new FrameReader(in).next());

        assertTrue(e.getMessage().contains("sealed " + type) && e.getMessage().contains("keys"), e.getMessage());
        assertEquals(1, in.reads(), "the header was all it read");
    }

    @Test
    void theHandshakesClearFramesAreReadBeforeTheLinkHasKeys() throws IOException {
        Frame hello = new Frame(FrameType.HELLO, 0, 9, Hello.forResume(5, new byte[Handshake.KEY_SIZE], 7).encode());
        Frame refused = new Frame(FrameType.REFUSED, 0, 0, new Refusal(Status.BUSY, new byte[0]).encode());
        FrameReader reader = new FrameReader(new ScriptedInputStream().bytes(Wire.encode(hello))
                .bytes(Wire.encode(refused)));

        assertEquals(hello, reader.next());
        assertEquals(refused, reader.next());
    }

    @Test
    void aClearFrameAfterTheKeysIsReturnedAsItCameForTheCallerToJudge() throws IOException {
        // sproxy's signed AUTH_FAILED comes in clear after cproxy has installed the link's keys.
        Frame refused = new Frame(FrameType.REFUSED, 0, 0,
                new Refusal(Status.AUTH_FAILED, new byte[Refusal.SIGNED_AUTH_SIZE]).encode());
        FrameReader reader = keyed(new ScriptedInputStream().bytes(Wire.encode(refused)));

        assertEquals(refused, reader.next());
    }

    @Test
    void aSealedFrameIsOpenedInPlaceAndReturnedWithItsPlaintextLength() throws IOException {
        byte[] mac = Sealing.filled(Handshake.MAC_SIZE, 0x77);
        byte[] wire = Sealing.wire(Sealing.sealer(), new Frame(FrameType.PROOF, 0, 0, mac));
        assertFalse(Arrays.equals(mac, Arrays.copyOfRange(wire, Wire.HEADER_SIZE, Wire.HEADER_SIZE + mac.length)),
                "the payload is encrypted on the wire");
        FrameReader reader = keyed(new ScriptedInputStream().bytes(wire));

        Wire.Header h = reader.nextInPlace();

        assertEquals(new Wire.Header(FrameType.PROOF, Handshake.MAC_SIZE, 0, 0), h);
        assertEquals(Wire.HEADER_SIZE, reader.payloadOffset(), "opened where it arrived, after its header");
        assertArrayEquals(mac, FrameReaderTest.inPlacePayload(reader, h));
    }

    @Test
    void aFrameWhoseCiphertextTagOrHeaderWasAlteredFailsAuthenticationAndYieldsNothing() {
        byte[] wire = Sealing.wire(Sealing.sealer(), data(40, 20, 3));
        // A seq byte (authenticated header), a ciphertext byte, a tag byte.
        for (int at : new int[] {Wire.HEADER_SIZE - 9, Wire.HEADER_SIZE + 5, wire.length - 1}) {
            byte[] altered = wire.clone();
            altered[at] ^= 0x01;
            FrameReader reader = keyed(new ScriptedInputStream().bytes(altered));

            ProtocolException e = assertThrows(ProtocolException.class, reader::next, "flipped byte " + at);
            assertTrue(e.getMessage().contains("DATA frame 0 failed authentication"), e.getMessage());
        }
    }

    @Test
    void aReplayedDroppedOrReorderedFrameFailsBecauseEachTakesTheNextNonce() throws IOException {
        FrameProtection.Sealer sealer = Sealing.sealer();
        byte[] first = Sealing.wire(sealer, data(0, 8, 1));
        byte[] second = Sealing.wire(sealer, data(8, 8, 2));
        List<byte[][]> streams = List.of(
                new byte[][] {first, first},  // replayed
                new byte[][] {second},        // the first dropped
                new byte[][] {second, first}); // reordered
        for (byte[][] stream : streams) {
            ScriptedInputStream in = new ScriptedInputStream();
            for (byte[] f : stream) {
                in.bytes(f);
            }
            FrameReader reader = keyed(in);
            if (stream[0] == first) {
                reader.next();
            }

            assertThrows(ProtocolException.class, reader::next);
        }
    }

    @Test
    void aFrameSealedUnderTheOtherDirectionsKeyIsRefused() {
        byte[] reflected = Sealing.wire(Sealing.otherDirectionSealer(), Frame.control(FrameType.HEARTBEAT, 0, 0));

        assertThrows(ProtocolException.class, () -> keyed(new ScriptedInputStream().bytes(reflected)).next());
    }

    @Test
    void keepNextWireKeepsTheNextSealedFrameAsItArrivedEvenAcrossTimeouts() throws IOException {
        byte[] proof = Sealing.wire(Sealing.sealer(), new Frame(FrameType.PROOF, 0, 0, new byte[Handshake.MAC_SIZE]));
        FrameReader reader = keyed(new ScriptedInputStream().bytes(proof, 0, 30).timeout()
                .bytes(proof, 30, proof.length));
        assertNull(reader.lastWire(), "nothing kept before asked");

        reader.keepNextWire();
        assertThrows(SocketTimeoutException.class, reader::next);
        assertNull(reader.lastWire(), "a partial frame is not kept");
        reader.next();

        assertArrayEquals(proof, reader.lastWire(), "the ciphertext and tag, not the plaintext");
    }

    @Test
    void keepNextWireKeepsAFrameThatFailsAuthenticationForTheTranscript() {
        byte[] proof = Sealing.wire(Sealing.otherDirectionSealer(),
                new Frame(FrameType.PROOF, 0, 0, new byte[Handshake.MAC_SIZE]));
        FrameReader reader = keyed(new ScriptedInputStream().bytes(proof));

        reader.keepNextWire();
        assertThrows(ProtocolException.class, reader::next);

        assertArrayEquals(proof, reader.lastWire());
    }

    @Test
    void keepNextWireKeepsOnlyOneFrameAndAskingAgainForgetsIt() throws IOException {
        FrameProtection.Sealer sealer = Sealing.sealer();
        byte[] first = Sealing.wire(sealer, data(0, 4, 1));
        byte[] second = Sealing.wire(sealer, data(4, 4, 2));
        FrameReader reader = keyed(new ScriptedInputStream().bytes(first).bytes(second));

        reader.keepNextWire();
        reader.next();
        reader.next();
        assertArrayEquals(first, reader.lastWire(), "the second frame was not asked for");
        reader.keepNextWire();
        assertNull(reader.lastWire());
        assertThrows(EOFException.class, reader::next);
        assertNull(reader.lastWire(), "none arrived whole");
    }
}
