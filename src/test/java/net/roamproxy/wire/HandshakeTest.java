package net.roamproxy.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import net.roamproxy.wire.Handshake.Mode;
import net.roamproxy.wire.Handshake.Status;

/**
 * The HELLO payload and the handshake's codes: the documented layout, round trips, and every
 * malformed field refused. The answers, WELCOME and REFUSED, are {@link HandshakeAnswersTest}'s.
 */
class HandshakeTest {
    static final HexFormat HEX = HexFormat.of();
    static final byte[] NONCE = HEX.parseHex("a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf");
    static final byte[] SHARE = HEX.parseHex("0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20");
    /** Offset of the window in a HELLO or WELCOME payload, as their javadoc draws them. */
    static final int WINDOW_AT = 73;

    private static Frame hello(byte[] payload) {
        return new Frame(FrameType.HELLO, 0, 0, payload);
    }

    private static byte[] newHello(String service) {
        return new Hello(Mode.NEW, 0, NONCE, SHARE, 1, service).encode();
    }

    private static ProtocolException refused(byte[] payload, String word) {
        ProtocolException e = assertThrows(ProtocolException.class, () -> Hello.decode(hello(payload)));
        assertTrue(e.getMessage().contains(word), "'" + word + "' not in: " + e.getMessage());
        return e;
    }

    @Test
    void aHelloFollowsTheDocumentedLayout() {
        byte[] b = new Hello(Mode.RESUME, 0x1122334455667788L, NONCE, SHARE, 65536, "").encode();

        assertEquals("02" + "1122334455667788" + HEX.formatHex(NONCE) + HEX.formatHex(SHARE) + "00010000" + "00",
                HEX.formatHex(b));
        assertEquals(Hello.MIN_SIZE, b.length);
    }

    @Test
    void aNewSessionsHelloCarriesItsServiceNameAfterItsLength() throws ProtocolException {
        byte[] b = newHello("ssh");

        assertEquals(Hello.MIN_SIZE + 3, b.length);
        assertEquals("03" + "737368", HEX.formatHex(b, Hello.MIN_SIZE - 1, b.length));
        assertEquals("ssh", Hello.decode(hello(b)).service());
    }

