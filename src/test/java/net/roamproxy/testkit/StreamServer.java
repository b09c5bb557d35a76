package net.roamproxy.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
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
 * <p>Threading: public methods are thread-safe; each connection has a sender and a receiver
 * thread, daemons named {@code it-stream-<port>-...}.
 */
public final class StreamServer implements AutoCloseable {
    public static final int CHUNK = 16 * 1024;

    /** One accepted connection, as seen by tests. */
    public static final class Conn {
        private final int id;
        private final Socket socket;
        private final byte[] stream;
        private final ByteSink received = new ByteSink();
        private final CompletableFuture<Void> sent = new CompletableFuture<>();
        private final CompletableFuture<Boolean> ended = new CompletableFuture<>();
        private final AtomicLong written = new AtomicLong();

        Conn(int id, Socket socket, byte[] stream) {
            this.id = id;
            this.socket = socket;
            this.stream = stream;
        }

        public int id() {
            return id;
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
    private final ServerSocket server;
    private final String name;
    private final List<Conn> conns = new CopyOnWriteArrayList<>();
    private final List<Thread> threads = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    public StreamServer(int streamBytes, long seed, boolean closeAfterSending, Pacer pacer) throws IOException {
        this.streamBytes = streamBytes;
        this.seed = seed;
        this.closeAfterSending = closeAfterSending;
        this.pacer = pacer;
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        name = "it-stream-" + server.getLocalPort();
        start(name + "-accept", this::acceptLoop);
    }

    /** The stream connection {@code index} is sent. */
    public byte[] streamFor(int index) {
        return Streams.pseudoRandom(seed + index, streamBytes);
    }

    public int port() {
        return server.getLocalPort();
    }

    public int connectionsAccepted() {
        return conns.size();
    }

    public List<Conn> connections() {
        return new ArrayList<>(conns);
    }

    public Conn connection(int index) {
        return conns.get(index);
    }

    private void acceptLoop() {
        while (!closed) {
            Socket s;
            try {
                s = server.accept();
                s.setTcpNoDelay(true);
            } catch (IOException e) {
                return;
            }
            int id = conns.size();
            Conn c = new Conn(id, s, streamFor(id));
            conns.add(c);
            start(name + "-c" + id + "-recv", () -> receive(c));
            start(name + "-c" + id + "-send", () -> send(c));
        }
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

    private void start(String threadName, Runnable body) {
        Thread t = new Thread(body, threadName);
        t.setDaemon(true);
        threads.add(t);
        t.start();
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // best effort
        }
        for (Conn c : conns) {
            try {
                c.socket.close();
            } catch (IOException ignored) {
                // best effort
            }
        }
        for (Thread t : threads) {
            t.interrupt(); // a paced sender may be waiting
        }
        Threads.join(2_000, threads.toArray(new Thread[0]));
    }
}
