package net.roamproxy.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import org.junit.jupiter.api.Test;

import net.roamproxy.wire.FrameProtection.KeyLimitException;
import net.roamproxy.wire.FrameProtection.Opener;
import net.roamproxy.wire.FrameProtection.Sealer;

/**
 * What {@link FrameProtection} refuses: a sealed frame altered anywhere (header, ciphertext or
 * tag), cut short, replayed, reordered or sealed under the other direction's key, and any use of
 * a key past its limits. Frames are sealed by the product's {@link Sealer}; they are opened by
 * {@link Opener#open} directly where the header must reach it unvalidated, otherwise by a
 * {@link FrameReader} as on a link.
 */
class FrameProtectionTest {
    private static final byte[] C2S_KEY = Protocol3JavaVectors.fixed("test c2s key");
    private static final byte[] C2S_IV = Protocol3JavaVectors.fixed("test c2s iv", KeySchedule.IV_SIZE);
    private static final byte[] S2C_KEY = Protocol3JavaVectors.fixed("test s2c key");
    private static final byte[] S2C_IV = Protocol3JavaVectors.fixed("test s2c iv", KeySchedule.IV_SIZE);
    private static final byte[] TEXT = "nothing of this may be read or altered".getBytes(StandardCharsets.US_ASCII);

    private static byte[] seal(Sealer sealer, byte[] payload, long seq) throws KeyLimitException {
        return Protocol3JavaVectors.sealed(sealer, FrameType.DATA, payload, seq, 7);
    }

    private static byte[] heartbeat(Sealer sealer, long seq) throws KeyLimitException {
        return Protocol3JavaVectors.sealed(sealer, FrameType.HEARTBEAT, new byte[0], seq, 7);
    }

    /** The first c2s frames of a link, each carrying TEXT, with seq 1000, 2000, ... */
    private static byte[][] firstFrames(int n) throws KeyLimitException {
        Sealer sealer = FrameProtection.sealer(C2S_KEY, C2S_IV);
        byte[][] frames = new byte[n][];
        for (int i = 0; i < n; i++) {
            frames[i] = seal(sealer, TEXT, 1000L * (i + 1));
        }
        return frames;
    }

    private static FrameReader reader(Opener opener, byte[]... frames) {
        ByteArrayOutputStream wire = new ByteArrayOutputStream();
        for (byte[] f : frames) {
            wire.writeBytes(f);
        }
        FrameReader r = new FrameReader(new ByteArrayInputStream(wire.toByteArray()));
        r.protect(opener);
        return r;
    }

    private static FrameReader c2sReader(byte[]... frames) {
        return reader(FrameProtection.opener(C2S_KEY, C2S_IV), frames);
    }

    /** Opens {@code frame}, whose genuine header is {@code h}, as the first frame of a fresh c2s opener. */
    private static void openFirst(byte[] frame, Wire.Header h) throws ProtocolException {
        FrameProtection.opener(C2S_KEY, C2S_IV).open(frame, 0, h);
    }

    private static void assertFailsAuthentication(byte[] frame, Wire.Header h, String what) {
        ProtocolException e = assertThrows(ProtocolException.class, () -> openFirst(frame, h), what);
        assertTrue(e.getMessage().contains("failed authentication"), what + ": " + e.getMessage());
    }

    @Test
    void aSealedFrameHidesItsPayloadAndOpensToItWithItsHeaderIntact() throws Exception {
        byte[] frame = firstFrames(1)[0];
        assertEquals(Wire.HEADER_SIZE + TEXT.length + Wire.TAG_SIZE, frame.length);
        assertFalse(Arrays.equals(TEXT, Arrays.copyOfRange(frame, Wire.HEADER_SIZE, Wire.HEADER_SIZE + TEXT.length)));
        Frame f = c2sReader(frame).next();
        assertEquals(new Frame(FrameType.DATA, 1000, 7, TEXT), f);
    }

    @Test
    void aBitFlippedInAnyByteOfTheHeaderPayloadOrTagFailsAuthentication() throws Exception {
        byte[] genuine = firstFrames(1)[0];
        Wire.Header h = Wire.readHeader(genuine, 0);
        openFirst(genuine.clone(), h);
        for (int i = 0; i < genuine.length; i++) {
            byte[] altered = genuine.clone();
            altered[i] ^= (byte) (1 << (i % 8));
            assertFailsAuthentication(altered, h, "bit " + i % 8 + " of byte " + i + " flipped");
        }
    }

    @Test
    void everyBitFlippedInTheMagicTypeLengthSeqAckPayloadAndTagFailsAuthentication() throws Exception {
        byte[] genuine = firstFrames(1)[0];
        Wire.Header h = Wire.readHeader(genuine, 0);
        int last = genuine.length - 1;
        int[] positions = {0, 3, 7, 15, 23, Wire.HEADER_SIZE, last - Wire.TAG_SIZE, last - Wire.TAG_SIZE + 1, last};
        for (int i : positions) {
            for (int bit = 0; bit < 8; bit++) {
                byte[] altered = genuine.clone();
                altered[i] ^= (byte) (1 << bit);
                assertFailsAuthentication(altered, h, "bit " + bit + " of byte " + i + " flipped");
            }
        }
    }

    @Test
    void anAlteredSeqOrAckThatStillParsesIsRefusedByTheReader() throws Exception {
        for (int i : new int[] {15, 23}) {
            byte[] altered = firstFrames(1)[0];
            altered[i] ^= 1;
            assertThrows(ProtocolException.class, c2sReader(altered)::next, "byte " + i + " altered");
        }
    }

