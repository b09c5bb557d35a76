package net.roamproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.zip.CRC32;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import net.roamproxy.status.RuntimeDir;
import net.roamproxy.status.StatusClient;
import net.roamproxy.testkit.Await;
import net.roamproxy.testkit.Closer;
import net.roamproxy.testkit.Json;

/**
 * Many sessions push data while their link is gone, both daemons in JVMs with a 256 MiB heap:
 * the memory budget holds the buffers at its limit (no OutOfMemoryError, which would end every
 * session), reading from the applications waits, {@code --status} shows the budget in use, and
 * once the link is back every byte arrives, checked per session. The default run has 128
 * sessions and an 8 MiB budget; {@code -Plong} runs 1,024 sessions and 64 MiB.
 */
@Timeout(300)
class MemoryBudgetProcessTest {
    private static final boolean LONG = Boolean.getBoolean("roamproxy.long");
    private static final int SESSIONS = LONG ? 1024 : 128;
    private static final String MEMORY = LONG ? "64M" : "8M";
    private static final int BYTES = 256 * 1024;
    private static final Duration DEADLINE = Duration.ofSeconds(LONG ? 240 : 120);
    private static final List<String> JVM = List.of("-Xmx256m", "-XX:+ExitOnOutOfMemoryError");

    @RegisterExtension final Closer closer = new Closer();

    /** Byte {@code j} of session {@code i}'s stream: its first four bytes are {@code i}. */
    private static byte at(int i, int j) {
        return j < 4 ? (byte) (i >>> (24 - 8 * j)) : (byte) (i * 31 + j * 7 + (j >>> 9));
    }

    private static long expectedCrc(int i) {
        CRC32 crc = new CRC32();
        for (int j = 0; j < BYTES; j++) {
            crc.update(at(i, j));
        }
        return crc.getValue();
    }

    @Test
    void sessionsPushingIntoALostLinkWaitWithinTheBudgetAndDeliverEveryByteWhenItIsBack() throws Exception {
        Sink sink = closer.add(new Sink());
        Daemon sproxy = closer.add(Daemon.start(SproxyMain.class, Map.of(), JVM, "-l", "127.0.0.1", "-p", "0",
                "--target", "127.0.0.1:" + sink.port(), "--memory", MEMORY, "--max-sessions", "2000",
                "--heartbeat", "200", "--detach-timeout", "600"));
        int sproxyPort = sproxy.awaitListening();
        Gate gate = closer.add(new Gate(sproxyPort));
        Daemon cproxy = closer.add(Daemon.start(CproxyMain.class, Map.of(), JVM, "-l", "127.0.0.1", "-p", "0",
                "-s", String.valueOf(gate.port()), "--memory", MEMORY, "--heartbeat", "200", "--detach-timeout",
                "600", "--no-address-watch", "127.0.0.1"));
        int cproxyPort = cproxy.awaitListening();

        Pusher pusher = closer.add(new Pusher(cproxyPort));
        Await.until(DEADLINE, "every session reached the sink", () -> sink.connections() == SESSIONS);
        gate.close(); // the link is gone, and no new one can be made until it opens again
        pusher.start();

        // cproxy holds what it can within its budget; the rest waits in the applications' sockets.
        long limit = parse(MEMORY);
        Await.until(DEADLINE, "cproxy's replay buffers fill", () -> replayed(status("cproxy", cproxyPort)) >= limit / 4);
        Map<?, ?> status = status("cproxy", cproxyPort);
        long inUse = (Long) status.get("memory_in_use");
        assertEquals(limit, status.get("memory_limit"));
        assertTrue(inUse > 0 && inUse <= limit, "within the budget while the link is gone: " + inUse);
        assertTrue(replayed(status) <= limit, "replay buffers: " + replayed(status));
        String text = StatusClient.ask(RuntimeDir.socketsToTry("cproxy", cproxyPort), false);
        assertTrue(text.startsWith("cproxy: " + SESSIONS + " sessions, buffers "), text);

        gate.open();
        Await.until(DEADLINE, "every byte reached the sink", () -> sink.total() == (long) SESSIONS * BYTES);
        Await.until(DEADLINE, "every stream ended", () -> sink.finished().size() == SESSIONS);
        for (int i = 0; i < SESSIONS; i++) {
            long[] got = sink.finished().get(i);
            assertEquals(BYTES, got[0], "session " + i + "'s length");
            assertEquals(expectedCrc(i), got[1], "session " + i + "'s bytes");
        }
        assertTrue(sproxy.process().isAlive() && cproxy.process().isAlive());
        assertFalse(sproxy.stderr().contains("OutOfMemoryError") || cproxy.stderr().contains("OutOfMemoryError"));
        assertTrue(inUse("sproxy", sproxyPort) <= limit("sproxy", sproxyPort));
    }

    private static long replayed(Map<?, ?> status) {
        return ((List<?>) status.get("sessions")).stream().mapToLong(s -> (Long) ((Map<?, ?>) s).get("replay_bytes")).sum();
    }

    private static long parse(String size) {
        return Long.parseLong(size.substring(0, size.length() - 1)) << 20;
    }

