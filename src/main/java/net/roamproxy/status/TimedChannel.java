package net.roamproxy.status;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * One end of a status exchange on a Unix domain socket, whose every step ends by a deadline:
 * a peer that sends nothing, or reads nothing, cannot hold this end's thread.
 *
 * <p>Why a selector: a {@link SocketChannel} on a Unix domain socket has no read timeout
 * (SO_TIMEOUT belongs to {@link java.net.Socket}, which such sockets do not have), so a
 * blocking read waits for as long as the peer keeps silent. This channel is non-blocking,
 * and a connect, read or write that cannot go on waits in {@link Selector#select(long)} for
 * at most the time left. A watchdog that closes the channel when time is up would work too,
 * but needs a timer thread and must make sure that it closes the exchange it was armed for and
 * no later one; here the thread doing the I/O keeps the time itself. Not thread-safe.
 */
final class TimedChannel implements AutoCloseable {
    private final SocketChannel channel;
    private final Selector selector;
    private final SelectionKey key;
    private Duration limit = Duration.ZERO;
    private long deadline = System.nanoTime();

    /** Takes over {@code channel}: closing this closes it, also if this constructor fails. */
    TimedChannel(SocketChannel channel) throws IOException {
        this.channel = channel;
        Selector s = null;
        try {
            channel.configureBlocking(false);
            s = Selector.open();
            this.key = channel.register(s, 0);
        } catch (IOException | RuntimeException e) {
            if (s != null) {
                s.close();
            }
            channel.close();
            throw e;
        }
        this.selector = s;
    }

    /** Connects to {@code socket}; the deadline set here, {@code within} from now, holds for what follows too. */
    static TimedChannel connect(Path socket, Duration within) throws IOException {
        TimedChannel t = new TimedChannel(SocketChannel.open(StandardProtocolFamily.UNIX));
        try {
            t.within(within);
            if (!t.channel.connect(UnixDomainSocketAddress.of(socket))) {
                while (!t.channel.finishConnect()) {
                    t.await(SelectionKey.OP_CONNECT);
                }
            }
            return t;
        } catch (IOException | RuntimeException e) {
            t.close();
            throw e;
        }
    }

    /** Starts the clock again: what follows must be done within {@code limit} from now. */
    TimedChannel within(Duration limit) {
        this.limit = limit;
        this.deadline = System.nanoTime() + limit.toNanos();
        return this;
    }

    /** The bytes up to a newline (not included), the end of the stream or {@code max} bytes, as ASCII. */
    String readLine(int max) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        ByteBuffer one = ByteBuffer.allocate(1); // a request is a few bytes: reading past it would take nothing
        while (line.size() < max) {
            int n = channel.read(one);
            if (n < 0) {
                break;
            }
            if (n == 0) {
                await(SelectionKey.OP_READ);
                continue;
            }
            byte b = one.get(0);
            one.clear();
            if (b == '\n') {
                break;
            }
            line.write(b);
        }
        return line.toString(StandardCharsets.US_ASCII);
    }

    /** Everything up to the end of the stream, at most {@code max} bytes. */
    byte[] readAll(int max) throws IOException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        ByteBuffer buf = ByteBuffer.allocate(8192);
        while (true) {
            int n = channel.read(buf);
            if (n < 0) {
                return all.toByteArray();
            }
            if (n == 0) {
                await(SelectionKey.OP_READ);
                continue;
            }
            all.write(buf.array(), 0, n);
            buf.clear();
            if (all.size() > max) {
                throw new IOException("the answer is longer than " + max + " bytes");
            }
        }
    }

    /** Writes all of {@code bytes} by the deadline set last. */
    void writeAll(ByteBuffer bytes) throws IOException {
        while (bytes.hasRemaining()) {
            if (channel.write(bytes) == 0) {
                await(SelectionKey.OP_WRITE);
            }
        }
    }

    /**
     * Writes all of {@code bytes} to a peer that must take some within {@code idle} each time
     * the socket's buffer is full, and all within {@code atMost}. A large report takes as long
     * as the peer reads, so a bound on each step cuts off a peer that stopped reading without
     * cutting off a slow one; the bound on the whole, one that reads a byte now and then.
     */
    void writeAll(ByteBuffer bytes, Duration idle, Duration atMost) throws IOException {
        long end = System.nanoTime() + atMost.toNanos();
        within(idle);
        while (bytes.hasRemaining()) {
            if (channel.write(bytes) == 0) {
                await(SelectionKey.OP_WRITE);
            } else {
                within(idle);
                if (deadline - end > 0) {
                    deadline = end;
                }
            }
        }
    }

    /** Waits until {@code op} may go on, or throws once the deadline has passed. */
    private void await(int op) throws IOException {
        long left = deadline - System.nanoTime();
        if (left <= 0) {
            throw new SocketTimeoutException("nothing within " + limit.toMillis() + " ms");
        }
        key.interestOps(op);
        selector.select(Math.max(1, TimeUnit.NANOSECONDS.toMillis(left))); // select(0) would wait for ever
        selector.selectedKeys().clear();
    }

    @Override
    public void close() throws IOException {
        try {
            selector.close();
        } finally {
            channel.close();
        }
    }
}
