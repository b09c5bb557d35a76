package net.roamproxy.wire;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.Test;

import net.roamproxy.session.Link;
import net.roamproxy.testkit.MemorySocket;
import net.roamproxy.testkit.TestKeys;

/**
 * The link's one frame writer, one method per frame type: the handshake's clear frames go out
 * as encoded and come back as sent, every other frame needs the link's keys and is read back by
 * the peer's reader under the matching ones.
 */
class FrameWriterTest {
    /** Generous: the frames are already in memory when the peer reads, so this is never waited out. */
    private static final int READ_TIMEOUT_MS = 10_000;
    private static final Welcome WELCOME = new Welcome(Handshake.Status.RESUMED, 5, new byte[Handshake.NONCE_SIZE],
            new byte[Handshake.KEY_SIZE], 1 << 16, new byte[0], Handshake.randomBytes(Handshake.MAC_SIZE));

    /** Our end, writing, and the peer's end, reading; {@code client} says which side we are. */
    private record Ends(FrameWriter<Link> writer, Link peer, MemorySocket peerSocket) {
        static Ends keyed(boolean client) throws IOException {
            Ends e = unkeyed();
            if (client) {
                TestKeys.asClient(e.writer.link());
                TestKeys.asServer(e.peer);
            } else {
                TestKeys.asServer(e.writer.link());
                TestKeys.asClient(e.peer);
            }
            return e;
        }

        static Ends unkeyed() throws IOException {
            MemorySocket[] pair = MemorySocket.pair();
            return new Ends(new FrameWriter<>(new Link(pair[0]), "test"), new Link(pair[1]), pair[1]);
        }

        Frame read() throws IOException {
            return peer.read(READ_TIMEOUT_MS);
        }

        /** The peer's next frame, with the bytes it arrived as. */
        byte[] readWire() throws IOException {
            peer.keepNextWire();
            read();
            return peer.lastWire();
        }

        /** That nothing was sent: the peer's read, woken, finds no byte. */
        void assertNothingSent() {
            peerSocket.wakeReader();
            assertThrows(SocketTimeoutException.class, () -> peer.read(READ_TIMEOUT_MS));
        }
    }

    @Test
    void helloGoesOutInClearAndIsReturnedAsSent() throws IOException {
        Ends e = Ends.unkeyed();
        Hello hello = Hello.forNew(new byte[Handshake.KEY_SIZE], 1 << 16, "ssh");

        byte[] sent = e.writer.hello(42, hello);

        assertArrayEquals(Wire.encode(new Frame(FrameType.HELLO, 0, 42, hello.encode())), sent);
        Frame f = e.read();
        assertEquals(42, f.ack());
        assertEquals(hello, Hello.decode(f));
    }

    @Test
    void welcomeGoesOutInClearWithItsSeqAndAckAndIsReturnedAsSent() throws IOException {
        Ends e = Ends.unkeyed();

        byte[] sent = e.writer.welcome(10, 20, WELCOME);

        Frame expected = new Frame(FrameType.WELCOME, 10, 20, WELCOME.encode());
        assertArrayEquals(Wire.encode(expected), sent);
        assertArrayEquals(sent, FrameWriter.encode(FrameType.WELCOME, 10, 20, WELCOME.encode()));
        assertEquals(expected, e.read());
    }

    @Test
    void refusedGoesOutInClearEvenOnALinkWithKeys() throws IOException {
        Ends e = Ends.keyed(false);
        Refusal refusal = new Refusal(Handshake.Status.AUTH_FAILED, new byte[Refusal.SIGNED_AUTH_SIZE]);

        byte[] sent = e.writer.refused(refusal);

        assertArrayEquals(Wire.encode(new Frame(FrameType.REFUSED, 0, 0, refusal.encode())), sent);
        assertEquals(refusal, Refusal.decode(e.read()));
    }

    @Test
    void everySealedFrameNeedsTheLinksKeysAndNothingIsSentWithout() throws IOException {
        Ends e = Ends.unkeyed();
        byte[] data = new byte[Wire.HEADER_SIZE + 1 + Wire.TAG_SIZE];
        List<IoAction> sealed = List.of(
                () -> e.writer.proof(new byte[Handshake.MAC_SIZE]),
                () -> e.writer.token(new byte[Handshake.MAC_SIZE]),
                () -> e.writer.data(data, 1, 0, 0),
                () -> e.writer.heartbeat(0, 0),
                () -> e.writer.ack(0, 0),
                () -> e.writer.end(0, 0),
                () -> e.writer.abort(0, 0),
                () -> e.writer.stopping(0, 0));

        for (IoAction a : sealed) {
            assertThrows(IllegalStateException.class, a::run);
        }
        e.assertNothingSent();
    }

