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
 * Test target on an ephemeral loopback port that writes back every byte it reads. On EOF it
 * closes its side too. Threads are daemons named {@code it-echo-<port>-...}.
 *
 * <p>Threading: public methods are thread-safe.
 */
public final class EchoServer implements AutoCloseable {

    /** One accepted connection, as seen by tests. */
    public static final class Conn {
        private final int id;
        private final Socket socket;
        private final AtomicLong echoed = new AtomicLong();
        private final CompletableFuture<Boolean> ended = new CompletableFuture<>();

        Conn(int id, Socket socket) {
            this.id = id;
            this.socket = socket;
        }

        public int id() {
            return id;
        }

        public long bytesEchoed() {
            return echoed.get();
        }

        /** Completes when the peer closed: true for an orderly EOF, false for a reset or error. */
        public CompletableFuture<Boolean> ended() {
            return ended.copy();
        }
    }

    private final ServerSocket server;
    private final String name;
    private final List<Conn> conns = new CopyOnWriteArrayList<>();
    private final List<Thread> threads = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    public EchoServer() throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        name = "it-echo-" + server.getLocalPort();
        start(name + "-accept", this::acceptLoop);
    }

    public int port() {
        return server.getLocalPort();
    }

    public int connectionsAccepted() {
        return conns.size();
    }

    /** Connections in accept order. */
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
            Conn c = new Conn(conns.size(), s);
            conns.add(c);
            start(name + "-c" + c.id, () -> echo(c));
        }
    }

    private void echo(Conn c) {
        byte[] buf = new byte[16 * 1024];
        try (Socket s = c.socket) {
            InputStream in = s.getInputStream();
            OutputStream out = s.getOutputStream();
            int n;
            while ((n = in.read(buf)) >= 0) {
                out.write(buf, 0, n);
                c.echoed.addAndGet(n);
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
        Threads.join(2_000, threads.toArray(new Thread[0]));
    }
}
