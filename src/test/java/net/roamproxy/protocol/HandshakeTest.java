package net.roamproxy.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Base64;
import java.util.EnumSet;
import java.util.HexFormat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The HELLO / WELCOME payload: layout, round trips, validation, and keeping the secret out of logs. */
class HandshakeTest {

    private static byte[] secret() {
        byte[] s = new byte[Handshake.SECRET_SIZE];
        for (int i = 0; i < s.length; i++) {
            s[i] = (byte) (0xA0 + i);
        }
        return s;
    }

    private static byte[] nonce() {
        byte[] n = new byte[Handshake.NONCE_SIZE];
        for (int i = 0; i < n.length; i++) {
            n[i] = (byte) (0x10 + i);
        }
        return n;
    }

    /** A payload built by hand, as the javadoc of {@link Handshake} lays it out. */
    private static byte[] payload(int code, long sessionId, byte[] secret, int window) {
        return ByteBuffer.allocate(Handshake.SIZE).put((byte) code).putLong(sessionId).put(secret).putInt(window)
                .put(nonce()).array();
    }

    private static Frame frame(FrameType type, byte[] payload) {
        return new Frame(type, 0, 0, payload);
    }

    @ParameterizedTest
    @EnumSource(Handshake.Mode.class)
    void helloRoundTripsThroughEncodeAndDecode(Handshake.Mode mode) throws ProtocolException {
        Handshake hello = Handshake.hello(mode, 0x1234_5678_9abc_def0L, secret(), 1 << 20);

        Handshake back = Handshake.decode(frame(FrameType.HELLO, hello.encode()));

        assertEquals(hello, back);
        assertEquals(mode, back.mode());
        assertEquals(0x1234_5678_9abc_def0L, back.sessionId());
        assertArrayEquals(secret(), back.secret());
        assertEquals(1 << 20, back.window());
    }

    @ParameterizedTest
    @EnumSource(Handshake.Status.class)
    void welcomeRoundTripsThroughEncodeAndDecode(Handshake.Status status) throws ProtocolException {
        Handshake welcome = Handshake.welcome(status, -2L, secret(), Integer.MAX_VALUE);

        Handshake back = Handshake.decode(frame(FrameType.WELCOME, welcome.encode()));

        assertEquals(welcome, back);
        assertEquals(status, back.status());
        assertEquals(-2L, back.sessionId());
        assertEquals(Integer.MAX_VALUE, back.window());
    }

    @Test
    void encodingFollowsTheDocumentedLayout() {
        Handshake h = new Handshake(Handshake.Status.RESUMED.code(), 0x0102030405060708L, secret(), 65536, nonce());

        assertArrayEquals(payload(1, 0x0102030405060708L, secret(), 65536), h.encode());
    }

    @Test
    void handshakeTravelsInsideAFrameThroughTheWire() throws ProtocolException {
        Handshake hello = Handshake.hello(Handshake.Mode.RESUME, 99, secret(), 4096);
        byte[] wire = Wire.encode(frame(FrameType.HELLO, hello.encode()));

        Wire.Header h = Wire.readHeader(wire, 0);
        byte[] p = Arrays.copyOfRange(wire, Wire.HEADER_SIZE, Wire.HEADER_SIZE + h.length());

        assertEquals(hello, Handshake.decode(frame(h.type(), p)));
    }