    @Test
    void aFrameCutShortEndsTheStreamMidFrame() throws Exception {
        byte[] genuine = firstFrames(1)[0];
        for (int cut : new int[] {1, Wire.TAG_SIZE, Wire.TAG_SIZE + 1}) {
            byte[] truncated = Arrays.copyOf(genuine, genuine.length - cut);
            assertThrows(EOFException.class, c2sReader(truncated)::next, cut + " bytes cut");
        }
    }

    @Test
    void aFrameCutShortWithItsLengthFieldToMatchFailsAuthentication() throws Exception {
        byte[] genuine = firstFrames(1)[0];
        for (int cut : new int[] {1, Wire.TAG_SIZE - 1}) {
            byte[] truncated = Arrays.copyOf(genuine, genuine.length - cut);
            Wire.putInt(truncated, 4, Wire.getInt(genuine, 4) - cut);
            Wire.Header h = Wire.readHeader(truncated, 0);
            assertFailsAuthentication(truncated, h, cut + " bytes cut");
            assertThrows(ProtocolException.class, c2sReader(truncated)::next, cut + " bytes cut, read");
        }
    }

    @Test
    void aReplayedFrameFailsAuthentication() throws Exception {
        byte[][] frames = firstFrames(2);
        FrameReader r = c2sReader(frames[0], frames[1], frames[1]);
        assertEquals(1000, r.next().seq());
        assertEquals(2000, r.next().seq());
        assertThrows(ProtocolException.class, r::next);
    }

    @Test
    void theFirstFrameReplayedInPlaceOfTheSecondFailsAuthentication() throws Exception {
        byte[][] frames = firstFrames(2);
        FrameReader r = c2sReader(frames[0], frames[0]);
        assertArrayEquals(TEXT, r.next().payload());
        assertThrows(ProtocolException.class, r::next);
    }

    @Test
    void framesReorderedFailAuthentication() throws Exception {
        byte[][] frames = firstFrames(3);
        FrameReader r = c2sReader(frames[0], frames[2], frames[1]);
        assertEquals(1000, r.next().seq());
        assertThrows(ProtocolException.class, r::next);
    }

    @Test
    void aFrameDroppedMakesTheNextOneFailAuthentication() throws Exception {
        byte[][] frames = firstFrames(2);
        assertThrows(ProtocolException.class, c2sReader(frames[1])::next);
    }

    @Test
    void aFrameSealedUnderTheOtherDirectionsKeyFailsAuthentication() throws Exception {
        byte[] s2c = seal(FrameProtection.sealer(S2C_KEY, S2C_IV), TEXT, 1000);
        assertArrayEquals(TEXT, reader(FrameProtection.opener(S2C_KEY, S2C_IV), s2c).next().payload());
        assertThrows(ProtocolException.class, c2sReader(s2c)::next);
        assertThrows(ProtocolException.class, reader(FrameProtection.opener(S2C_KEY, C2S_IV), s2c)::next,
                "key right, iv wrong");
        assertThrows(ProtocolException.class, reader(FrameProtection.opener(C2S_KEY, S2C_IV), s2c)::next,
                "iv right, key wrong");
    }

    @Test
    void aSealerAtItsFrameLimitThrowsKeyLimitException() throws Exception {
        Sealer sealer = new Sealer(C2S_KEY, C2S_IV, 2, Long.MAX_VALUE);
        byte[] first = seal(sealer, TEXT, 1000);
        byte[] second = heartbeat(sealer, 2000);
        assertThrows(KeyLimitException.class, () -> seal(sealer, TEXT, 3000));
        assertThrows(KeyLimitException.class, () -> heartbeat(sealer, 3000), "nor an empty frame");
        assertEquals(2, sealer.frames());
        FrameReader r = c2sReader(first, second);
        assertArrayEquals(TEXT, r.next().payload());
        assertEquals(new Frame(FrameType.HEARTBEAT, 2000, 7, new byte[0]), r.next());
    }

    @Test
    void aSealerAtItsByteLimitThrowsKeyLimitException() throws Exception {
        Sealer sealer = new Sealer(C2S_KEY, C2S_IV, Long.MAX_VALUE, 10);
        seal(sealer, new byte[6], 0);
        assertThrows(KeyLimitException.class, () -> seal(sealer, new byte[5], 6), "a frame crossing the limit");
        seal(sealer, new byte[4], 6);
        assertThrows(KeyLimitException.class, () -> seal(sealer, new byte[1], 10), "one byte beyond the limit");
        assertEquals(2, sealer.frames());
    }

    @Test
    void theRealSealerRefusesTheFrameAfterItsLastAllowedOne() throws Exception {
        Sealer sealer = FrameProtection.sealer(C2S_KEY, C2S_IV);
        sealer.frames = FrameProtection.MAX_FRAMES - 1;
        seal(sealer, TEXT, 0);
        assertThrows(KeyLimitException.class, () -> seal(sealer, TEXT, 0));
    }

    @Test
    void anOpenerAtItsLimitThrowsProtocolException() throws Exception {
        byte[][] frames = firstFrames(3);
        FrameReader r = reader(new Opener(C2S_KEY, C2S_IV, 2), frames);
        r.next();
        r.next();
        ProtocolException e = assertThrows(ProtocolException.class, r::next);
        assertTrue(e.getMessage().contains("usage limit"), e.getMessage());
    }
}
