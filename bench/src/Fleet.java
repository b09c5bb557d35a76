import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BooleanSupplier;

/**
 * Many echo sessions driven by one selector thread (the caller's). Each session sends its own
 * pattern stream (its seed) and checks every echoed byte, so "all byte-exact" means every byte
 * of every session came back once, in order.
 */
final class Fleet implements AutoCloseable {
    static final int WRITE_CHUNK = 16 * 1024;

    static final class Sess {
        final int id;
        final long seed;
        SocketChannel ch;
        SelectionKey key;
        boolean ready;
        long limit;
        long sent;
        long recv;
        long bad = -1;
        long first;
        String error;

        Sess(int id) {
            this.id = id;
            this.seed = 7919L * id + 13;
        }

        boolean done() {
            return ready && error == null && recv >= limit;
        }
    }

    final List<Sess> all = new ArrayList<>();
    private final Selector sel;
    private final ByteBuffer rbuf = ByteBuffer.allocateDirect(64 * 1024);
    private final ByteBuffer head = ByteBuffer.allocate(32);
    boolean armed;

    Fleet() throws IOException {
        sel = Selector.open();
    }

    /** Opens {@code n} sessions, at most {@code parallel} still waiting for the path at a time. */
    void open(InetSocketAddress a, int n, int parallel, long timeoutMillis) throws IOException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        while (all.size() < n || pending() > 0) {
            while (all.size() < n && pending() < parallel) {
                Sess s = new Sess(all.size());
                s.ch = SocketChannel.open();
                s.ch.configureBlocking(false);
                s.ch.setOption(StandardSocketOptions.TCP_NODELAY, true);
                s.ch.connect(a);
                s.key = s.ch.register(sel, SelectionKey.OP_CONNECT, s);
                all.add(s);
            }
            if (System.nanoTime() > deadline) {
                throw new IOException("opened only " + (all.size() - pending()) + " of " + n + " sessions in time");
            }
            poll(10);
            for (Sess s : all) {
                if (s.error != null) {
                    throw new IOException("session " + s.id + " failed while opening: " + s.error);
                }
            }
        }
    }

    private int pending() {
        int p = 0;
        for (Sess s : all) {
            if (!s.ready && s.error == null) {
                p++;
            }
        }
        return p;
    }

    /** Every session sends {@code bytes} more and expects them back. */
    void add(long bytes) {
        add(all, bytes);
    }

    /** The sessions in {@code some} send {@code bytes} more and expect them back. */
    void add(List<Sess> some, long bytes) {
        for (Sess s : some) {
            s.limit += bytes;
            if (s.ready && s.error == null && s.key.isValid()) {
                s.key.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
            }
        }
    }

    /** Serves the sessions until {@code done} or the timeout; @return whether done. */
    boolean pump(BooleanSupplier done, long timeoutMillis) throws IOException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
        while (!done.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            poll(10);
        }
        return true;
    }

    boolean allDone() {
        return allDone(all);
    }

    static boolean allDone(List<Sess> some) {
        for (Sess s : some) {
            if (!s.done()) {
                return false;
            }
        }
        return true;
    }

    long doneCount() {
        return all.stream().filter(Sess::done).count();
    }

    long errorCount() {
        return all.stream().filter(s -> s.error != null).count();
    }

    long badCount() {
        return all.stream().filter(s -> s.bad >= 0).count();
    }

    private void poll(long millis) throws IOException {
        if (sel.select(millis) == 0) {
            return;
        }
        long now = System.nanoTime();
        for (var it = sel.selectedKeys().iterator(); it.hasNext(); ) {
            SelectionKey k = it.next();
            it.remove();
            Sess s = (Sess) k.attachment();
            try {
                handle(s, k, now);
            } catch (IOException e) {
                fail(s, e.toString());
            }
        }
    }

    private void handle(Sess s, SelectionKey k, long now) throws IOException {
        if (!k.isValid()) {
            return;
        }
        if (k.isConnectable()) {
            s.ch.finishConnect();
            head.clear();
            head.put(Bench.header('E', 0, s.seed)).flip();
            if (s.ch.write(head) != 32) {
                throw new IOException("short header write");
            }
            k.interestOps(SelectionKey.OP_READ);
            return;
        }
        if (k.isReadable()) {
            rbuf.clear();
            int n = s.ch.read(rbuf);
            if (n < 0) {
                fail(s, "connection closed after " + s.recv + " echoed bytes");
                return;
            }
            rbuf.flip();
            if (!s.ready && rbuf.hasRemaining()) {
                if (rbuf.get() != 'R') {
                    fail(s, "target did not answer R");
                    return;
                }
                s.ready = true;
                if (s.limit > s.sent) {
                    k.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
                }
            }
            int m = rbuf.remaining();
            if (m > 0) {
                if (s.recv + m > s.sent) {
                    fail(s, "echo returned more than was sent");
                    return;
                }
                if (s.bad < 0) {
                    int x = rbuf.mismatch(Bench.pat(s.recv, s.seed, m));
                    if (x >= 0) {
                        s.bad = s.recv + x;
                    }
                }
                s.recv += m;
                if (armed && s.first == 0) {
                    s.first = now;
                }
            }
        }
        if (k.isValid() && k.isWritable() && s.ready) {
            int n = (int) Math.min(WRITE_CHUNK, s.limit - s.sent);
            if (n > 0) {
                s.sent += s.ch.write(Bench.pat(s.sent, s.seed, n));
            }
            if (s.sent >= s.limit) {
                k.interestOps(SelectionKey.OP_READ);
            }
        }
    }

    private void fail(Sess s, String why) {
        if (s.error == null) {
            s.error = why;
        }
        if (s.key != null) {
            s.key.cancel();
        }
        Bench.closeQuietly(s.ch);
    }

    @Override
    public void close() {
        for (Sess s : all) {
            Bench.closeQuietly(s.ch);
        }
        Bench.closeQuietly(sel);
    }
}
