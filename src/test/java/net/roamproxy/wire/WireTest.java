package net.roamproxy.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.EnumSet;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The header codec of protocol 3: round trips, the sealed types' lengths that count the tag,
 * and every malformed field refused with a message naming the field and its value. Headers
 * to refuse are built by hand here (with {@link ByteBuffer}, big-endian) so that the test
 * does not trust the codec's own helpers.
 */
class WireTest {
    private static final int DATA = FrameType.DATA.code();
    private static final int HEARTBEAT = FrameType.HEARTBEAT.code();
    private static final int HELLO = FrameType.HELLO.code();
    private static final int TAG = Wire.TAG_SIZE;

    /** A header laid out as the javadoc of {@link Wire} draws it, with every field chosen freely. */
    static byte[] header(int magic, int version, int type, long length, long seq, long ack) {
        ByteBuffer b = ByteBuffer.allocate(Wire.HEADER_SIZE);
        b.putShort((short) magic);
        b.put((byte) version);
        b.put((byte) type);
        b.putInt((int) length);
        b.putLong(seq);
        b.putLong(ack);
        return b.array();
    }

    /** A header with a valid magic and version whose type code and wire length are the test's. */
    static byte[] validHeader(int type, long wireLength) {
        return header(Wire.MAGIC, Wire.VERSION, type, wireLength, 7, 9);
    }

    /** A plaintext size every type allows. */
    static int plainSizeFor(FrameType type) {
        return switch (type) {
            case HELLO -> Hello.MIN_SIZE;
            case WELCOME -> Welcome.RESUMED_SIZE;
            case REFUSED -> Refusal.MIN_SIZE;
            case PROOF, TOKEN -> Handshake.MAC_SIZE;
            case DATA -> 3;
            default -> 0;
        };
    }

    private static ProtocolException refused(byte[] header) {
        return assertThrows(ProtocolException.class, () -> Wire.readHeader(header, 0));
    }

    private static void assertMentions(Exception e, String... words) {
        for (String w : words) {
            assertTrue(e.getMessage().contains(w), "'" + w + "' not in: " + e.getMessage());
        }
    }

    // ------------------------------------------------------------------ round trips and layout

    @ParameterizedTest
    @EnumSource(value = FrameType.class, names = {"HELLO", "WELCOME", "REFUSED"})
    void aClearFrameEncodesToHeaderAndPayloadAndReadsBackWithTheSameFields(FrameType type)
            throws ProtocolException {
        byte[] payload = new byte[plainSizeFor(type)];
        Arrays.fill(payload, (byte) 0x3c);

        byte[] bytes = Wire.encode(new Frame(type, 123_456_789_012L, Long.MAX_VALUE, payload));

        assertEquals(Wire.HEADER_SIZE + payload.length, bytes.length, "a clear frame has no tag");
        assertEquals(new Wire.Header(type, payload.length, 123_456_789_012L, Long.MAX_VALUE),
                Wire.readHeader(bytes, 0));
        assertArrayEquals(payload, Arrays.copyOfRange(bytes, Wire.HEADER_SIZE, bytes.length));
    }

    @ParameterizedTest
    @EnumSource(value = FrameType.class, names = {"HELLO", "WELCOME", "REFUSED"}, mode = EnumSource.Mode.EXCLUDE)
    void aSealedTypesHeaderCountsTheTagInItsLengthBothWays(FrameType type) throws ProtocolException {
        byte[] b = new byte[Wire.HEADER_SIZE];
        int plain = plainSizeFor(type);

        Wire.writeHeader(b, type, plain, 5, 6);

        assertEquals(plain + TAG, Wire.getInt(b, 4));
        assertEquals(new Wire.Header(type, plain + TAG, 5, 6), Wire.readHeader(b, 0), "what follows on the wire");
    }

    @ParameterizedTest
    @EnumSource(value = FrameType.class, names = {"HELLO", "WELCOME", "REFUSED"}, mode = EnumSource.Mode.EXCLUDE)
    void encodeRefusesEverySealedTypeBecauseOnlyFrameProtectionMayPutOneOnTheWire(FrameType type) {
        Frame f = new Frame(type, 0, 0, new byte[plainSizeFor(type)]);

        assertMentions(assertThrows(IllegalArgumentException.class, () -> Wire.encode(f)), type.name(), "sealed");
    }

    @Test
    void onlyHelloWelcomeAndRefusedTravelInClear() {
        EnumSet<FrameType> clear = EnumSet.noneOf(FrameType.class);
        for (FrameType t : FrameType.values()) {
            if (!t.isSealed()) {
                clear.add(t);
            }
        }
        assertEquals(EnumSet.of(FrameType.HELLO, FrameType.WELCOME, FrameType.REFUSED), clear);
    }

