package net.roamproxy.hardening;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import net.roamproxy.testkit.ByteSink;
import net.roamproxy.testkit.Threads;

/**
 * A loopback relay that forwards every connection to {@code 127.0.0.1:targetPort} unchanged
 * and records all bytes of all connections, per direction: what an eavesdropper on the link
 * sees. Threads are daemons named {@code it-tap-<port>-...}.
 *
 * <p>Threading: public methods are thread-safe.
 */
final class TapRelay implements AutoCloseable {
    private final ServerSocket server;
    private final int targetPort;
    private final String name;
    private final ByteSink upstream = new ByteSink();
    private final ByteSink downstream = new ByteSink();
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private final List<Thread> threads = new CopyOnWriteArrayList<>();

    TapRelay(int targetPort) throws IOException {
        this.targetPort = targetPort;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.name = "it-tap-" + server.getLocalPort();
        start("accept", this::acceptLoop);
    }

    int port() {
        return server.getLocalPort();
    }

    /** Everything sent towards the target so far, all connections concatenated. */
    byte[] upstream() {
        return upstream.bytes();
    }

    byte[] downstream() {
        return downstream.bytes();
    }

    private void acceptLoop() {
        int n = 0;
        while (true) {
            Socket client;
            Socket target;
            try {
                client = server.accept();
            } catch (IOException e) {
                return;
            }
            sockets.add(client);
            try {
                target = new Socket(InetAddress.getLoopbackAddress(), targetPort);
            } catch (IOException e) {
                closeQuietly(client);
                continue;
            }
            sockets.add(target);
            int id = n++;
            start("c" + id + "-up", () -> pump(client, target, upstream));
            start("c" + id + "-down", () -> pump(target, client, downstream));
        }
    }

    private static void pump(Socket from, Socket to, ByteSink record) {
        byte[] buf = new byte[8192];
        try {
            InputStream in = from.getInputStream();
            OutputStream out = to.getOutputStream();
            int n;
            while ((n = in.read(buf)) >= 0) {
                record.append(buf, 0, n);
                out.write(buf, 0, n);
            }
            to.shutdownOutput();
        } catch (IOException e) {
            closeQuietly(from);
            closeQuietly(to);
        }
    }

    private void start(String suffix, Runnable body) {
        Thread t = new Thread(body, name + "-" + suffix);
        t.setDaemon(true);
        threads.add(t);
        t.start();
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // best effort
        }
    }

    @Override
    public void close() {
        try {
            server.close();
        } catch (IOException ignored) {
            // best effort
        }
        sockets.forEach(TapRelay::closeQuietly);
        Threads.join(2_000, threads.toArray(new Thread[0]));
    }
}
