package net.roamproxy.hardening;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.SplittableRandom;

import net.roamproxy.testkit.RawLink;
import net.roamproxy.wire.Frame;
import net.roamproxy.wire.FrameType;
import net.roamproxy.wire.Handshake;
import net.roamproxy.wire.Hello;
import net.roamproxy.wire.KeyShare;
import net.roamproxy.wire.Wire;

/**
 * Byte strings a stranger sends to sproxy's port, each with the word the WARN line must use
 * to name what was wrong. Header offsets are those of {@link Wire}'s layout
 * documented in {@link Wire}.
 */
enum Hostile {
    /** A scanner speaking HTTP. */
    HTTP_PROBE("magic"),
    /** Random bytes (first byte not 'R'). */
    RANDOM_GARBAGE("magic"),
    ALL_ZERO_HEADER("magic"),
    ALL_FF_HEADER("magic"),
    UNKNOWN_VERSION("version"),
    UNKNOWN_TYPE("type"),
    /** A HELLO header claiming 4 GiB - 1 of payload. */
    HELLO_LENGTH_4_GIB("length"),
    /** A DATA header claiming one byte more than the maximum. */
    DATA_LENGTH_OVER_MAXIMUM("length"),
    /** A HELLO whose window is zero. */
    HELLO_WITH_ZERO_WINDOW("window"),
    /** A DATA frame where the HELLO must come: refused by its header, its payload never read. */
    DATA_INSTEAD_OF_HELLO("expected a HELLO");

    static final int VERSION_OFFSET = 2;
    static final int TYPE_OFFSET = 3;
    static final int LENGTH_OFFSET = 4;
    /** Offset of the window in a HELLO payload, per {@link Hello}'s documented layout. */
    static final int WINDOW_OFFSET_IN_HELLO = 1 + 8 + Handshake.NONCE_SIZE + Handshake.KEY_SIZE;

    private final String reasonWord;

    Hostile(String reasonWord) {
        this.reasonWord = reasonWord;
    }

    /** A word the WARN line must contain (case-insensitive) to name the reason. */
    String reasonWord() {
        return reasonWord;
    }

    byte[] bytes(long seed) {
        SplittableRandom rnd = new SplittableRandom(seed);
        return switch (this) {
            case HTTP_PROBE -> "GET / HTTP/1.1\r\nHost: sproxy\r\nUser-Agent: scanner\r\n\r\n"
                    .getBytes(StandardCharsets.US_ASCII);
            case RANDOM_GARBAGE -> {
                byte[] b = new byte[4096];
                rnd.nextBytes(b);
                b[0] = (byte) 'G';
                yield b;
            }
            case ALL_ZERO_HEADER -> new byte[Wire.HEADER_SIZE];
            case ALL_FF_HEADER -> filled(Wire.HEADER_SIZE, 0xff);
            case UNKNOWN_VERSION -> {
                byte[] b = hello();
                b[VERSION_OFFSET] = (byte) (Wire.VERSION + 1);
                yield b;
            }
            case UNKNOWN_TYPE -> {
                byte[] b = sealedHeader(FrameType.HEARTBEAT, 0);
                b[TYPE_OFFSET] = (byte) 200;
                yield b;
            }
            case HELLO_LENGTH_4_GIB -> {
                byte[] b = Arrays.copyOf(hello(), Wire.HEADER_SIZE);
                putU32(b, LENGTH_OFFSET, 0xffff_ffffL);
                yield b;
            }
            case DATA_LENGTH_OVER_MAXIMUM -> {
                byte[] b = sealedHeader(FrameType.DATA, 1);
                putU32(b, LENGTH_OFFSET, Wire.MAX_DATA + Wire.TAG_SIZE + 1L);
                yield b;
            }
            case HELLO_WITH_ZERO_WINDOW -> {
                byte[] b = hello();
                putU32(b, Wire.HEADER_SIZE + WINDOW_OFFSET_IN_HELLO, 0);
                yield b;
            }
            case DATA_INSTEAD_OF_HELLO -> Arrays.copyOf(sealedHeader(FrameType.DATA, 2),
                    Wire.HEADER_SIZE + 2 + Wire.TAG_SIZE);
        };
    }

    /** A valid HELLO for a new session. */
    static byte[] hello() {
        return Wire.encode(new Frame(FrameType.HELLO, 0, 0,
                Hello.forNew(KeyShare.generate().publicKey(), RawLink.WINDOW, "").encode()));
    }

    /** The header of a sealed frame with {@code plainLength} bytes of payload (followed by nothing). */
    static byte[] sealedHeader(FrameType type, int plainLength) {
        byte[] b = new byte[Wire.HEADER_SIZE];
        Wire.writeHeader(b, type, plainLength, 0, 0);
        return b;
    }

    static byte[] filled(int n, int value) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) value);
        return b;
    }

    static void putU32(byte[] b, int off, long v) {
        for (int i = 0; i < 4; i++) {
            b[off + i] = (byte) (v >>> (24 - 8 * i));
        }
    }
}
