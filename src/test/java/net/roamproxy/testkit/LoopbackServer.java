package net.roamproxy.testkit;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * What the test targets share: an ephemeral loopback port, an accept loop, the accepted
 * connections in accept order, daemon threads named {@code it-<kind>-<port>-...}, and a close
 * that ends the listener, every connection and every thread.
 *
 * <p>Threading: public methods are thread-safe.
 */
public abstract class LoopbackServer<C extends LoopbackServer.Connection> implements AutoCloseable {

    /** One accepted connection, as seen by tests. */
    public abstract static class Connection {
        private final int id;
        final Socket socket;

        protected Connection(int id, Socket socket) {
            this.id = id;
            this.socket = socket;
        }

        public int id() {
            return id;
        }
    }

    private final ServerSocket server;
    private final String name;
    private final List<C> conns = new CopyOnWriteArrayList<>();
    private final List<Thread> threads = new CopyOnWriteArrayList<>();
    private volatile boolean closed;

    protected LoopbackServer(String kind) throws IOException {
        server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        name = "it-" + kind + "-" + server.getLocalPort();
    }

    /** Starts accepting; the subclass calls it last in its constructor, once its fields are set. */
    protected final void startAccepting() {
        start("accept", this::acceptLoop);
    }

    /** The object for new connection {@code id}. */
    protected abstract C accepted(int id, Socket socket);

    /** Starts the connection's threads with {@link #start}; it is already counted and listed. */
    protected abstract void serve(C connection);

    public int port() {
        return server.getLocalPort();
    }

    public int connectionsAccepted() {
        return conns.size();
    }

    /** Connections in accept order. */
    public List<C> connections() {
        return new ArrayList<>(conns);
    }

    public C connection(int index) {
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
            C c = accepted(conns.size(), s);
            conns.add(c);
            serve(c);
        }
    }

    /** Starts a daemon thread named after this server and {@code role}. */
    protected final void start(String role, Runnable body) {
        Thread t = new Thread(body, name + "-" + role);
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
        for (C c : conns) {
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
