package net.roamproxy.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.concurrent.CompletableFuture;

/**
 * A target that uses TCP half-close, as RPC, HTTP/1.0 and {@code ssh host cmd < file} do. Each
 * connection follows one {@link Script}:
 * <ul>
 *   <li>{@link Script#DIGEST_THEN_TAIL}: reads to EOF, then answers the SHA-256 of what it
 *       read followed by a tail of {@code tailBytes}, then closes.</li>
 *   <li>{@link Script#SEND_THEN_READ}: sends {@code tailBytes}, shuts down its writing side,
 *       then reads to EOF and closes.</li>
 *   <li>{@link Script#RESET_AFTER_READING}: reads {@code tailBytes}, then resets the connection.</li>
 * </ul>
 *
 * <p>Threading: public methods are thread-safe; one daemon thread per connection.
 */
public final class HalfCloseServer extends LoopbackServer<HalfCloseServer.Conn> {

    /** What each connection does. */
    public enum Script { DIGEST_THEN_TAIL, SEND_THEN_READ, RESET_AFTER_READING }

    /** One accepted connection, as seen by tests. */
    public static final class Conn extends LoopbackServer.Connection {
        private final ByteSink received = new ByteSink();
        private final CompletableFuture<Boolean> inputEnded = new CompletableFuture<>();
        private final CompletableFuture<Void> done = new CompletableFuture<>();

        Conn(int id, Socket socket) {
            super(id, socket);
        }

        public byte[] received() {
            return received.bytes();
        }

        public int receivedCount() {
            return received.count();
        }

        /** Completes when reading ended: true for an orderly EOF, false for a reset or error. */
        public CompletableFuture<Boolean> inputEnded() {
            return inputEnded.copy();
        }

        /** Completes when the script ran to its end (exceptionally if it failed). */
        public CompletableFuture<Void> done() {
            return done.copy();
        }
    }

    private final Script script;
    private final byte[] tail;

    public HalfCloseServer(Script script, byte[] tail) throws IOException {
        super("halfclose");
        this.script = script;
        this.tail = tail;
        startAccepting();
    }

    /** The SHA-256 of {@code b}, as {@link Script#DIGEST_THEN_TAIL} answers it. */
    public static byte[] digest(byte[] b) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(b);
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }

    @Override
    protected Conn accepted(int id, Socket socket) {
        return new Conn(id, socket);
    }

    @Override
    protected void serve(Conn c) {
        start("c" + c.id(), () -> run(c));
    }

    private void run(Conn c) {
        try (Socket s = c.socket) {
            OutputStream out = s.getOutputStream();
            switch (script) {
                case DIGEST_THEN_TAIL -> {
                    readToEnd(c, Long.MAX_VALUE);
                    out.write(digest(c.received()));
                    out.write(tail);
                    out.flush();
                }
                case SEND_THEN_READ -> {
                    out.write(tail);
                    out.flush();
                    s.shutdownOutput();
                    readToEnd(c, Long.MAX_VALUE);
                }
                case RESET_AFTER_READING -> {
                    readToEnd(c, tail.length);
                    s.setSoLinger(true, 0);
                }
                default -> throw new IllegalStateException(script.toString());
            }
            c.done.complete(null);
        } catch (IOException e) {
            c.inputEnded.complete(false);
            c.done.completeExceptionally(e);
        }
    }

    private static void readToEnd(Conn c, long limit) throws IOException {
        InputStream in = c.socket.getInputStream();
        byte[] buf = new byte[16 * 1024];
        while (c.received.count() < limit) {
            int n = in.read(buf, 0, (int) Math.min(buf.length, limit - c.received.count()));
            if (n < 0) {
                c.inputEnded.complete(true);
                return;
            }
            c.received.append(buf, 0, n);
        }
    }
}