    @Test
    void theEncoderWritesTheDocumentedBigEndianHeaderWithVersionThree() {
        byte[] bytes = Wire.encode(FrameType.REFUSED, 0x0102030405060708L, 0x1112131415161718L,
                new byte[] {9, 8, 7, 6}, 1, 1);

        byte[] expected = {
            0x52, 0x50, 0x03, 0x0b,
            0x00, 0x00, 0x00, 0x01,
            0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
            0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
            8,
        };
        assertArrayEquals(expected, bytes);
    }

    @Test
    void frameTypeCodesAreTheDocumentedWireCodesWithSevenRetired() {
        int[] codes = {1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12};
        FrameType[] types = {FrameType.HELLO, FrameType.WELCOME, FrameType.HEARTBEAT, FrameType.DATA, FrameType.ACK,
            FrameType.END, FrameType.PROOF, FrameType.ABORT, FrameType.STOPPING, FrameType.REFUSED, FrameType.TOKEN};
        for (int i = 0; i < codes.length; i++) {
            assertEquals(codes[i], types[i].code(), types[i].name());
        }
        assertEquals(EnumSet.allOf(FrameType.class), EnumSet.copyOf(Arrays.asList(types)), "every type listed");
    }

    @Test
    void theLargestFrameIsAFullDataFrameWithItsTag() throws ProtocolException {
        assertEquals(3, Wire.VERSION);
        assertEquals(Wire.HEADER_SIZE + Wire.MAX_DATA + TAG, Wire.MAX_FRAME);
        assertEquals(Wire.MAX_DATA + TAG, Wire.readHeader(validHeader(DATA, Wire.MAX_DATA + TAG), 0).length());
    }

    @Test
    void theDecoderReadsAHeaderAtAnOffset() throws ProtocolException {
        byte[] h = header(Wire.MAGIC, Wire.VERSION, DATA, 5 + TAG, 42, 43);
        byte[] padded = new byte[10 + h.length];
        Arrays.fill(padded, (byte) 0xff);
        System.arraycopy(h, 0, padded, 10, h.length);

        assertEquals(new Wire.Header(FrameType.DATA, 5 + TAG, 42, 43), Wire.readHeader(padded, 10));
    }

    @Test
    void theDecoderAcceptsTheLargestSeqAndAck() throws ProtocolException {
        Wire.Header h = Wire.readHeader(header(Wire.MAGIC, Wire.VERSION, HEARTBEAT, TAG, Long.MAX_VALUE,
                Long.MAX_VALUE), 0);

        assertEquals(Long.MAX_VALUE, h.seq());
        assertEquals(Long.MAX_VALUE, h.ack());
    }

    // ------------------------------------------------------------------ malformed incoming headers

    @Test
    void aBadMagicIsRefusedNamingItsValue() {
        assertMentions(refused(header(0x4854, Wire.VERSION, DATA, 1 + TAG, 0, 0)), "magic", "0x4854");
    }

