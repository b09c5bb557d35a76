package net.roamproxy.wire;

import static net.roamproxy.wire.HandshakeTest.HEX;
import static net.roamproxy.wire.HandshakeTest.NONCE;
import static net.roamproxy.wire.HandshakeTest.SHARE;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import net.roamproxy.wire.Handshake.Status;

/** sproxy's answers to a HELLO, WELCOME and REFUSED: layout, round trips, every malformed field refused. */
class HandshakeAnswersTest {
    private static final byte[] HOST_KEY = Sealing.filled(Handshake.HOST_KEY_SIZE, 0xc1);
    private static final byte[] SIGNATURE = Sealing.filled(Handshake.SIGNATURE_SIZE, 0x5e);
    private static final byte[] MAC = Sealing.filled(Handshake.MAC_SIZE, 0x3a);

    private static Welcome fresh(long id) {
        return new Welcome(Status.NEW_SESSION, id, NONCE, SHARE, 1 << 20, HOST_KEY, SIGNATURE);
    }

    private static Welcome resumed(long id) {
        return new Welcome(Status.RESUMED, id, NONCE, SHARE, 1 << 16, new byte[0], MAC);
    }

    private static ProtocolException refusedWelcome(byte[] payload, String word) {
        ProtocolException e = assertThrows(ProtocolException.class,
                () -> Welcome.decode(new Frame(FrameType.WELCOME, 0, 0, payload)));
        assertTrue(e.getMessage().contains(word), "'" + word + "' not in: " + e.getMessage());
        return e;
    }

    private static ProtocolException refusedRefusal(byte[] payload, String word) {
        ProtocolException e = assertThrows(ProtocolException.class,
                () -> Refusal.decode(new Frame(FrameType.REFUSED, 0, 0, payload)));
        assertTrue(e.getMessage().contains(word), "'" + word + "' not in: " + e.getMessage());
        return e;
    }

    // ------------------------------------------------------------------ WELCOME

    @Test
    void aNewSessionsWelcomeFollowsTheDocumentedLayoutWithItsSignatureLast() {
        byte[] b = fresh(0x0102030405060708L).encode();

        assertEquals("01" + "0102030405060708" + HEX.formatHex(NONCE) + HEX.formatHex(SHARE) + "00100000"
                + HEX.formatHex(HOST_KEY) + HEX.formatHex(SIGNATURE), HEX.formatHex(b));
        assertEquals(Welcome.NEW_SESSION_SIZE, b.length);
    }

    @Test
    void aResumedWelcomeFollowsTheDocumentedLayoutWithItsMacLast() {
        byte[] b = resumed(0x0102030405060708L).encode();

        assertEquals("02" + "0102030405060708" + HEX.formatHex(NONCE) + HEX.formatHex(SHARE) + "00010000"
                + HEX.formatHex(MAC), HEX.formatHex(b));
        assertEquals(Welcome.RESUMED_SIZE, b.length);
    }

    @Test
    void bothWelcomesRoundTripAndWithAuthReplacesOnlyTheAuthentication() throws ProtocolException {
        for (Welcome w : new Welcome[] {fresh(-7), resumed(42)}) {
            assertEquals(w, Welcome.decode(new Frame(FrameType.WELCOME, 0, 0, w.encode())));
        }
        Welcome unsigned = fresh(3).withAuth(new byte[Handshake.SIGNATURE_SIZE]);
        assertEquals(fresh(3), unsigned.withAuth(SIGNATURE));
        assertArrayEquals(Arrays.copyOf(fresh(3).encode(), Welcome.NEW_SESSION_SIZE - Handshake.SIGNATURE_SIZE),
                Arrays.copyOf(unsigned.encode(), Welcome.NEW_SESSION_SIZE - Handshake.SIGNATURE_SIZE),
                "the frame without its signature is a prefix of the frame");
    }

