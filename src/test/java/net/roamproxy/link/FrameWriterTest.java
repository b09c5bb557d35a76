package net.roamproxy.link;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;

import org.junit.jupiter.api.Test;

import net.roamproxy.protocol.Frame;
import net.roamproxy.protocol.FrameReader;
import net.roamproxy.protocol.FrameType;
import net.roamproxy.protocol.Handshake;
import net.roamproxy.protocol.Hello;
import net.roamproxy.protocol.Welcome;
import net.roamproxy.protocol.Wire;
import net.roamproxy.testkit.MemorySocket;

/** The session's one frame writer: each method puts exactly its frame on the link, read back by the decoder. */
class FrameWriterTest {

    @Test
    void eachMethodWritesItsFrameTypeWithSeqAndAck() throws IOException {
        MemorySocket[] pair = MemorySocket.pair();
        FrameWriter w = new FrameWriter(new Link(pair[0]), "session t");
        FrameReader r = new FrameReader(pair[1].getInputStream());
        Welcome welcome = new Welcome(Handshake.Status.RESUMED, 5, new byte[Handshake.KEY_SIZE], 1 << 16,
                Handshake.randomBytes(Handshake.PROOF_SIZE));
        byte[] frame = new byte[Wire.HEADER_SIZE + 3];
        System.arraycopy(new byte[] {1, 2, 3}, 0, frame, Wire.HEADER_SIZE, 3);

        w.welcome(10, 20, welcome);
        w.data(frame, 3, 11, 21);
        w.heartbeat(12, 22);
        w.ack(13, 23);
        w.end(14, 24);
        w.abort(15, 25);
        w.stopping(16, 26);

        Frame f = r.next();
        assertEquals(new Frame(FrameType.WELCOME, 10, 20, welcome.encode()), f);
        assertEquals(welcome, Welcome.decode(f));
        Frame data = r.next();
        assertEquals(FrameType.DATA, data.type());
        assertEquals(11, data.seq());
        assertEquals(21, data.ack());
        assertArrayEquals(new byte[] {1, 2, 3}, data.payload());
        assertEquals(Frame.control(FrameType.HEARTBEAT, 12, 22), r.next());
        assertEquals(Frame.control(FrameType.ACK, 13, 23), r.next());
        assertEquals(Frame.control(FrameType.END, 14, 24), r.next());
        assertEquals(Frame.control(FrameType.ABORT, 15, 25), r.next());
        assertEquals(Frame.control(FrameType.STOPPING, 16, 26), r.next());
    }

    @Test
    void theHandshakeFramesGoThroughTheSameWriter() throws IOException {
        MemorySocket[] pair = MemorySocket.pair();
        FrameWriter w = new FrameWriter(new Link(pair[0]), "session t");
        FrameReader r = new FrameReader(pair[1].getInputStream());
        Hello hello = Hello.forNew(new byte[Handshake.KEY_SIZE], 1 << 16, "ssh");
        byte[] nonce = Handshake.randomBytes(Handshake.CHALLENGE_NONCE_SIZE);
        byte[] proof = Handshake.randomBytes(Handshake.PROOF_SIZE);

        w.hello(42, hello);
        w.challenge(nonce);
        w.proof(proof);
        w.refusal(Handshake.Status.UNKNOWN_SERVICE);

        Frame h = r.next();
        assertEquals(FrameType.HELLO, h.type());
        assertEquals(42, h.ack());
        assertEquals(hello, Hello.decode(h));
        assertEquals(new Frame(FrameType.CHALLENGE, 0, 0, nonce), r.next());
        assertEquals(new Frame(FrameType.PROOF, 0, 0, proof), r.next());
        assertEquals(Handshake.Status.UNKNOWN_SERVICE, Welcome.decode(r.next()).status());
        assertArrayEquals(Wire.encode(new Frame(FrameType.WELCOME, 0, 0,
                Welcome.refusal(Handshake.Status.BUSY).encode())), FrameWriter.refusalFrame(Handshake.Status.BUSY));
    }
}
