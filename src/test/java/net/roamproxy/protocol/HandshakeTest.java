package net.roamproxy.protocol;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import net.roamproxy.protocol.Handshake.Mode;
import net.roamproxy.protocol.Handshake.Status;

/** The HELLO and WELCOME payloads: layout, explicit codes, and every malformed field refused. */
class HandshakeTest {
    private static final byte[] SHARE = HexFormat.of().parseHex(
            "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20");
    private static final byte[] NONCE = HexFormat.of().parseHex("a0a1a2a3a4a5a6a7a8a9aaabacadaeaf");
    private static final byte[] PROOF = HexFormat.of().parseHex(
            "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff000102030405060708090a0b0c0d0e0f");

    private static Frame hello(byte[] payload) {
        return new Frame(FrameType.HELLO, 0, 0, payload);
    }

    private static Frame welcome(byte[] payload) {
        return new Frame(FrameType.WELCOME, 0, 0, payload);
    }

    @Test
    void helloEncodingFollowsTheDocumentedLayout() {
        byte[] b = new Hello(Mode.RESUME, 0x1122334455667788L, SHARE, NONCE, 65536, "").encode();

        assertEquals("02" + "1122334455667788" + HexFormat.of().formatHex(SHARE) + HexFormat.of().formatHex(NONCE)
                + "00010000" + "00", HexFormat.of().formatHex(b));
        assertEquals(Hello.SIZE, b.length);
    }

    @Test
    void aNewSessionsHelloCarriesItsServiceNameAfterItsLength() throws ProtocolException {
        byte[] b = new Hello(Mode.NEW, 0, SHARE, NONCE, 1, "ssh").encode();

        assertEquals(Hello.SIZE + 3, b.length);
        assertEquals("03" + "737368", HexFormat.of().formatHex(b, Hello.SIZE - 1, b.length));
        assertEquals("ssh", Hello.decode(hello(b)).service());
    }

    @Test
    void aServiceNameThatIsNotValidOrOnAResumeIsRejected() {
        byte[] upper = new Hello(Mode.NEW, 0, SHARE, NONCE, 1, "ssh").encode();
        upper[Hello.SIZE] = 'S';
        assertTrue(assertThrows(ProtocolException.class, () -> Hello.decode(hello(upper))).getMessage()
                .contains("service"));
        byte[] resume = new Hello(Mode.NEW, 0, SHARE, NONCE, 1, "ssh").encode();
        resume[0] = (byte) Mode.RESUME.code();
        assertThrows(ProtocolException.class, () -> Hello.decode(hello(resume)));
        byte[] lying = new Hello(Mode.NEW, 0, SHARE, NONCE, 1, "ssh").encode();
        lying[Hello.SIZE - 1] = 4; // says 4 bytes, carries 3
        assertThrows(ProtocolException.class, () -> Hello.decode(hello(lying)));
        assertThrows(IllegalArgumentException.class, () -> new Hello(Mode.NEW, 0, SHARE, NONCE, 1, "no spaces"));
    }

    @Test
    void welcomeEncodingFollowsTheDocumentedLayout() {
        byte[] b = new Welcome(Status.RESUMED, 0x0102030405060708L, SHARE, 1 << 20, PROOF).encode();

        assertEquals("02" + "0102030405060708" + HexFormat.of().formatHex(SHARE) + "00100000"
                + HexFormat.of().formatHex(PROOF), HexFormat.of().formatHex(b));
        assertEquals(Welcome.SIZE, b.length);
    }

    @ParameterizedTest
    @EnumSource(Mode.class)
    void helloRoundTrips(Mode mode) throws ProtocolException {
        Hello h = new Hello(mode, 42, SHARE, NONCE, 4096, "");
        assertEquals(h, Hello.decode(hello(h.encode())));
    }

    @ParameterizedTest
    @EnumSource(Status.class)
    void welcomeRoundTrips(Status status) throws ProtocolException {
        Welcome w = new Welcome(status, -7, SHARE, 1, PROOF);
        assertEquals(w, Welcome.decode(welcome(w.encode())));
    }