    @Test
    void aWelcomeOfTheOtherStatussSizeIsRefused() {
        byte[] resumedSized = Arrays.copyOf(fresh(5).encode(), Welcome.RESUMED_SIZE);
        byte[] freshSized = Arrays.copyOf(resumed(5).encode(), Welcome.NEW_SESSION_SIZE);

        refusedWelcome(resumedSized, "NEW_SESSION payload is " + Welcome.RESUMED_SIZE + " bytes");
        refusedWelcome(freshSized, "RESUMED payload is " + Welcome.NEW_SESSION_SIZE + " bytes");
        refusedWelcome(Arrays.copyOf(resumed(5).encode(), Welcome.RESUMED_SIZE + 1), "expected "
                + Welcome.RESUMED_SIZE);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 8, 9, 12, 255})
    void aWelcomeWithAnUnknownStatusIsRefusedNamingTheCode(int code) {
        byte[] b = resumed(5).encode();
        b[0] = (byte) code;

        refusedWelcome(b, "status " + code);
    }

    @ParameterizedTest
    @EnumSource(value = Status.class, names = {"NEW_SESSION", "RESUMED"}, mode = EnumSource.Mode.EXCLUDE)
    void aWelcomeWithARefusalsStatusIsRefused(Status status) {
        byte[] b = resumed(5).encode();
        b[0] = (byte) status.code();

        refusedWelcome(b, "status " + status + " is a refusal's");
    }

    @Test
    void aWelcomeForSessionZeroIsRefused() {
        refusedWelcome(fresh(0).encode(), "session id 0");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 0x80000000, 0xffffffff})
    void aWelcomeWhoseWindowIsZeroOrNegativeIsRefused(int window) {
        byte[] b = fresh(5).encode();
        Wire.putInt(b, HandshakeTest.WINDOW_AT, window);

        refusedWelcome(b, "window " + Integer.toUnsignedString(window));
    }

    @Test
    void ourOwnMalformedWelcomeIsABugNotAPeerError() {
        assertThrows(IllegalArgumentException.class,
                () -> new Welcome(Status.BUSY, 1, NONCE, SHARE, 1, new byte[0], MAC));
        assertThrows(IllegalArgumentException.class,
                () -> new Welcome(Status.RESUMED, 1, NONCE, SHARE, 1, HOST_KEY, MAC));
        assertThrows(IllegalArgumentException.class,
                () -> new Welcome(Status.NEW_SESSION, 1, NONCE, SHARE, 1, HOST_KEY, MAC));
        assertThrows(IllegalArgumentException.class,
                () -> new Welcome(Status.RESUMED, 1, NONCE, SHARE, 0, new byte[0], MAC));
        assertThrows(IllegalArgumentException.class,
                () -> new Welcome(Status.RESUMED, 1, new byte[16], SHARE, 1, new byte[0], MAC));
    }

    // ------------------------------------------------------------------ REFUSED

    @Test
    void aRefusalIsItsStatusFollowedByItsAuthentication() {
        byte[] auth = Arrays.copyOf(HOST_KEY, Refusal.SIGNED_AUTH_SIZE);
        System.arraycopy(SIGNATURE, 0, auth, Handshake.HOST_KEY_SIZE, Handshake.SIGNATURE_SIZE);
        Refusal signed = new Refusal(Status.UNKNOWN_SERVICE, auth);

        assertEquals("0a" + HEX.formatHex(HOST_KEY) + HEX.formatHex(SIGNATURE), HEX.formatHex(signed.encode()));
        assertTrue(signed.signed());
        assertArrayEquals(HOST_KEY, signed.hostKey());
        assertArrayEquals(SIGNATURE, signed.tag());
        Refusal withMac = new Refusal(Status.UNKNOWN_SESSION, MAC);
        assertFalse(withMac.signed());
        assertArrayEquals(MAC, withMac.tag());
        assertEquals("06", HEX.formatHex(new Refusal(Status.BUSY, new byte[0]).encode()));
    }

    @ParameterizedTest
    @EnumSource(value = Status.class, names = {"NEW_SESSION", "RESUMED"}, mode = EnumSource.Mode.EXCLUDE)
    void everyRefusalRoundTripsWithEachAuthenticationSize(Status status) throws ProtocolException {
        for (int size : new int[] {0, Handshake.MAC_SIZE, Refusal.SIGNED_AUTH_SIZE}) {
            Refusal r = new Refusal(status, Sealing.filled(size, size));
            assertEquals(r, Refusal.decode(new Frame(FrameType.REFUSED, 0, 0, r.encode())));
        }
    }

    @ParameterizedTest
    @EnumSource(value = Status.class, names = {"NEW_SESSION", "RESUMED"})
    void aRefusedFrameWithAnAcceptingStatusIsRefused(Status status) {
        refusedRefusal(new byte[] {(byte) status.code()}, "REFUSED status " + status + " is a WELCOME's");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 8, 9, 12, 255})
    void aRefusedFrameWithAnUnknownStatusIsRefusedNamingTheCode(int code) {
        refusedRefusal(new byte[] {(byte) code}, "status " + code);
    }

    @ParameterizedTest
    @ValueSource(ints = {1, 31, 33, 64, 95})
    void aRefusalAuthenticationOfAnyOtherLengthThanNoneAMacOrASignatureIsRefused(int size) {
        byte[] b = new byte[1 + size];
        b[0] = (byte) Status.UNKNOWN_SESSION.code();

        refusedRefusal(b, "authentication is " + size + " bytes");
    }

    @Test
    void ourOwnMalformedRefusalIsABugAndEachDecoderRefusesTheOthersFrame() {
        assertThrows(IllegalArgumentException.class, () -> new Refusal(Status.RESUMED, new byte[0]));
        assertThrows(IllegalArgumentException.class, () -> new Refusal(Status.BUSY, new byte[64]));
        Frame welcome = new Frame(FrameType.WELCOME, 0, 0, resumed(5).encode());
        Frame refusal = new Frame(FrameType.REFUSED, 0, 0, new Refusal(Status.BUSY, new byte[0]).encode());
        assertThrows(ProtocolException.class, () -> Refusal.decode(welcome));
        assertThrows(ProtocolException.class, () -> Welcome.decode(refusal));
    }
}