    @Test
    void aHelloRoundTripsInBothModesAndWithTheLongestServiceName() throws ProtocolException {
        for (Hello h : new Hello[] {new Hello(Mode.NEW, 0, NONCE, SHARE, 4096, ""),
            new Hello(Mode.NEW, 0, NONCE, SHARE, Integer.MAX_VALUE, "a".repeat(Hello.MAX_SERVICE_LENGTH)),
            new Hello(Mode.RESUME, 42, NONCE, SHARE, 1, "")}) {
            assertEquals(h, Hello.decode(hello(h.encode())));
        }
        assertEquals(Hello.MAX_SIZE, newHello("a".repeat(Hello.MAX_SERVICE_LENGTH)).length);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 3, 255})
    void aHelloWithAnUnknownModeIsRefusedNamingTheCode(int code) {
        byte[] b = newHello("");
        b[0] = (byte) code;

        refused(b, "mode " + code);
    }

    @Test
    void aNewSessionsHelloWithASessionIdIsRefused() {
        byte[] b = newHello("");
        Wire.putLong(b, 1, 7);

        refused(b, "NEW with session id 0000000000000007");
    }

    @Test
    void aResumeOfSessionZeroIsRefused() {
        byte[] b = new Hello(Mode.RESUME, 1, NONCE, SHARE, 1, "").encode();
        Wire.putLong(b, 1, 0);

        refused(b, "RESUME with session id 0000000000000000");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 0x80000000, 0xffffffff})
    void aHelloWhoseWindowIsZeroOrNegativeIsRefused(int window) {
        byte[] b = newHello("");
        Wire.putInt(b, WINDOW_AT, window);

        refused(b, "window " + Integer.toUnsignedString(window));
    }

    @ParameterizedTest
    @ValueSource(strings = {"Ssh", "-ssh", "s h", "ssh\u0000", "\u00e9t\u00e9", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"})
    void aServiceNameThatIsNotValidIsRefusedAndNotEchoedUnprintable(String name) {
        byte[] raw = name.getBytes(StandardCharsets.ISO_8859_1);
        byte[] b = Arrays.copyOf(newHello(""), Hello.MIN_SIZE + raw.length);
        b[Hello.MIN_SIZE - 1] = (byte) raw.length;
        System.arraycopy(raw, 0, b, Hello.MIN_SIZE, raw.length);

        ProtocolException e = refused(b, "service");
        assertTrue(e.getMessage().chars().allMatch(c -> c >= ' ' && c <= '~'), "printable: " + e.getMessage());
    }

    @Test
    void aResumeCarryingAServiceNameIsRefused() {
        byte[] b = newHello("ssh");
        b[0] = (byte) Mode.RESUME.code();
        Wire.putLong(b, 1, 9);

        refused(b, "service");
    }

    @ParameterizedTest
    @ValueSource(ints = {-1, 1, 30})
    void aHelloWhoseServiceLengthDisagreesWithItsSizeIsRefused(int lie) {
        byte[] b = newHello("ssh");
        b[Hello.MIN_SIZE - 1] = (byte) (3 + lie);

        refused(b, "service name's length");
    }

    @Test
    void aHelloShorterThanItsFixedFieldsOrOfAnotherTypeIsRefused() {
        refused(new byte[Hello.MIN_SIZE - 1], "HELLO payload");
        assertThrows(ProtocolException.class, () -> Hello.decode(new Frame(FrameType.WELCOME, 0, 0, newHello(""))));
    }

    @Test
    void ourOwnMalformedHelloIsABugNotAPeerError() {
        assertThrows(IllegalArgumentException.class, () -> new Hello(Mode.NEW, 0, new byte[31], SHARE, 1, ""));
        assertThrows(IllegalArgumentException.class, () -> new Hello(Mode.NEW, 0, NONCE, new byte[33], 1, ""));
        assertThrows(IllegalArgumentException.class, () -> new Hello(Mode.NEW, 0, NONCE, SHARE, 0, ""));
        assertThrows(IllegalArgumentException.class, () -> new Hello(Mode.NEW, 0, NONCE, SHARE, 1, "no spaces"));
        assertThrows(IllegalArgumentException.class, () -> new Hello(Mode.RESUME, 3, NONCE, SHARE, 1, "ssh"));
    }

    @Test
    void decodedFieldsDoNotShareTheFramesPayloadArray() throws ProtocolException {
        byte[] payload = newHello("");
        Hello h = Hello.decode(hello(payload));
        payload[9] ^= 1;
        payload[41] ^= 1;

        assertArrayEquals(NONCE, h.nonce());
        assertArrayEquals(SHARE, h.keyShare());
        assertNotSame(payload, h.keyShare());
    }

    @Test
    void everyHelloHasAFreshNonceAndTheKeyShareItWasGiven() {
        Set<String> nonces = new HashSet<>();
        for (int i = 0; i < 50; i++) {
            Hello fresh = Hello.forNew(SHARE, 1, "");
            Hello resume = Hello.forResume(5, SHARE, 1);
            nonces.add(HEX.formatHex(fresh.nonce()));
            nonces.add(HEX.formatHex(resume.nonce()));
            assertArrayEquals(SHARE, resume.keyShare(), "a resume carries a key share of its own");
        }
        assertEquals(100, nonces.size());
    }

    @Test
    void wireCodesAreExplicitAndNeverRenumbered() {
        assertEquals(1, Mode.NEW.code());
        assertEquals(2, Mode.RESUME.code());
        // 8 and 9 were version 2's BAD_PROOF and TLS_REQUIRED: retired, never reused.
        int[] codes = {1, 2, 3, 4, 5, 6, 7, 10, 11};
        Status[] statuses = {Status.NEW_SESSION, Status.RESUMED, Status.UNKNOWN_SESSION, Status.VERSION_MISMATCH,
            Status.TARGET_UNAVAILABLE, Status.BUSY, Status.AUTH_FAILED, Status.UNKNOWN_SERVICE, Status.WRONG_INSTANCE};
        for (int i = 0; i < codes.length; i++) {
            assertEquals(codes[i], statuses[i].code(), statuses[i].name());
        }
        assertEquals(EnumSet.allOf(Status.class), Set.of(statuses), "every status has a frozen code above");
    }

    @Test
    void onlyNewSessionAndResumedAccept() {
        for (Status s : Status.values()) {
            assertEquals(s == Status.NEW_SESSION || s == Status.RESUMED, s.accepted(), s.name());
        }
    }

    @Test
    void anIdIsSixteenHexDigits() {
        assertEquals("00000000000000ff", Handshake.idText(255));
        assertEquals("ffffffffffffffff", Handshake.idText(-1));
    }
}