    @Test
    void wireCodesAreExplicitAndNeverRenumbered() {
        assertEquals(1, Mode.NEW.code());
        assertEquals(2, Mode.RESUME.code());
        int[] codes = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
        Status[] statuses = {Status.NEW_SESSION, Status.RESUMED, Status.UNKNOWN_SESSION, Status.VERSION_MISMATCH,
            Status.TARGET_UNAVAILABLE, Status.BUSY, Status.AUTH_FAILED, Status.BAD_PROOF, Status.TLS_REQUIRED,
            Status.UNKNOWN_SERVICE};
        for (int i = 0; i < codes.length; i++) {
            assertEquals(codes[i], statuses[i].code(), statuses[i].name());
        }
        assertEquals(EnumSet.allOf(Status.class), Set.of(statuses), "every status has a frozen code above");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 3, 255})
    void helloWithAnUnknownModeIsRejectedNamingTheCode(int code) {
        byte[] b = new Hello(Mode.NEW, 0, SHARE, NONCE, 1, "").encode();
        b[0] = (byte) code;
        ProtocolException e = assertThrows(ProtocolException.class, () -> Hello.decode(hello(b)));
        assertTrue(e.getMessage().contains("mode " + code), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 11, 255})
    void welcomeWithAnUnknownStatusIsRejectedNamingTheCode(int code) {
        byte[] b = Welcome.refusal(Status.BUSY).encode();
        b[0] = (byte) code;
        ProtocolException e = assertThrows(ProtocolException.class, () -> Welcome.decode(welcome(b)));
        assertTrue(e.getMessage().contains("status " + code), e.getMessage());
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 0x80000000, 0xffffffff})
    void aWindowThatIsNotPositiveIsRejectedInBoth(int window) {
        byte[] h = new Hello(Mode.NEW, 0, SHARE, NONCE, 1, "").encode();
        Wire.putInt(h, 57, window);
        byte[] w = Welcome.refusal(Status.BUSY).encode();
        Wire.putInt(w, 41, window);

        assertTrue(assertThrows(ProtocolException.class, () -> Hello.decode(hello(h))).getMessage().contains("window"));
        assertTrue(assertThrows(ProtocolException.class, () -> Welcome.decode(welcome(w))).getMessage()
                .contains("window"));
    }

    @Test
    void payloadsOfTheWrongSizeOrTypeAreRejected() {
        assertThrows(ProtocolException.class, () -> Hello.decode(hello(new byte[Hello.SIZE - 1])));
        assertThrows(ProtocolException.class, () -> Welcome.decode(welcome(new byte[Welcome.SIZE + 1])));
        assertThrows(ProtocolException.class, () -> Hello.decode(welcome(new byte[Hello.SIZE])));
        assertThrows(ProtocolException.class, () -> Welcome.decode(hello(new byte[Welcome.SIZE])));
    }

    @Test
    void ourOwnMalformedHandshakesAreBugsNotPeerErrors() {
        assertThrows(IllegalArgumentException.class, () -> new Hello(Mode.NEW, 0, new byte[31], NONCE, 1, ""));
        assertThrows(IllegalArgumentException.class, () -> new Hello(Mode.NEW, 0, SHARE, new byte[15], 1, ""));
        assertThrows(IllegalArgumentException.class, () -> new Hello(Mode.NEW, 0, SHARE, NONCE, 0, ""));
        assertThrows(IllegalArgumentException.class, () -> new Welcome(Status.BUSY, 0, SHARE, 1, new byte[31]));
    }

    @Test
    void decodedFieldsDoNotShareTheFramesPayloadArray() throws ProtocolException {
        byte[] payload = new Hello(Mode.NEW, 0, SHARE, NONCE, 1, "").encode();
        Hello h = Hello.decode(hello(payload));
        payload[9] ^= 1;
        assertArrayEquals(SHARE, h.keyShare());
        assertNotSame(payload, h.keyShare());
    }

    @Test
    void everyHelloForANewSessionHasAFreshNonce() {
        Set<String> nonces = new HashSet<>();
        for (int i = 0; i < 100; i++) {
            nonces.add(HexFormat.of().formatHex(Hello.forNew(SHARE, 1).nonce()));
        }
        assertEquals(100, nonces.size());
        assertArrayEquals(new byte[Handshake.KEY_SIZE], Hello.forResume(5, 1).keyShare(), "a resume sends no key");
    }

    @Test
    void onlyNewSessionAndResumedAreAccepted() {
        for (Status s : Status.values()) {
            assertEquals(s == Status.NEW_SESSION || s == Status.RESUMED, s.accepted(), s.name());
        }
        assertFalse(Welcome.refusal(Status.BAD_PROOF).status().accepted());
    }

    @Test
    void idTextIsSixteenHexDigits() {
        assertEquals("00000000000000ff", Handshake.idText(255));
        assertEquals("ffffffffffffffff", Handshake.idText(-1));
    }
}