    @Test
    void proofIsSealedAndReturnedAsTheBytesThePeerReceived() throws IOException {
        Ends e = Ends.keyed(true);
        byte[] mac = Handshake.randomBytes(Handshake.MAC_SIZE);

        byte[] sent = e.writer.proof(mac);

        assertEquals(Wire.HEADER_SIZE + Handshake.MAC_SIZE + Wire.TAG_SIZE, sent.length);
        e.peer.keepNextWire();
        assertEquals(new Frame(FrameType.PROOF, 0, 0, mac), e.read());
        assertArrayEquals(e.peer.lastWire(), sent);
    }

    @Test
    void tokenIsSealedAndThePeerOpensIt() throws IOException {
        Ends e = Ends.keyed(false);
        byte[] token = Handshake.randomBytes(Handshake.MAC_SIZE);

        e.writer.token(token);

        assertEquals(new Frame(FrameType.TOKEN, 0, 0, token), e.read());
    }

    @Test
    void dataIsFramedAndSealedInPlaceInTheCallersBufferUsingTheRoomLeftForTheTag() throws IOException {
        Ends e = Ends.keyed(false);
        byte[] plain = {1, 2, 3};
        byte[] frame = new byte[Wire.HEADER_SIZE + plain.length + Wire.TAG_SIZE];
        System.arraycopy(plain, 0, frame, Wire.HEADER_SIZE, plain.length);

        e.writer.data(frame, plain.length, 11, 21);

        assertArrayEquals(e.readWire(), frame, "the buffer now holds the frame as sent, tag included");
    }

    @Test
    void dataReadsBackAsItsPlaintextWithItsSeqAndAck() throws IOException {
        Ends e = Ends.keyed(false);
        byte[] frame = new byte[Wire.HEADER_SIZE + Wire.MAX_DATA + Wire.TAG_SIZE];
        Arrays.fill(frame, Wire.HEADER_SIZE, Wire.HEADER_SIZE + Wire.MAX_DATA, (byte) 0x61);

        e.writer.data(frame, Wire.MAX_DATA, 11, 21);

        Frame f = e.read();
        assertEquals(FrameType.DATA, f.type());
        assertEquals(11, f.seq());
        assertEquals(21, f.ack());
        assertArrayEquals(filled(Wire.MAX_DATA, 0x61), f.payload());
    }

    @Test
    void eachControlFrameIsSealedWithItsSeqAndAckAfterAProofInTheSharedBuffer() throws IOException {
        Ends e = Ends.keyed(true);
        e.writer.proof(Handshake.randomBytes(Handshake.MAC_SIZE));

        e.writer.heartbeat(12, 22);
        e.writer.ack(13, 23);
        e.writer.end(14, 24);
        e.writer.abort(15, 25);
        e.writer.stopping(16, 26);

        assertEquals(FrameType.PROOF, e.read().type());
        assertEquals(Frame.control(FrameType.HEARTBEAT, 12, 22), e.read());
        assertEquals(Frame.control(FrameType.ACK, 13, 23), e.read());
        assertEquals(Frame.control(FrameType.END, 14, 24), e.read());
        assertEquals(Frame.control(FrameType.ABORT, 15, 25), e.read());
        assertEquals(Frame.control(FrameType.STOPPING, 16, 26), e.read());
    }

    @Test
    void aControlFrameOnTheWireIsAHeaderAndATag() throws IOException {
        Ends e = Ends.keyed(false);

        e.writer.heartbeat(1, 2);

        byte[] wire = e.readWire();
        assertEquals(Wire.HEADER_SIZE + Wire.TAG_SIZE, wire.length);
        assertEquals(new Wire.Header(FrameType.HEARTBEAT, Wire.TAG_SIZE, 1, 2), Wire.readHeader(wire, 0));
    }

    /** A write that a test expects to fail without I/O. */
    private interface IoAction {
        void run() throws IOException;
    }

    private static byte[] filled(int n, int value) {
        byte[] b = new byte[n];
        Arrays.fill(b, (byte) value);
        return b;
    }
}
