package net.roamproxy.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Test target on an ephemeral loopback port that writes back every byte it reads. On EOF it
 * closes its side too. Threads are daemons named {@code it-echo-<port>-...}.
 */
public final class EchoServer extends LoopbackServer<EchoServer.Conn> {

    /** One accepted connection, as seen by tests. */
    public static final class Conn extends LoopbackServer.Connection {
        private final AtomicLong echoed = new AtomicLong();
        private final CompletableFuture<Boolean> ended = new CompletableFuture<>();

        Conn(int id, Socket socket) {
            super(id, socket);
        }

        public long bytesEchoed() {
            return echoed.get();
        }

        /** Completes when the peer closed: true for an orderly EOF, false for a reset or error. */
        public CompletableFuture<Boolean> ended() {
            return ended.copy();
        }
    }

    public EchoServer() throws IOException {
        super("echo");
        startAccepting();
    }

    @Override
    protected Conn accepted(int id, Socket socket) {
        return new Conn(id, socket);
    }

    @Override
    protected void serve(Conn c) {
        start("c" + c.id(), () -> echo(c));
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
}
