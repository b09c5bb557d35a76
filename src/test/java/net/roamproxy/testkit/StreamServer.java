package net.roamproxy.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Test target on an ephemeral loopback port. To each client it sends a fixed, deterministic
 * pseudo-random stream of {@code streamBytes} bytes (connection {@code i} gets the stream of
 * seed {@code seed + i}, so concurrent sessions are told apart), while recording everything
 * it receives until EOF. With {@code closeAfterSending} it closes the connection as soon as
 * its stream is written, like a server that logs the user out.
 *
 * <p>Each connection also reports how much of its stream it has written so far
 * ({@link Conn#bytesWritten()}), so a test can see the target being slowed by backpressure.
 *
 * <p>Each connection has a sender and a receiver thread, daemons named
 * {@code it-stream-<port>-...}.
 */
public final class StreamServer extends LoopbackServer<StreamServer.Conn> {
    public static final int CHUNK = 16 * 1024;

    /** One accepted connection, as seen by tests. */
    public static final class Conn extends LoopbackServer.Connection {
        private final byte[] stream;
        private final ByteSink received = new ByteSink();
        private final CompletableFuture<Void> sent = new CompletableFuture<>();
        private final CompletableFuture<Boolean> ended = new CompletableFuture<>();
        private final AtomicLong written = new AtomicLong();

        Conn(int id, Socket socket, byte[] stream) {
            super(id, socket);
            this.stream = stream;
        }

        /** What this connection sends (all of it, whether or not already written). */
        public byte[] stream() {
            return stream;
        }

        public int receivedCount() {
            return received.count();
        }

        public byte[] received() {
            return received.bytes();
        }

        public boolean receivedStartsWith(byte[] prefix) {
            return received.startsWith(prefix);
        }

        /** Bytes of the stream written so far (a blocked write counts once it returns). */
        public long bytesWritten() {
            return written.get();
        }

        /** Completes when the whole stream was written. */
        public CompletableFuture<Void> sent() {
            return sent.copy();
        }

        /** Completes when the peer closed: true for an orderly EOF, false for a reset or error. */
        public CompletableFuture<Boolean> ended() {
            return ended.copy();
        }
    }

    private final int streamBytes;
    private final long seed;
    private final boolean closeAfterSending;
    private final Pacer pacer;

    public StreamServer(int streamBytes, long seed, boolean closeAfterSending, Pacer pacer) throws IOException {
        super("stream");
        this.streamBytes = streamBytes;
        this.seed = seed;
        this.closeAfterSending = closeAfterSending;
        this.pacer = pacer;
        startAccepting();
    }

    /** The stream connection {@code index} is sent. */
    public byte[] streamFor(int index) {
        return Streams.pseudoRandom(seed + index, streamBytes);
    }

    @Override
    protected Conn accepted(int id, Socket socket) {
        return new Conn(id, socket, streamFor(id));
    }

    @Override
    protected void serve(Conn c) {
        start("c" + c.id() + "-recv", () -> receive(c));
        start("c" + c.id() + "-send", () -> send(c));
    }

    private void send(Conn c) {
        try {
            OutputStream out = c.socket.getOutputStream();
            for (int off = 0; off < c.stream.length; off += CHUNK) {
                pacer.beforeChunk(off, c.stream.length);
                int n = Math.min(CHUNK, c.stream.length - off);
                out.write(c.stream, off, n);
                c.written.addAndGet(n);
            }
            out.flush();
            c.sent.complete(null);
            if (closeAfterSending) {
                c.socket.close();
            }
        } catch (IOException | InterruptedException e) {
            c.sent.completeExceptionally(e);
        }
    }

    private void receive(Conn c) {
        byte[] buf = new byte[CHUNK];
        try {
            InputStream in = c.socket.getInputStream();
            int n;
            while ((n = in.read(buf)) >= 0) {
                c.received.append(buf, 0, n);
            }
            c.ended.complete(true);
        } catch (IOException e) {
            c.ended.complete(false);
        }
    }
}
