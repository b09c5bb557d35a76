package net.roamproxy.hardening;

import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.ArrayList;
import java.util.List;
import java.util.Queue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;

import net.roamproxy.testkit.Threads;
import net.roamproxy.wire.Wire;

/**
 * An attacker on the path between cproxy and sproxy: a loopback relay that reads each
 * direction frame by frame (by the fixed 24-byte header, whatever the version, so it never
 * loses its place even after it altered a frame) and forwards them unchanged until an armed
 * {@link Attack} takes one. An attack may alter the frame, answer it in the target's place,
 * inject bytes before it, or reset the connection: whatever an attacker with the wire in
 * hand can do. Attacks fire once each, in the order armed.
 *
 * <p>The connection to the target is made only when the first frame is forwarded, so a HELLO
 * the attacker answers itself never reaches sproxy. Every frame each end sent is recorded per
 * connection, which is what an eavesdropper recording the link has.
 *
 * <p>Threading: public methods are thread-safe; attacks run on the pump threads, daemons named
 * {@code it-mitm-<port>-...}.
 */
final class MitmRelay implements AutoCloseable {
    /** UP: cproxy to sproxy; DOWN: sproxy to cproxy. */
    enum Direction { UP, DOWN }

    /** A frame as it crossed the relay, before any attack. */
    record Seen(Conn conn, Direction direction, int index, byte[] bytes) {
        int version() {
            return bytes[2] & 0xff;
        }

        int type() {
            return bytes[3] & 0xff;
        }

        int payloadLength() {
            return bytes.length - Wire.HEADER_SIZE;
        }
    }

    /** What the attacker does with the frame it took: the relay forwards nothing of it by itself. */
    @FunctionalInterface
    interface Action {
        void act(Seen frame) throws IOException;
    }

    /** One armed attack: it takes the first frame {@code when} accepts. */
    record Attack(String name, Predicate<Seen> when, Action action, CompletableFuture<Seen> fired) {
    }

    private final ServerSocket server;
    private volatile int targetPort;
    private final String name;
    private final List<Conn> conns = new CopyOnWriteArrayList<>();
    private final Queue<Attack> armed = new ConcurrentLinkedQueue<>();
    private final Queue<Thread> threads = new ConcurrentLinkedQueue<>();
    private volatile boolean closed;

    MitmRelay(int targetPort) throws IOException {
        this.targetPort = targetPort;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        this.name = "it-mitm-" + server.getLocalPort();
        start("accept", this::acceptLoop);
    }

    int port() {
        return server.getLocalPort();
    }

    /** Connections from now on go to {@code 127.0.0.1:port}: another server at the same address. */
    void retarget(int port) {
        targetPort = port;
    }

    /** Every connection accepted so far, in order. */
    List<Conn> connections() {
        return List.copyOf(conns);
    }

    int connectionsAccepted() {
        return conns.size();
    }

    /**
     * The connections cproxy sent at least one frame on, in order: its dials. Unlike
     * {@link #connectionsAccepted()} this leaves out a connect cproxy raced to the same
     * address and dropped when another answered first, which never carries a frame.
     */
    List<Conn> dials() {
        return conns.stream().filter(c -> !c.frames(Direction.UP).isEmpty()).toList();
    }

    /** Connections whose ends are both still open. */
    List<Conn> openConnections() {
        List<Conn> out = new ArrayList<>();
        for (Conn c : conns) {
            if (!c.dead) {
                out.add(c);
            }
        }
        return out;
    }

    /** Arms an attack on the first frame {@code when} accepts; completes with that frame once done. */
    CompletableFuture<Seen> arm(String what, Predicate<Seen> when, Action action) {
        Attack a = new Attack(what, when, action, new CompletableFuture<>());
        armed.add(a);
        return a.fired();
    }

    /** Attacks armed and not yet fired. */
    int armedCount() {
        return armed.size();
    }

    /** Resets every open connection, as a forged RST on each would. */
    void resetAll() {
        for (Conn c : openConnections()) {
            c.reset();
        }
    }

