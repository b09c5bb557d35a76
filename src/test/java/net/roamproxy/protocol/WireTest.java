package net.roamproxy.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The wire format: encoding round-trips, and every malformed header field is refused with a
 * message that names the field and its value. Malformed headers are built by hand here
 * (with {@link ByteBuffer}, big-endian) so that the test does not trust the codec's own
 * helpers.
 */
class WireTest {

    private static final int HELLO = 1;
    private static final int HEARTBEAT = 3;
    private static final int DATA = 4;

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

    static byte[] validHeader(int type, long length) {
        return header(0x5250, Wire.VERSION, type, length, 7, 9);
    }

    static int payloadSizeFor(FrameType type) {
        return switch (type) {
            case HELLO, WELCOME -> Handshake.SIZE;
            case CHALLENGE -> PresharedKey.CHALLENGE_SIZE;
            case PROOF -> PresharedKey.PROOF_SIZE;
            case DATA -> 3;
            default -> 0;
        };
    }

    private static ProtocolException rejected(byte[] header) {
        return assertThrows(ProtocolException.class, () -> Wire.readHeader(header, 0));
    }

    // ------------------------------------------------------------------ round trips

    @ParameterizedTest
    @EnumSource(FrameType.class)
    void encodedFrameOfEveryTypeReadsBackWithTheSameFields(FrameType type) throws ProtocolException {
        byte[] payload = new byte[payloadSizeFor(type)];
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) (i * 37 + 1);
        }
        Frame frame = new Frame(type, 123_456_789_012L, Long.MAX_VALUE, payload);

        byte[] bytes = Wire.encode(frame);

        assertEquals(Wire.HEADER_SIZE + payload.length, bytes.length);
        Wire.Header h = Wire.readHeader(bytes, 0);
        assertEquals(type, h.type());
        assertEquals(payload.length, h.length());
        assertEquals(123_456_789_012L, h.seq());
        assertEquals(Long.MAX_VALUE, h.ack());
        assertArrayEquals(payload, Arrays.copyOfRange(bytes, Wire.HEADER_SIZE, bytes.length));
    }

    @Test
    void largestDataFrameRoundTrips() throws ProtocolException {
        byte[] payload = new byte[Wire.MAX_DATA];
        Arrays.fill(payload, (byte) 0x5a);

        byte[] bytes = Wire.encode(new Frame(FrameType.DATA, 0, 0, payload));

        assertEquals(Wire.MAX_FRAME, bytes.length);
        assertEquals(Wire.MAX_DATA, Wire.readHeader(bytes, 0).length());
    }

    @Test
    void encoderWritesTheDocumentedBigEndianHeaderLayout() {
        byte[] bytes = Wire.encode(FrameType.DATA, 0x0102030405060708L, 0x1112131415161718L,
                new byte[] {9, 8, 7, 6}, 1, 2);

        byte[] expected = {
            0x52, 0x50, 0x02, 0x04,
            0x00, 0x00, 0x00, 0x02,
            0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
            0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18,
            8, 7,
        };
        assertArrayEquals(expected, bytes);
    }

    @Test
    void frameTypeCodesAreTheDocumentedWireCodes() {
        assertEquals(1, FrameType.HELLO.code());
        assertEquals(2, FrameType.WELCOME.code());
        assertEquals(3, FrameType.HEARTBEAT.code());
        assertEquals(4, FrameType.DATA.code());
        assertEquals(5, FrameType.ACK.code());
        assertEquals(6, FrameType.END.code());
        assertEquals(7, FrameType.CHALLENGE.code());
        assertEquals(8, FrameType.PROOF.code());
        assertEquals(9, FrameType.ABORT.code());
        assertEquals(10, FrameType.STOPPING.code());
    }

    @Test
    void versionTwoIsTheHalfCloseProtocol() {
        assertEquals(2, Wire.VERSION, "END counts in the sequence space, ABORT and STOPPING exist");
    }

    @Test
    void decoderReadsAHeaderAtAnOffset() throws ProtocolException {
        byte[] h = header(0x5250, Wire.VERSION, DATA, 5, 42, 43);
        byte[] padded = new byte[10 + h.length];
        Arrays.fill(padded, (byte) 0xff);
        System.arraycopy(h, 0, padded, 10, h.length);

        Wire.Header read = Wire.readHeader(padded, 10);

        assertEquals(new Wire.Header(FrameType.DATA, 5, 42, 43), read);
    }

    @Test
    void decoderAcceptsTheLargestSeqAndAck() throws ProtocolException {
        Wire.Header h = Wire.readHeader(header(0x5250, Wire.VERSION, HEARTBEAT, 0, Long.MAX_VALUE, Long.MAX_VALUE), 0);

        assertEquals(Long.MAX_VALUE, h.seq());
        assertEquals(Long.MAX_VALUE, h.ack());
    }

    // ------------------------------------------------------------------ malformed incoming headers

    @Test
    void decoderRejectsBadMagicNamingTheValue() {
        ProtocolException e = rejected(header(0x4854, 1, DATA, 1, 0, 0));

        assertTrue(e.getMessage().contains("magic"), e.getMessage());
        assertTrue(e.getMessage().contains("0x4854"), e.getMessage());
    }

    @Test
    void decoderChecksMagicBeforeVersionSoAnHttpRequestIsNotCalledAnotherVersion() {
        byte[] http = "GET / HTTP/1.1\r\nHost: x\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII);

        ProtocolException e = rejected(Arrays.copyOf(http, Wire.HEADER_SIZE));

        assertEquals(ProtocolException.class, e.getClass());
        assertTrue(e.getMessage().contains("magic"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 3, 255})
    void decoderRejectsUnknownVersionWithUnsupportedVersionExceptionCarryingIt(int version) {
        ProtocolException e = rejected(header(0x5250, version, DATA, 1, 0, 0));

        UnsupportedVersionException u = assertInstanceOf(UnsupportedVersionException.class, e);
        assertEquals(version, u.version());
        assertTrue(e.getMessage().contains("version " + version), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 11, 255})
    void decoderRejectsUnknownFrameTypeNamingTheCode(int type) {
        ProtocolException e = rejected(header(0x5250, Wire.VERSION, type, 0, 0, 0));

        assertEquals(ProtocolException.class, e.getClass());
        assertTrue(e.getMessage().contains("type " + type), e.getMessage());
    }

    @Test
    void decoderRejectsDataWithEmptyPayload() {
        ProtocolException e = rejected(validHeader(DATA, 0));

        assertTrue(e.getMessage().contains("DATA"), e.getMessage());
        assertTrue(e.getMessage().contains("length 0"), e.getMessage());
    }

    @Test
    void decoderRejectsDataLongerThanTheMaximum() {
        ProtocolException e = rejected(validHeader(DATA, Wire.MAX_DATA + 1));

        assertTrue(e.getMessage().contains("length " + (Wire.MAX_DATA + 1)), e.getMessage());
    }

    @ParameterizedTest
    @EnumSource(value = FrameType.class, names = {"HEARTBEAT", "ACK", "END", "ABORT", "STOPPING"})
    void decoderRejectsControlFrameWithPayload(FrameType type) {
        ProtocolException e = rejected(validHeader(type.code(), 1));

        assertTrue(e.getMessage().contains(type.name()), e.getMessage());
        assertTrue(e.getMessage().contains("length 1"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(ints = {0, Handshake.SIZE - 1, Handshake.SIZE + 1})
    void decoderRejectsHelloOfTheWrongSize(int length) {
        ProtocolException e = rejected(validHeader(HELLO, length));

        assertTrue(e.getMessage().contains("HELLO"), e.getMessage());
        assertTrue(e.getMessage().contains("length " + length), e.getMessage());
    }

    @Test
    void decoderRejectsWelcomeOfTheWrongSize() {
        ProtocolException e = rejected(validHeader(FrameType.WELCOME.code(), Handshake.SIZE + 1));

        assertTrue(e.getMessage().contains("WELCOME"), e.getMessage());
    }

    @Test
    void decoderRejectsLengthOfAllOnesWithoutWrappingNegative() {
        ProtocolException e = rejected(validHeader(DATA, 0xFFFF_FFFFL));

        assertTrue(e.getMessage().contains("length 4294967295"), e.getMessage());
    }

    @Test
    void decoderRejectsLengthWithTopBitSetEvenForATypeThatAllowsLargePayloads() {
        ProtocolException e = rejected(validHeader(DATA, 0x8000_0001L));

        assertTrue(e.getMessage().contains("length 2147483649"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(longs = {Long.MIN_VALUE, -1L})
    void decoderRejectsSeqWithTopBitSet(long seq) {
        ProtocolException e = rejected(header(0x5250, Wire.VERSION, HEARTBEAT, 0, seq, 0));

        assertTrue(e.getMessage().contains("seq " + Long.toUnsignedString(seq)), e.getMessage());
    }

    @Test
    void decoderRejectsAckWithTopBitSet() {
        ProtocolException e = rejected(header(0x5250, Wire.VERSION, HEARTBEAT, 0, 0, -1L));

        assertTrue(e.getMessage().contains("ack 18446744073709551615"), e.getMessage());
    }

    // ------------------------------------------------------------------ bad outgoing frames are our bug

    @Test
    void encoderRefusesEmptyDataFrame() {
        assertThrows(IllegalArgumentException.class, () -> Wire.encode(new Frame(FrameType.DATA, 0, 0, new byte[0])));
    }

    @Test
    void encoderRefusesDataFrameOverTheMaximum() {
        assertThrows(IllegalArgumentException.class,
                () -> Wire.encode(new Frame(FrameType.DATA, 0, 0, new byte[Wire.MAX_DATA + 1])));
    }

    @Test
    void encoderRefusesHeartbeatWithPayload() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Wire.encode(new Frame(FrameType.HEARTBEAT, 0, 0, new byte[1])));
        assertTrue(e.getMessage().contains("HEARTBEAT"), e.getMessage());
    }

    @Test
    void encoderRefusesHelloOfTheWrongSize() {
        assertThrows(IllegalArgumentException.class,
                () -> Wire.encode(new Frame(FrameType.HELLO, 0, 0, new byte[Handshake.SIZE - 1])));
    }

    @Test
    void encoderRefusesNegativeSeq() {
        assertThrows(IllegalArgumentException.class, () -> Wire.encode(Frame.control(FrameType.ACK, -1, 0)));
    }

    @Test
    void encoderRefusesNegativeAck() {
        assertThrows(IllegalArgumentException.class, () -> Wire.encode(Frame.control(FrameType.ACK, 0, Long.MIN_VALUE)));
    }

    @Test
    void writeHeaderRefusesALengthTheTypeDoesNotAllow() {
        byte[] dst = new byte[Wire.HEADER_SIZE];

        assertThrows(IllegalArgumentException.class, () -> Wire.writeHeader(dst, FrameType.END, 4, 0, 0));
        assertArrayEquals(new byte[Wire.HEADER_SIZE], dst, "nothing written for a refused header");
    }
}