    private static Map<?, ?> status(String daemon, int port) {
        try {
            return (Map<?, ?>) Json.parse(StatusClient.ask(RuntimeDir.socketsToTry(daemon, port), true));
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static long inUse(String daemon, int port) {
        return (Long) status(daemon, port).get("memory_in_use");
    }

    private static long limit(String daemon, int port) {
        return (Long) status(daemon, port).get("memory_limit");
    }

    /** The applications: one non-blocking connection each, written from one thread as fast as cproxy reads. */
    private static final class Pusher implements AutoCloseable {
        private final Selector selector = Selector.open();
        private final List<SocketChannel> channels = new ArrayList<>();
        private volatile long written;
        private Thread thread;

        Pusher(int port) throws IOException {
            for (int i = 0; i < SESSIONS; i++) {
                SocketChannel c = SocketChannel.open(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
                channels.add(c);
            }
        }

        void start() throws IOException {
            for (int i = 0; i < SESSIONS; i++) {
                ByteBuffer data = ByteBuffer.allocate(BYTES);
                for (int j = 0; j < BYTES; j++) {
                    data.put(at(i, j));
                }
                data.flip();
                SocketChannel c = channels.get(i);
                c.configureBlocking(false);
                c.register(selector, SelectionKey.OP_WRITE, data);
            }
            thread = new Thread(this::run, "test-pusher");
            thread.setDaemon(true);
            thread.start();
        }

        private void run() {
            try {
                while (!selector.keys().isEmpty()) {
                    selector.select(1000);
                    for (SelectionKey k : selector.selectedKeys()) {
                        ByteBuffer data = (ByteBuffer) k.attachment();
                        written += ((SocketChannel) k.channel()).write(data);
                        if (!data.hasRemaining()) {
                            ((SocketChannel) k.channel()).shutdownOutput();
                            k.cancel();
                        }
                    }
                    selector.selectedKeys().clear();
                    selector.selectNow();
                }
            } catch (IOException e) {
                // closed by the test
            }
        }

        long written() {
            return written;
        }

        @Override
        public void close() throws IOException {
            selector.close();
            for (SocketChannel c : channels) {
                c.close();
            }
        }
    }

    /** The target: reads each connection to its end, keyed by the session number in its first bytes. */
    private static final class Sink implements AutoCloseable {
        private final ServerSocket server = new ServerSocket(0, 4096, InetAddress.getLoopbackAddress());
        private final List<Socket> sockets = new CopyOnWriteArrayList<>();
        private final Map<Integer, long[]> finished = new ConcurrentHashMap<>();
        private final java.util.concurrent.atomic.AtomicLong total = new java.util.concurrent.atomic.AtomicLong();

        Sink() throws IOException {
            Thread t = new Thread(this::accept, "test-sink");
            t.setDaemon(true);
            t.start();
        }

        int port() {
            return server.getLocalPort();
        }

        private void accept() {
            try {
                while (true) {
                    Socket s = server.accept();
                    sockets.add(s);
                    Thread t = new Thread(() -> read(s), "test-sink-conn");
                    t.setDaemon(true);
                    t.start();
                }
            } catch (IOException e) {
                // closed
            }
        }

        private void read(Socket s) {
            try (InputStream in = s.getInputStream()) {
                byte[] buf = new byte[16384];
                CRC32 crc = new CRC32();
                long n = 0;
                int id = 0;
                int r;
                while ((r = in.read(buf)) >= 0) {
                    for (int j = 0; j < r && n + j < 4; j++) {
                        id = id << 8 | buf[j] & 0xff;
                    }
                    crc.update(buf, 0, r);
                    n += r;
                    total.addAndGet(r);
                }
                finished.put(id, new long[] {n, crc.getValue()});
            } catch (IOException e) {
                // closed
            }
        }

        int connections() {
            return sockets.size();
        }

        long total() {
            return total.get();
        }

        Map<Integer, long[]> finished() {
            return finished;
        }

        @Override
        public void close() throws IOException {
            server.close();
            for (Socket s : sockets) {
                s.close();
            }
        }
    }

    /**
     * Between cproxy and sproxy: forwards while open; {@link #close} resets every link and
     * refuses new ones (the path is gone), {@link #open} listens again on the same port.
     */
    private static final class Gate implements AutoCloseable {
        private final int target;
        private final int port;
        private final List<Socket> sockets = new CopyOnWriteArrayList<>();
        private volatile ServerSocket server;

        Gate(int target) throws IOException {
            this.target = target;
            ServerSocket s = new ServerSocket(0, 4096, InetAddress.getLoopbackAddress());
            port = s.getLocalPort();
            listen(s);
        }

        int port() {
            return port;
        }

        private void listen(ServerSocket s) {
            server = s;
            Thread t = new Thread(() -> {
                try {
                    while (true) {
                        Socket a = s.accept();
                        Socket b = new Socket(InetAddress.getLoopbackAddress(), target);
                        sockets.add(a);
                        sockets.add(b);
                        pump(a, b);
                        pump(b, a);
                    }
                } catch (IOException e) {
                    // closed
                }
            }, "test-gate");
            t.setDaemon(true);
            t.start();
        }

        private void pump(Socket from, Socket to) {
            Thread t = new Thread(() -> {
                try {
                    from.getInputStream().transferTo(to.getOutputStream());
                    to.shutdownOutput();
                } catch (IOException e) {
                    try {
                        to.setSoLinger(true, 0);
                        to.close();
                    } catch (IOException ignored) {
                        // gone
                    }
                }
            }, "test-gate-pump");
            t.setDaemon(true);
            t.start();
        }

        void open() throws IOException {
            ServerSocket s = new ServerSocket();
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 4096);
            listen(s);
        }

        @Override
        public void close() throws IOException {
            server.close();
            for (Socket s : sockets) {
                try {
                    s.setSoLinger(true, 0); // a reset, as when the path goes away
                } catch (IOException e) {
                    // a pump closed it already
                }
                s.close();
            }
            sockets.clear();
        }
    }
}
