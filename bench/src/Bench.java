import java.io.BufferedReader;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.concurrent.locks.LockSupport;

/**
 * roamproxy benchmark harness. Started by {@code bench/run} inside the client network namespace;
 * see {@code bench/README.md}. Subcommands:
 * <ul>
 *   <li>{@code target PORT}: the service every path leads to (runs in the server namespace);</li>
 *   <li>{@code run [options]}: the benchmark: throughput, round trip, resume, 1,000 sessions;</li>
 *   <li>{@code profile [options]}: cproxy&rarr;sproxy bulk transfers under JFR, perf and strace.</li>
 * </ul>
 *
 * <p>Wire protocol between harness and target, identical on all three paths (the relays only
 * see bytes): a 32-byte header (magic, command, length, seed), then the target answers one
 * byte {@code R} once the path is up. {@code U}: the client sends {@code length} bytes, the target
 * verifies them and answers 16 bytes (bytes received, first mismatching offset or -1).
 * {@code D}: the target sends {@code length} bytes and closes. {@code E}: echo until EOF.
 * Every payload byte comes from one pseudo-random pattern shifted by the seed, and every
 * receiver compares every byte, so each figure is for a byte-exact transfer.
 */
public final class Bench {
    // ------------------------------------------------------------------ the data pattern

    /** Pattern period: a prime, so it never lines up with buffer or frame sizes. */
    static final int P = 1_048_573;
    static final int CHUNK = 256 * 1024;
    static final ByteBuffer PAT = makePattern();
    static final int MAGIC = 0x52504231;

    static ByteBuffer makePattern() {
        byte[] b = new byte[P + CHUNK];
        long x = 0x9E3779B97F4A7C15L;
        for (int i = 0; i < P; i++) {
            x ^= x << 13;
            x ^= x >>> 7;
            x ^= x << 17;
            b[i] = (byte) (x >>> 24);
        }
        System.arraycopy(b, 0, b, P, CHUNK);
        ByteBuffer bb = ByteBuffer.allocateDirect(b.length);
        bb.put(b).flip();
        return bb;
    }

    /** The {@code len <= CHUNK} pattern bytes at stream offset {@code off} of stream {@code seed}. */
    static ByteBuffer pat(long off, long seed, int len) {
        int pos = (int) Math.floorMod(off + seed, (long) P);
        return PAT.slice(pos, len);
    }

    static ByteBuffer header(char cmd, long len, long seed) {
        ByteBuffer h = ByteBuffer.allocate(32);
        h.putInt(MAGIC).put((byte) cmd).put(new byte[3]).putLong(len).putLong(seed).putLong(0).flip();
        return h;
    }

    // ------------------------------------------------------------------ blocking socket helpers