    @Test
    void theMagicIsCheckedBeforeTheVersionSoAnHttpRequestIsNotCalledAnotherVersion() {
        byte[] http = "GET / HTTP/1.1\r\nHost: x\r\n".getBytes(StandardCharsets.US_ASCII);

        ProtocolException e = refused(Arrays.copyOf(http, Wire.HEADER_SIZE));

        assertEquals(ProtocolException.class, e.getClass());
        assertMentions(e, "magic");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 2, 4, 255})
    void anyOtherVersionIncludingTheUnsealedOnesIsAnUnsupportedVersionCarryingIt(int version) {
        ProtocolException e = refused(header(Wire.MAGIC, version, HEARTBEAT, 0, 0, 0));

        assertEquals(version, assertInstanceOf(UnsupportedVersionException.class, e).version());
        assertMentions(e, "version " + version);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 7, 13, 255})
    void anUnknownOrRetiredTypeIsRefusedNamingItsCode(int type) {
        ProtocolException e = refused(validHeader(type, TAG));

        assertEquals(ProtocolException.class, e.getClass());
        assertMentions(e, "type " + type);
    }

    @ParameterizedTest
    @EnumSource(value = FrameType.class, names = {"HELLO", "WELCOME", "REFUSED"}, mode = EnumSource.Mode.EXCLUDE)
    void aSealedFrameShorterThanItsTagIsRefused(FrameType type) {
        int wire = TAG - 1;

        assertMentions(refused(validHeader(type.code(), wire)), type.name(), "length " + wire);
    }

    @ParameterizedTest
    @EnumSource(value = FrameType.class, names = {"HEARTBEAT", "ACK", "END", "ABORT", "STOPPING"})
    void aControlFrameIsExactlyATagAndAnyPlaintextIsRefused(FrameType type) throws ProtocolException {
        assertEquals(TAG, Wire.readHeader(validHeader(type.code(), TAG), 0).length());
        assertMentions(refused(validHeader(type.code(), 0)), type.name(), "length 0");
        assertMentions(refused(validHeader(type.code(), TAG + 1)), type.name(), "length " + (TAG + 1));
    }

    @ParameterizedTest
    @ValueSource(longs = {TAG, Wire.MAX_DATA + TAG + 1L})
    void dataWithoutPlaintextOrOverTheMaximumIsRefused(long wire) {
        assertMentions(refused(validHeader(DATA, wire)), "DATA", "length " + wire);
    }

    @ParameterizedTest
    @EnumSource(value = FrameType.class, names = {"PROOF", "TOKEN"})
    void proofAndTokenCarryExactlyOneMacAndItsTag(FrameType type) throws ProtocolException {
        int wire = Handshake.MAC_SIZE + TAG;
        assertEquals(wire, Wire.readHeader(validHeader(type.code(), wire), 0).length());
        assertMentions(refused(validHeader(type.code(), Handshake.MAC_SIZE)), "length " + Handshake.MAC_SIZE);
        assertMentions(refused(validHeader(type.code(), wire + 1)), "length " + (wire + 1));
    }

    @ParameterizedTest
    @ValueSource(ints = {0, Hello.MIN_SIZE - 1, Hello.MAX_SIZE + 1, Hello.MAX_SIZE + TAG})
    void aHelloOfAWrongSizeIsRefusedAndItsLengthCountsNoTag(int length) {
        assertMentions(refused(validHeader(HELLO, length)), "HELLO", "length " + length);
    }

    @ParameterizedTest
    @ValueSource(ints = {Welcome.RESUMED_SIZE - 1, Welcome.NEW_SESSION_SIZE + 1})
    void aWelcomeOutsideItsTwoSizesIsRefused(int length) {
        assertMentions(refused(validHeader(FrameType.WELCOME.code(), length)), "WELCOME", "length " + length);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, Refusal.MAX_SIZE + 1})
    void aRefusedFrameWithoutAStatusOrLongerThanASignedRefusalIsRefused(int length) {
        assertMentions(refused(validHeader(FrameType.REFUSED.code(), length)), "REFUSED", "length " + length);
    }

    @Test
    void aLengthOfAllOnesIsRefusedWithoutWrappingNegative() {
        assertMentions(refused(validHeader(DATA, 0xFFFF_FFFFL)), "length 4294967295");
    }

    @Test
    void aLengthWithTheTopBitSetIsRefusedEvenForDataWhoseTagWouldBringItBelow() {
        assertMentions(refused(validHeader(DATA, 0x8000_0001L)), "length 2147483649");
    }

    @ParameterizedTest
    @ValueSource(longs = {Long.MIN_VALUE, -1L})
    void aSeqWithTheTopBitSetIsRefused(long seq) {
        assertMentions(refused(header(Wire.MAGIC, Wire.VERSION, HEARTBEAT, TAG, seq, 0)),
                "seq " + Long.toUnsignedString(seq));
    }

    @Test
    void anAckWithTheTopBitSetIsRefused() {
        assertMentions(refused(header(Wire.MAGIC, Wire.VERSION, HEARTBEAT, TAG, 0, -1L)), "ack 18446744073709551615");
    }

    // ------------------------------------------------------------------ bad outgoing frames are our bug

    @ParameterizedTest
    @ValueSource(ints = {0, Wire.MAX_DATA + 1})
    void writingADataHeaderWithoutPlaintextOrOverTheMaximumIsOurBug(int plain) {
        byte[] dst = new byte[Wire.HEADER_SIZE];

        assertThrows(IllegalArgumentException.class, () -> Wire.writeHeader(dst, FrameType.DATA, plain, 0, 0));
        assertArrayEquals(new byte[Wire.HEADER_SIZE], dst, "nothing written for a refused header");
    }

    @Test
    void writingAControlHeaderWithPlaintextIsOurBug() {
        assertMentions(assertThrows(IllegalArgumentException.class,
                () -> Wire.writeHeader(new byte[Wire.HEADER_SIZE], FrameType.HEARTBEAT, 1, 0, 0)), "HEARTBEAT");
    }

    @Test
    void encodingAHelloOfTheWrongSizeIsOurBug() {
        assertThrows(IllegalArgumentException.class,
                () -> Wire.encode(new Frame(FrameType.HELLO, 0, 0, new byte[Hello.MIN_SIZE - 1])));
    }

    @Test
    void aNegativeSeqOrAckIsOurBug() {
        byte[] status = {(byte) Handshake.Status.BUSY.code()};
        assertThrows(IllegalArgumentException.class, () -> Wire.encode(new Frame(FrameType.REFUSED, -1, 0, status)));
        assertThrows(IllegalArgumentException.class,
                () -> Wire.writeHeader(new byte[Wire.HEADER_SIZE], FrameType.ACK, 0, 0, Long.MIN_VALUE));
    }
}