    private Attack take(Seen s) {
        synchronized (armed) {
            Attack head = armed.peek();
            if (head != null && head.when().test(s)) {
                armed.poll();
                return head;
            }
            return null;
        }
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
            start("c" + c.id + "-up", () -> c.pump(Direction.UP));
        }
    }

    private void start(String suffix, Runnable body) {
        Thread t = new Thread(body, name + "-" + suffix);
        t.setDaemon(true);
        threads.add(t);
        threads.removeIf(old -> old.getState() == Thread.State.TERMINATED);
        t.start();
    }

    /** Reads one whole frame by its header; {@code null} at a clean end of stream. */
    static byte[] readFrame(InputStream in) throws IOException {
        byte[] header = in.readNBytes(Wire.HEADER_SIZE);
        if (header.length == 0) {
            return null;
        }
        if (header.length < Wire.HEADER_SIZE) {
            throw new EOFException("end of stream inside a header");
        }
        long length = Wire.getInt(header, 4) & 0xffffffffL;
        if (length > Wire.MAX_FRAME) {
            throw new IOException("not a frame we can follow: length " + length);
        }
        byte[] frame = new byte[Wire.HEADER_SIZE + (int) length];
        System.arraycopy(header, 0, frame, 0, Wire.HEADER_SIZE);
        int n = in.readNBytes(frame, Wire.HEADER_SIZE, (int) length);
        if (n < length) {
            throw new EOFException("end of stream inside a frame");
        }
        return frame;
    }

    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // best effort
        }
        conns.forEach(Conn::reset);
        armed.forEach(a -> a.fired().cancel(false));
        Threads.join(5_000, threads.toArray(new Thread[0]));
    }

    @Override
    public String toString() {
        return name + " -> 127.0.0.1:" + targetPort;
    }

    /** One connection from cproxy and, once something is forwarded, its connection to the target. */
    final class Conn {
        final int id;
        private final Socket client;
        private volatile Socket target;
        private final ByteArrayOutputStream[] record = {new ByteArrayOutputStream(), new ByteArrayOutputStream()};
        private final List<List<byte[]>> frames = List.of(new CopyOnWriteArrayList<>(), new CopyOnWriteArrayList<>());
        private volatile boolean dead;
        /** Directions whose sender finished in order. Guarded by this. */
        private int finished;

        Conn(int id, Socket client) {
            this.id = id;
            this.client = client;
        }

        /** The port of our connection to sproxy: sproxy logs this link as {@code 127.0.0.1:<port>}; -1 if none. */
        int targetSidePort() {
            Socket t = target;
            return t == null ? -1 : t.getLocalPort();
        }

        boolean isOpen() {
            return !dead;
        }

        /** Every byte the sender in {@code d} sent on this connection so far, before any attack. */
        byte[] recorded(Direction d) {
            synchronized (record[d.ordinal()]) {
                return record[d.ordinal()].toByteArray();
            }
        }

        /** The frames sent in {@code d} so far, before any attack. */
        List<byte[]> frames(Direction d) {
            return List.copyOf(frames.get(d.ordinal()));
        }

        /** Sends {@code bytes} on to the receiver of {@code d} (connecting to the target if need be). */
        void forward(Direction d, byte[] bytes) throws IOException {
            Socket to = d == Direction.UP ? target() : client;
            OutputStream out = to.getOutputStream();
            synchronized (to) {
                out.write(bytes);
                out.flush();
            }
        }

        /** Answers the sender of {@code d} in the receiver's place. */
        void answer(Direction d, byte[] bytes) throws IOException {
            forward(d == Direction.UP ? Direction.DOWN : Direction.UP, bytes);
        }

        /** We send nothing more to cproxy (FIN); what it reads before it stays readable. */
        void finishToClient() throws IOException {
            client.shutdownOutput();
        }

        /** Resets both ends (RST), wherever their streams are. */
        void reset() {
            dead = true;
            abort(client);
            Socket t = target;
            if (t != null) {
                abort(t);
            }
        }

        private Socket target() throws IOException {
            synchronized (this) {
                if (target == null) {
                    if (dead) {
                        throw new IOException("connection " + id + " is dead");
                    }
                    Socket t = new Socket(InetAddress.getLoopbackAddress(), targetPort);
                    t.setTcpNoDelay(true);
                    target = t;
                    start("c" + id + "-down", () -> pump(Direction.DOWN));
                }
                return target;
            }
        }

        private void pump(Direction d) {
            try {
                InputStream in = (d == Direction.UP ? client : target).getInputStream();
                for (int index = 0; ; index++) {
                    byte[] frame = readFrame(in);
                    if (frame == null) {
                        ended(d);
                        return;
                    }
                    synchronized (record[d.ordinal()]) {
                        record[d.ordinal()].writeBytes(frame);
                    }
                    frames.get(d.ordinal()).add(frame);
                    Seen seen = new Seen(this, d, index, frame);
                    Attack a = take(seen);
                    if (a == null) {
                        forward(d, frame);
                    } else {
                        try {
                            a.action().act(seen);
                        } finally {
                            a.fired().complete(seen);
                        }
                    }
                }
            } catch (IOException | RuntimeException e) {
                reset();
            }
        }

        /** The sender in {@code d} finished in order: pass its FIN on; once both have, the pair is done. */
        private void ended(Direction d) throws IOException {
            Socket to = d == Direction.UP ? target : client;
            boolean both;
            synchronized (this) {
                both = ++finished == 2 || target == null;
            }
            if (to != null && !to.isClosed()) {
                to.shutdownOutput();
            }
            if (both) {
                dead = true;
                client.close();
                Socket t = target;
                if (t != null) {
                    t.close();
                }
            }
        }

        private void abort(Socket s) {
            try {
                s.setSoLinger(true, 0);
            } catch (IOException ignored) {
                // closing anyway
            }
            try {
                s.close();
            } catch (IOException ignored) {
                // best effort
            }
        }

        @Override
        public String toString() {
            return "connection " + id + (dead ? " (dead)" : "");
        }
    }
}