    static void readFully(SocketChannel c, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            if (c.read(b) < 0) {
                throw new EOFException("connection closed after " + b.position() + " of " + b.limit() + " bytes");
            }
        }
    }

    static void writeFully(SocketChannel c, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            c.write(b);
        }
    }

    /** Bytes moved by send() and receive() in this JVM so far: lets the profiler measure a window. */
    static final AtomicLong PROGRESS = new AtomicLong();

    static void send(SocketChannel c, long len, long seed) throws IOException {
        long sent = 0;
        while (sent < len) {
            int n = (int) Math.min(CHUNK, len - sent);
            writeFully(c, pat(sent, seed, n));
            sent += n;
            PROGRESS.addAndGet(n);
        }
    }

    /** @return {bytes received, first mismatching offset or -1}; stops at {@code len} or EOF */
    static long[] receive(SocketChannel c, long len, long seed) throws IOException {
        ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK);
        long got = 0;
        long bad = -1;
        while (got < len) {
            buf.clear().limit((int) Math.min(CHUNK, len - got));
            int n = c.read(buf);
            if (n < 0) {
                break;
            }
            if (bad < 0) {
                buf.flip();
                int m = buf.mismatch(pat(got, seed, n));
                if (m >= 0) {
                    bad = got + m;
                }
            }
            got += n;
            PROGRESS.addAndGet(n);
        }
        return new long[]{got, bad};
    }

    static void drainToEof(SocketChannel c) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(4096);
        while (c.read(b) >= 0) {
            b.clear();
        }
    }

    static void closeQuietly(AutoCloseable c) {
        try {
            if (c != null) {
                c.close();
            }
        } catch (Exception ignored) {
            // discarding it
        }
    }

    // ------------------------------------------------------------------ target

    static void runTarget(int port) throws IOException {
        ServerSocketChannel ss = ServerSocketChannel.open();
        ss.setOption(StandardSocketOptions.SO_REUSEADDR, true);
        ss.bind(new InetSocketAddress(port), 4096);
        System.err.println("target listening on " + port);
        for (;;) {
            SocketChannel c = ss.accept();
            Thread t = new Thread(null, () -> serve(c), "serve", 256 * 1024);
            t.setDaemon(true);
            t.start();
        }
    }

    static void serve(SocketChannel c) {
        try (c) {
            c.setOption(StandardSocketOptions.TCP_NODELAY, true);
            ByteBuffer h = ByteBuffer.allocate(32);
            readFully(c, h);
            h.flip();
            if (h.getInt() != MAGIC) {
                return;
            }
            char cmd = (char) h.get();
            h.position(h.position() + 3);
            long len = h.getLong();
            long seed = h.getLong();
            writeFully(c, ByteBuffer.wrap(new byte[]{'R'}));
            switch (cmd) {
                case 'U' -> {
                    long[] r = receive(c, len, seed);
                    writeFully(c, ByteBuffer.allocate(16).putLong(r[0]).putLong(r[1]).flip());
                    drainToEof(c);
                }
                case 'D' -> {
                    send(c, len, seed);
                    c.shutdownOutput();
                    drainToEof(c);
                }
                case 'E' -> {
                    ByteBuffer buf = ByteBuffer.allocateDirect(64 * 1024);
                    while (c.read(buf) >= 0) {
                        buf.flip();
                        writeFully(c, buf);
                        buf.clear();
                    }
                }
                default -> {
                }
            }
        } catch (IOException e) {
            // the client went away
        }
    }

    // ------------------------------------------------------------------ client operations

    static final ScheduledExecutorService WATCHDOG = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "watchdog");
        t.setDaemon(true);
        return t;
    });

    static SocketChannel connect(InetSocketAddress a, char cmd, long len, long seed) throws IOException {
        SocketChannel c = SocketChannel.open();
        ScheduledFuture<?> wd = WATCHDOG.schedule(() -> closeQuietly(c), 30, TimeUnit.SECONDS);
        try {
            c.setOption(StandardSocketOptions.TCP_NODELAY, true);
            c.connect(a);
            writeFully(c, header(cmd, len, seed));
            ByteBuffer r = ByteBuffer.allocate(1);
            readFully(c, r);
            if (r.get(0) != 'R') {
                throw new IOException("target did not answer R");
            }
            return c;
        } catch (IOException e) {
            c.close();
            throw new IOException("cannot open a " + cmd + " connection through " + a + ": " + e, e);
        } finally {
            wd.cancel(false);
        }
    }

    /** Seconds for an upload of {@code len} bytes: from the first byte sent to the target's verdict. */
    static double upload(InetSocketAddress a, long len, long seed) throws IOException {
        SocketChannel c = connect(a, 'U', len, seed);
        ScheduledFuture<?> wd = WATCHDOG.schedule(() -> closeQuietly(c), 60 + len / 10_000_000, TimeUnit.SECONDS);
        try (c) {
            long t0 = System.nanoTime();
            send(c, len, seed);
            ByteBuffer r = ByteBuffer.allocate(16);
            readFully(c, r);
            long t1 = System.nanoTime();
            long got = r.getLong(0);
            long bad = r.getLong(8);
            if (got != len || bad >= 0) {
                throw new IOException("upload through " + a + " not byte-exact: target got " + got + " of " + len
                        + (bad >= 0 ? ", first wrong byte at " + bad : ""));
            }
            return (t1 - t0) / 1e9;
        } finally {
            wd.cancel(false);
        }
    }

    /** Seconds for a download of {@code len} bytes: from the ready byte to the last byte verified. */
    static double download(InetSocketAddress a, long len, long seed) throws IOException {
        SocketChannel c = connect(a, 'D', len, seed);
        ScheduledFuture<?> wd = WATCHDOG.schedule(() -> closeQuietly(c), 60 + len / 10_000_000, TimeUnit.SECONDS);
        try (c) {
            long t0 = System.nanoTime();
            long[] r = receive(c, len, seed);
            long t1 = System.nanoTime();
            if (r[0] != len || r[1] >= 0) {
                throw new IOException("download through " + a + " not byte-exact: got " + r[0] + " of " + len
                        + (r[1] >= 0 ? ", first wrong byte at " + r[1] : ""));
            }
            if (c.read(ByteBuffer.allocate(1)) != -1) {
                throw new IOException("download through " + a + ": bytes after the end");
            }
            return (t1 - t0) / 1e9;
        } finally {
            wd.cancel(false);
        }
    }

    /** Round trips of one byte each, {@code gapNanos} apart, after {@code warm} unrecorded ones. */
    static long[] roundTrips(InetSocketAddress a, int warm, int n, long gapNanos) throws IOException {
        SocketChannel c = connect(a, 'E', 0, 0);
        ScheduledFuture<?> wd = WATCHDOG.schedule(() -> closeQuietly(c), 120 + (warm + n) * (gapNanos / 1_000_000 + 5) / 1000,
                TimeUnit.SECONDS);
        try (c) {
            ByteBuffer o = ByteBuffer.allocateDirect(1);
            ByteBuffer i = ByteBuffer.allocateDirect(1);
            long[] s = new long[n];
            for (int k = 0; k < warm + n; k++) {
                o.clear();
                o.put(0, (byte) k);
                long t0 = System.nanoTime();
                writeFully(c, o);
                i.clear();
                readFully(c, i);
                long t1 = System.nanoTime();
                if (i.get(0) != (byte) k) {
                    throw new IOException("echo through " + a + " returned the wrong byte");
                }
                if (k >= warm) {
                    s[k - warm] = t1 - t0;
                }
                if (gapNanos > 0) {
                    LockSupport.parkNanos(gapNanos);
                }
            }
            return s;
        } finally {
            wd.cancel(false);
        }
    }

    // ------------------------------------------------------------------ child processes

    record Line(long t, String text) {
    }

    /** A child process whose output lines are kept with their arrival time (System.nanoTime). */
    static final class Proc {
        static final List<Proc> ALL = new ArrayList<>();
        final String name;
        final Process p;
        final long pid;
        private final List<Line> lines = new ArrayList<>();
        private int keepFrom;

        Proc(String name, List<String> cmd, Map<String, String> env, Path logDir) throws IOException {
            this.name = name;
            ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
            pb.environment().putAll(env);
            p = pb.start();
            pid = p.pid();
            synchronized (ALL) {
                ALL.add(this);
            }
            PrintWriter log = new PrintWriter(Files.newBufferedWriter(logDir.resolve(name + ".log")), true);
            Thread t = new Thread(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                    String s;
                    while ((s = r.readLine()) != null) {
                        long now = System.nanoTime();
                        log.println(s);
                        synchronized (this) {
                            lines.add(new Line(now, s));
                            notifyAll();
                        }
                    }
                } catch (IOException ignored) {
                    // process ended
                } finally {
                    log.close();
                }
            }, "out-" + name);
            t.setDaemon(true);
            t.start();
        }

        /** Times of the lines containing {@code needle} that arrived after {@code after}. */
        synchronized List<Long> times(String needle, long after) {
            List<Long> r = new ArrayList<>();
            for (int i = keepFrom; i < lines.size(); i++) {
                Line l = lines.get(i);
                if (l.t > after && l.text.contains(needle)) {
                    r.add(l.t);
                }
            }
            return r;
        }

        /** Waits for the {@code count}-th line containing {@code needle} after {@code after}; its time, or -1. */
        synchronized long await(String needle, long after, int count, long timeoutMillis) throws InterruptedException {
            long deadline = System.nanoTime() + timeoutMillis * 1_000_000;
            for (;;) {
                List<Long> t = times(needle, after);
                if (t.size() >= count) {
                    return t.get(count - 1);
                }
                long left = deadline - System.nanoTime();
                if (left <= 0 || !p.isAlive()) {
                    return -1;
                }
                wait(Math.max(1, left / 1_000_000));
            }
        }

        /** Forgets old lines (the 1,000-session test makes many). */
        synchronized void forget() {
            keepFrom = lines.size();
        }

        void stop() {
            if (!p.isAlive()) {
                return;
            }
            p.destroy();
            try {
                if (!p.waitFor(5, TimeUnit.SECONDS)) {
                    p.destroyForcibly();
                    p.waitFor(5, TimeUnit.SECONDS);
                }
            } catch (InterruptedException e) {
                p.destroyForcibly();
            }
        }

        static void stopAll() {
            List<Proc> all;
            synchronized (ALL) {
                all = new ArrayList<>(ALL);
            }
            for (Proc p : all) {
                p.stop();
            }
        }
    }

    /** Runs a short command to completion; @return System.nanoTime() when it exited. */
    static long run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        int rc = p.waitFor();
        long t = System.nanoTime();
        if (rc != 0) {
            throw new IOException(String.join(" ", cmd) + " failed (" + rc + "): " + out.trim());
        }
        return t;
    }

    static String output(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor();
            return out;
        } catch (IOException | InterruptedException e) {
            return "";
        }
    }

    /** Waits until {@code pid}'s network namespace has a listener on {@code port}. */
    static void awaitListening(long pid, int port, long timeoutMillis) throws IOException, InterruptedException {
        long deadline = System.currentTimeMillis() + timeoutMillis;
        String hex = String.format(":%04X", port);
        while (System.currentTimeMillis() < deadline) {
            for (String f : new String[]{"tcp", "tcp6"}) {
                Path p = Path.of("/proc/" + pid + "/net/" + f);
                if (Files.exists(p)) {
                    for (String l : Files.readAllLines(p)) {
                        String[] c = l.trim().split("\\s+");
                        if (c.length > 3 && c[1].endsWith(hex) && c[3].equals("0A")) {
                            return;
                        }
                    }
                }
            }
            Thread.sleep(20);
        }
        throw new IOException("nothing listens on port " + port + " after " + timeoutMillis + " ms");
    }

    /** utime+stime+cutime+cstime of {@code pid} in clock ticks (1/100 s), or 0 if it is gone. */
    static long cpuTicks(long pid) {
        try {
            String s = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
            return Long.parseLong(f[11]) + Long.parseLong(f[12]) + Long.parseLong(f[13]) + Long.parseLong(f[14]);
        } catch (IOException | RuntimeException e) {
            return 0;
        }
    }

    /** pid -> CPU ticks (as {@link #cpuTicks}) of every process on the machine. */
    static Map<Long, Long> allCpuTicks() {
        Map<Long, Long> m = new HashMap<>();
        try (var ds = Files.newDirectoryStream(Path.of("/proc"), "[0-9]*")) {
            for (Path p : ds) {
                long pid = Long.parseLong(p.getFileName().toString());
                m.put(pid, cpuTicks(pid));
            }
        } catch (IOException | RuntimeException e) {
            // best effort
        }
        return m;
    }

    /** CPU ticks spent between two {@link #allCpuTicks} snapshots by processes other than {@code ours} and their children. */
    static long foreignTicks(Map<Long, Long> before, Map<Long, Long> after, java.util.Set<Long> ours) {
        long t = 0;
        for (var e : after.entrySet()) {
            long ppid = parent(e.getKey());
            // ours, their children (socat's per-connection processes) and kernel threads (softirq work we cause)
            if (!ours.contains(e.getKey()) && !ours.contains(ppid) && ppid != 2 && e.getKey() != 2) {
                t += Math.max(0, e.getValue() - before.getOrDefault(e.getKey(), 0L));
            }
        }
        return t;
    }

    static long parent(long pid) {
        try {
            String s = Files.readString(Path.of("/proc/" + pid + "/stat"));
            return Long.parseLong(s.substring(s.lastIndexOf(')') + 2).split(" ")[1]);
        } catch (IOException | RuntimeException e) {
            return -1;
        }
    }

    /** {VmRSS KiB, VmHWM KiB, Threads} of {@code pid}, or zeros. */
    static long[] memory(long pid) {
        long[] r = new long[3];
        try {
            for (String l : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (l.startsWith("VmRSS:")) {
                    r[0] = Long.parseLong(l.replaceAll("\\D", ""));
                } else if (l.startsWith("VmHWM:")) {
                    r[1] = Long.parseLong(l.replaceAll("\\D", ""));
                } else if (l.startsWith("Threads:")) {
                    r[2] = Long.parseLong(l.replaceAll("\\D", ""));
                }
            }
        } catch (IOException | RuntimeException e) {
            // gone
        }
        return r;
    }

    /** The TcpExt counters of {@code pid}'s network namespace (ListenOverflows, TCPSynRetrans, ...). */
    static Map<String, Long> tcpExt(long pid) {
        Map<String, Long> m = new HashMap<>();
        try {
            List<String> l = Files.readAllLines(Path.of("/proc/" + pid + "/net/netstat"));
            for (int i = 0; i + 1 < l.size(); i += 2) {
                String[] k = l.get(i).split("\\s+");
                String[] v = l.get(i + 1).split("\\s+");
                for (int j = 1; j < k.length && j < v.length; j++) {
                    m.put(k[0] + k[j], Long.parseLong(v[j]));
                }
            }
        } catch (IOException | RuntimeException e) {
            // not available
        }
        return m;
    }

    static long delta(Map<String, Long> before, Map<String, Long> after, String key) {
        return after.getOrDefault(key, 0L) - before.getOrDefault(key, 0L);
    }

    // ------------------------------------------------------------------ statistics

    static double percentile(double[] sorted, double p) {
        if (sorted.length == 0) {
            return Double.NaN;
        }
        double rank = p / 100.0 * (sorted.length - 1);
        int lo = (int) Math.floor(rank);
        int hi = (int) Math.ceil(rank);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (rank - lo);
    }

    static double median(List<Double> v) {
        double[] a = v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
        return percentile(a, 50);
    }

    static double[] sorted(List<Double> v) {
        return v.stream().mapToDouble(Double::doubleValue).sorted().toArray();
    }

    // ------------------------------------------------------------------ JSON (no dependencies)

    static String json(Object o, String indent) {
        if (o == null) {
            return "null";
        }
        if (o instanceof String s) {
            StringBuilder b = new StringBuilder("\"");
            for (char ch : s.toCharArray()) {
                switch (ch) {
                    case '"' -> b.append("\\\"");
                    case '\\' -> b.append("\\\\");
                    case '\n' -> b.append("\\n");
                    case '\t' -> b.append("\\t");
                    default -> {
                        if (ch < 0x20) {
                            b.append(String.format("\\u%04x", (int) ch));
                        } else {
                            b.append(ch);
                        }
                    }
                }
            }
            return b.append('"').toString();
        }
        if (o instanceof Double d) {
            return d.isNaN() || d.isInfinite() ? "null" : fmt(d);
        }
        if (o instanceof Number || o instanceof Boolean) {
            return o.toString();
        }
        if (o instanceof double[] a) {
            List<Object> l = new ArrayList<>();
            for (double d : a) {
                l.add(d);
            }
            return json(l, indent);
        }
        String in = indent + "  ";
        if (o instanceof Map<?, ?> m) {
            StringBuilder b = new StringBuilder("{");
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                b.append(first ? "\n" : ",\n").append(in).append(json(String.valueOf(e.getKey()), in)).append(": ")
                        .append(json(e.getValue(), in));
                first = false;
            }
            return b.append(first ? "}" : "\n" + indent + "}").toString();
        }
        if (o instanceof Collection<?> c) {
            boolean flat = c.stream().allMatch(x -> x instanceof Number || x == null);
            StringBuilder b = new StringBuilder("[");
            boolean first = true;
            for (Object x : c) {
                b.append(first ? "" : ",").append(flat ? (first ? "" : " ") : "\n" + in).append(json(x, in));
                first = false;
            }
            return b.append(flat || first ? "]" : "\n" + indent + "]").toString();
        }
        return json(o.toString(), indent);
    }

    static String fmt(double d) {
        if (d == Math.rint(d) && Math.abs(d) < 1e15) {
            return Long.toString((long) d);
        }
        return String.format(Locale.ROOT, "%.4g", d).replaceAll("(\\.\\d*?)0+(e|$)", "$1$2").replaceAll("\\.(e|$)", "$1");
    }

    // ------------------------------------------------------------------ main

    public static void main(String[] args) throws Exception {
        Locale.setDefault(Locale.ROOT);
        if (args.length == 0) {
            throw new IllegalArgumentException("usage: Bench target PORT | run [options] | profile [options]");
        }
        switch (args[0]) {
            case "target" -> runTarget(Integer.parseInt(args[1]));
            case "run" -> new Harness(Options.parse(args)).runAll();
            case "profile" -> new Harness(Options.parse(args)).profile();
            case "jfr-top" -> JfrTop.main(Arrays.copyOfRange(args, 1, args.length));
            default -> throw new IllegalArgumentException("unknown subcommand " + args[0]);
        }
    }
}