    @ParameterizedTest
    @ValueSource(ints = {2, 7, 255})
    void helloWithUnknownModeCodeIsRejectedNamingTheCode(int code) {
        ProtocolException e = assertThrows(ProtocolException.class,
                () -> Handshake.decode(frame(FrameType.HELLO, payload(code, 1, secret(), 100))));

        assertTrue(e.getMessage().contains("HELLO"), e.getMessage());
        assertTrue(e.getMessage().contains("code " + code), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(ints = {7, 128, 255})
    void welcomeWithUnknownStatusCodeIsRejectedNamingTheCode(int code) {
        ProtocolException e = assertThrows(ProtocolException.class,
                () -> Handshake.decode(frame(FrameType.WELCOME, payload(code, 1, secret(), 100))));

        assertTrue(e.getMessage().contains("WELCOME"), e.getMessage());
        assertTrue(e.getMessage().contains("code " + code), e.getMessage());
    }

    @Test
    void zeroWindowIsRejected() {
        ProtocolException e = assertThrows(ProtocolException.class,
                () -> Handshake.decode(frame(FrameType.HELLO, payload(0, 0, secret(), 0))));

        assertTrue(e.getMessage().contains("window 0"), e.getMessage());
    }

    @Test
    void windowWithTopBitSetIsRejectedAsNotPositive() {
        ProtocolException e = assertThrows(ProtocolException.class,
                () -> Handshake.decode(frame(FrameType.WELCOME, payload(0, 0, secret(), 0x8000_0000))));

        assertTrue(e.getMessage().contains("window 2147483648"), e.getMessage());
    }

    @Test
    void payloadOfTheWrongSizeIsRejected() {
        byte[] shortPayload = Arrays.copyOf(payload(0, 0, secret(), 10), Handshake.SIZE - 1);

        assertThrows(ProtocolException.class, () -> Handshake.decode(frame(FrameType.HELLO, shortPayload)));
    }

    @Test
    void frameThatIsNeitherHelloNorWelcomeIsRejected() {
        ProtocolException e = assertThrows(ProtocolException.class,
                () -> Handshake.decode(frame(FrameType.DATA, payload(0, 0, secret(), 10))));

        assertTrue(e.getMessage().contains("DATA"), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(ints = {0, -1, Integer.MIN_VALUE})
    void constructingWithNonPositiveWindowIsRefused(int window) {
        assertThrows(IllegalArgumentException.class, () -> Handshake.hello(Handshake.Mode.NEW, 0, secret(), window));
    }

    @Test
    void constructingWithASecretOfTheWrongSizeIsRefused() {
        assertThrows(IllegalArgumentException.class,
                () -> Handshake.welcome(Handshake.Status.NEW_SESSION, 1, new byte[Handshake.SECRET_SIZE - 1], 10));
    }

    @Test
    void decodedSecretDoesNotShareTheFramesPayloadArray() throws ProtocolException {
        byte[] p = payload(0, 5, secret(), 10);
        Handshake h = Handshake.decode(frame(FrameType.HELLO, p));

        Arrays.fill(p, (byte) 0);

        assertTrue(h.secretMatches(secret()));
    }

    @Test
    void toStringNeverShowsTheSecretInAnyCommonRendering() {
        byte[] s = secret();
        Handshake h = Handshake.welcome(Handshake.Status.NEW_SESSION, 0x3f9aL, s, 1024);

        String text = h.toString();

        assertTrue(text.contains("3f9a"), "the session id is shown: " + text);
        for (String rendering : new String[] {
            HexFormat.of().formatHex(s),
            HexFormat.of().withUpperCase().formatHex(s),
            HexFormat.of().formatHex(s, 0, 4),
            Arrays.toString(s),
            Base64.getEncoder().encodeToString(s),
            Base64.getEncoder().encodeToString(Arrays.copyOf(s, 6)),
            new String(s, java.nio.charset.StandardCharsets.ISO_8859_1),
        }) {
            assertFalse(text.contains(rendering), "toString leaks the secret as " + rendering + ": " + text);
        }
    }

    @Test
    void secretMatchesOnlyTheIdenticalSecret() {
        Handshake h = Handshake.hello(Handshake.Mode.RESUME, 1, secret(), 10);
        byte[] oneBitOff = secret();
        oneBitOff[15] ^= 1;

        assertTrue(h.secretMatches(secret()));
        assertFalse(h.secretMatches(oneBitOff));
        assertFalse(h.secretMatches(Arrays.copyOf(secret(), 15)));
        assertFalse(h.secretMatches(new byte[Handshake.SECRET_SIZE]));
    }

    @Test
    void onlyNewSessionAndResumedAreAcceptedStatuses() {
        EnumSet<Handshake.Status> accepted = EnumSet.noneOf(Handshake.Status.class);
        for (Handshake.Status s : Handshake.Status.values()) {
            if (s.accepted()) {
                accepted.add(s);
            }
        }

        assertEquals(EnumSet.of(Handshake.Status.NEW_SESSION, Handshake.Status.RESUMED), accepted);
    }

    @Test
    void modeAndStatusCodesAreTheDocumentedWireCodesNotDeclarationOrder() {
        assertEquals(0, Handshake.Mode.NEW.code());
        assertEquals(1, Handshake.Mode.RESUME.code());
        int[] codes = {0, 1, 2, 3, 4, 5, 6};
        Handshake.Status[] statuses = {Handshake.Status.NEW_SESSION, Handshake.Status.RESUMED,
            Handshake.Status.UNKNOWN_SESSION, Handshake.Status.VERSION_MISMATCH, Handshake.Status.TARGET_UNAVAILABLE,
            Handshake.Status.BUSY, Handshake.Status.AUTH_FAILED};
        for (int i = 0; i < codes.length; i++) {
            assertEquals(codes[i], statuses[i].code(), statuses[i].name());
            assertEquals(statuses[i], Handshake.Status.ofCode(codes[i]));
        }
        assertEquals(null, Handshake.Status.ofCode(7));
        assertEquals(null, Handshake.Mode.ofCode(2));
    }

    @Test
    void idTextIsSixteenHexDigits() {
        assertEquals("00000000000003f9", Handshake.idText(0x3f9L));
        assertEquals("ffffffffffffffff", Handshake.idText(-1L));
    }
}
