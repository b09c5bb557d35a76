package net.roamproxy.it;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;

/**
 * The application side of a session (what telnet is in production): a loopback connection to
 * cproxy with a reader thread that records everything received until EOF. Writes happen on
 * the caller's thread, or on a writer thread for {@link #writeInBackground}.
 *
 * <p>Threading: public methods are thread-safe. Threads are daemons named {@code it-app-<name>-...}.
 */
final class AppClient implements AutoCloseable {
    private final String name;
    private final Socket socket;
    private final OutputStream out;
    private final ByteSink received = new ByteSink();
    private final CompletableFuture<Boolean> ended = new CompletableFuture<>();
    private final CompletableFuture<Void> written = new CompletableFuture<>();
    private final Thread reader;
    private volatile Thread writer;

    private AppClient(String name, Socket socket) throws IOException {
        this.name = name;
        this.socket = socket;
        this.out = socket.getOutputStream();
        this.reader = new Thread(this::readLoop, "it-app-" + name + "-reader");
        reader.setDaemon(true);
        reader.start();
    }

    static AppClient connect(String name, int port) throws IOException {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), port);
        s.setTcpNoDelay(true);
        return new AppClient(name, s);
    }

    /** Writes {@code b} now, on the caller's thread. */
    synchronized void write(byte[] b) throws IOException {
        out.write(b);
        out.flush();
    }

    /** Writes {@code data} chunk by chunk on a writer thread, asking {@code pacer} first. */
    void writeInBackground(byte[] data, int chunk, Pacer pacer) {
        Thread t = new Thread(() -> {
            try {
                for (int off = 0; off < data.length; off += chunk) {
                    pacer.beforeChunk(off, data.length);
                    synchronized (this) {
                        out.write(data, off, Math.min(chunk, data.length - off));
                    }
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

    /** Completes when {@link #writeInBackground} has written everything. */
    CompletableFuture<Void> written() {
        return written.copy();
    }

    int receivedCount() {
        return received.count();
    }

    byte[] received() {
        return received.bytes();
    }

    /** Completes when the reader saw the end: true for an orderly EOF, false for a reset or error. */
    CompletableFuture<Boolean> ended() {
        return ended.copy();
    }

    private void readLoop() {
        byte[] buf = new byte[16 * 1024];
        try {
            InputStream in = socket.getInputStream();
            int n;
            while ((n = in.read(buf)) >= 0) {
                received.append(buf, 0, n);
            }
            ended.complete(true);
        } catch (IOException e) {
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
        Threads.join(2_000, w, reader);
    }

    @Override
    public String toString() {
        return "app " + name;
    }
}
