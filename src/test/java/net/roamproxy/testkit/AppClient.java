package net.roamproxy.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The application side of a session (what telnet is in production): a loopback connection to
 * cproxy with a reader thread that records everything received until EOF. Writes happen on
 * the caller's thread, or on a writer thread for {@link #writeInBackground}.
 *
 * <p>The reader can be paused ({@link #pauseReading()}), like a frozen terminal that stops
 * reading its socket, and background writes report their progress ({@link #bytesWritten()}), so a test can see a
 * writer being held back by backpressure.
 *
 * <p>Threading: public methods are thread-safe. Threads are daemons named {@code it-app-<name>-...}.
 */
public final class AppClient implements AutoCloseable {
    private final String name;
    private final Socket socket;
    private final OutputStream out;
    private final ByteSink received = new ByteSink();
    private final CompletableFuture<Boolean> ended = new CompletableFuture<>();
    private final CompletableFuture<Void> written = new CompletableFuture<>();
    private final AtomicLong bytesWritten = new AtomicLong();
    private final Object gate = new Object();
    /** Guarded by {@link #gate}. */
    private boolean paused;
    private final Thread reader;
    private volatile Thread writer;

    private AppClient(String name, Socket socket, boolean startPaused) throws IOException {
        this.name = name;
        this.socket = socket;
        this.out = socket.getOutputStream();
        this.paused = startPaused;
        this.reader = new Thread(this::readLoop, "it-app-" + name + "-reader");
        reader.setDaemon(true);
        reader.start();
    }

    public static AppClient connect(String name, int port) throws IOException {
        return connect(name, port, false);
    }

    /** With {@code startPaused}, nothing is read until {@link #resumeReading()}. */
    public static AppClient connect(String name, int port, boolean startPaused) throws IOException {
        return connect(name, InetAddress.getLoopbackAddress(), port, startPaused);
    }

    /** To {@code address} rather than IPv4's loopback. */
    public static AppClient connect(String name, InetAddress address, int port, boolean startPaused)
            throws IOException {
        Socket s = new Socket(address, port);
        s.setTcpNoDelay(true);
        return new AppClient(name, s, startPaused);
    }

    /** Writes {@code b} now, on the caller's thread. */
    public synchronized void write(byte[] b) throws IOException {
        out.write(b);
        out.flush();
        bytesWritten.addAndGet(b.length);
    }

    /** Writes {@code data} chunk by chunk on a writer thread, asking {@code pacer} first. */
    public void writeInBackground(byte[] data, int chunk, Pacer pacer) {
        Thread t = new Thread(() -> {
            try {
                for (int off = 0; off < data.length; off += chunk) {
                    pacer.beforeChunk(off, data.length);
                    int n = Math.min(chunk, data.length - off);
                    synchronized (this) {
                        out.write(data, off, n);
                    }
                    bytesWritten.addAndGet(n);
                }
                written.complete(null);
            } catch (IOException | InterruptedException e) {
                written.completeExceptionally(e);
            }
        }, "it-app-" + name + "-writer");
        t.setDaemon(true);
        writer = t;
        t.start();
    }

    /** Shuts down our writing side (TCP half-close): the peer reads EOF, we keep reading. */
    public synchronized void shutdownOutput() throws IOException {
        socket.shutdownOutput();
    }

    /** Resets the connection (RST), as an application killed mid-transfer does. */
    public void reset() throws IOException {
        socket.setSoLinger(true, 0);
        socket.close();
    }

    /** Completes when {@link #writeInBackground} has written everything. */
    public CompletableFuture<Void> written() {
        return written.copy();
    }

    /** Bytes handed to the socket so far (a blocked write counts once it returns). */
    public long bytesWritten() {
        return bytesWritten.get();
    }

    /** The reader stops reading after the read in progress, if any, returns. */
    public void pauseReading() {
        synchronized (gate) {
            paused = true;
        }
    }

    public void resumeReading() {
        synchronized (gate) {
            paused = false;
            gate.notifyAll();
        }
    }

    public int receivedCount() {
        return received.count();
    }

    public byte[] received() {
        return received.bytes();
    }

    /** Completes when the reader saw the end: true for an orderly EOF, false for a reset or error. */
    public CompletableFuture<Boolean> ended() {
        return ended.copy();
    }

    public int localPort() {
        return socket.getLocalPort();
    }

    private void readLoop() {
        byte[] buf = new byte[16 * 1024];
        try {
            InputStream in = socket.getInputStream();
            while (true) {
                synchronized (gate) {
                    while (paused) {
                        gate.wait();
                    }
                }
                int n = in.read(buf);
                if (n < 0) {
                    break;
                }
                received.append(buf, 0, n);
            }
            ended.complete(true);
        } catch (IOException e) {
            ended.complete(false);
        } catch (InterruptedException e) {
            ended.complete(false);
        }
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // best effort
        }
        Thread w = writer;
        if (w != null) {
            w.interrupt();
        }
        reader.interrupt(); // it may be paused
        Threads.join(2_000, w, reader);
    }

    @Override
    public String toString() {
        return "app " + name;
    }
}
