import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code Bench profile}: where the time goes in a cproxy&rarr;sproxy bulk transfer.
 * For each direction, over a steady-state window of a long transfer:
 * <ol>
 *   <li>CPU per thread role (link, app-in, io pool, GC, JIT) from /proc, with the
 *       Java thread names from {@code jcmd Thread.print}; context switches per MiB;</li>
 *   <li>system calls per MiB, counted with perf's syscall tracepoints (no ptrace slowdown);</li>
 *   <li>a JFR recording (settings=profile) of each proxy: hot methods, allocation, GC;</li>
 *   <li>a system-wide {@code perf record} whose report splits the CPU between kernel (TCP,
 *       copies), JIT-compiled Java (named through the JVM's perf map) and the JVM itself.</li>
 * </ol>
 * Plus a micro-measurement of one thread hand-off (park/unpark and wait/notify wake-up) on
 * this machine, the unit cost of the relay's design for small messages.
 */
final class Profiler {
    static final String[] SYSCALLS = {"read", "write", "readv", "writev", "recvfrom", "sendto", "poll", "ppoll",
            "epoll_wait", "futex", "sched_yield", "mmap", "munmap", "madvise", "mprotect"};

    final Harness h;
    final Options o;
    final Path dir;
    final StringBuilder report = new StringBuilder();
    final Map<String, Object> json = new LinkedHashMap<>();

    Profiler(Harness h) throws IOException {
        this.h = h;
        this.o = h.o;
        this.dir = o.workDir.resolve("profile");
        Files.createDirectories(dir);
    }

    static void run(Harness h) throws Exception {
        new Profiler(h).go();
    }

    void out(String fmt, Object... a) {
        String s = String.format(Locale.ROOT, fmt, a);
        System.out.println(s);
        System.out.flush();
        report.append(s).append('\n');
    }

    void go() throws Exception {
        long window = o.quick ? 2000 : 4000;
        long big = o.quick ? 2L << 30 : 6L << 30;
        out("roamproxy profile %s on %s", o.stamp, o.machine);
        out("cproxy->sproxy bulk transfers in the benchmark's namespaces; measurement windows of %d ms in the middle of "
                + "%d GiB transfers, after a 1 GiB warm-up each way. Proxies run with JAVA_OPTS '%s' plus diagnostic flags "
                + "(-XX:+PreserveFramePointer -XX:+DebugNonSafepoints).", window, big >> 30,
                o.proxyJavaOpts.isEmpty() ? "(default)" : o.proxyJavaOpts);
        handoffs();
        h.startTarget();
        h.startPair(5200, 6200, "", "-XX:+UnlockDiagnosticVMOptions -XX:+DebugNonSafepoints -XX:+PreserveFramePointer");
        InetSocketAddress roam = new InetSocketAddress("127.0.0.1", 5200);
        Bench.upload(roam, 1L << 30, 1);
        Bench.download(roam, 1L << 30, 2);
        List<String> perfFiles = new ArrayList<>();
        try {
            keystrokes(roam);
            for (String d : new String[]{"up", "down"}) {
                out("");
                out("==================== %s (%s) ====================", d.equals("up") ? "UPSTREAM" : "DOWNSTREAM",
                        d.equals("up") ? "client -> cproxy -> sproxy -> target" : "target -> sproxy -> cproxy -> client");
                threadsAndSyscalls(roam, d, big, window);
                jfr(roam, d);
                perfFiles.add(perfRecord(roam, d, big, window));
            }
        } finally {
            h.cproxy.stop(); // SIGTERM: the JVMs write their perf maps on the way out
            h.sproxy.stop();
        }
        long[] pids = {h.cproxy.pid, h.sproxy.pid, h.target.pid, h.self};
        for (long pid : pids) {
            Files.deleteIfExists(Path.of(System.getProperty("java.io.tmpdir"), "perf-" + pid + ".map"));
        }
        Files.writeString(Path.of(o.out + "-profile.txt"), report.toString());
        Files.writeString(Path.of(o.out + "-profile.json"), Bench.json(json, "") + "\n");
    }

    // ------------------------------------------------------------------ hand-off cost

    void handoffs() throws InterruptedException {
        out("");
        Map<String, Object> m = new LinkedHashMap<>();
        for (long gapMicros : new long[]{20, 1000}) {
            int n = gapMicros < 100 ? 20000 : 3000;
            double[] s = pingPong(n, gapMicros * 1000);
            out("Thread hand-off on this machine (park/unpark ping-pong, peer asleep %5d us before each): one wake-up "
                    + "p50 %.1f us, p90 %.1f us, p99 %.1f us", gapMicros, Bench.percentile(s, 50), Bench.percentile(s, 90),
                    Bench.percentile(s, 99));
            Map<String, Object> g = new LinkedHashMap<>();
            g.put("wakeup_us_p50", Bench.percentile(s, 50));
            g.put("wakeup_us_p90", Bench.percentile(s, 90));
            g.put("wakeup_us_p99", Bench.percentile(s, 99));
            m.put("idle_" + gapMicros + "us_before", g);
        }
        json.put("handoff", m);
    }

    /** One-way wake-up latencies of a park/unpark ping-pong, the peer idle {@code gapNanos} before each. */
    static double[] pingPong(int n, long gapNanos) throws InterruptedException {
        long[] rt = new long[n];
        Thread me = Thread.currentThread();
        java.util.concurrent.atomic.AtomicInteger turn = new java.util.concurrent.atomic.AtomicInteger();
        Thread t = new Thread(() -> {
            for (int i = 0; i < n; i++) {
                while (turn.get() != 1) {
                    LockSupport.park();
                }
                turn.set(0);
                LockSupport.unpark(me);
            }
        });
        t.start();
        for (int i = 0; i < n; i++) {
            LockSupport.parkNanos(gapNanos); // both threads idle, like a relay between keystrokes
            long t0 = System.nanoTime();
            turn.set(1);
            LockSupport.unpark(t);
            while (turn.get() != 0) {
                LockSupport.park();
            }
            rt[i] = System.nanoTime() - t0;
        }
        t.join();
        double[] s = new double[n];
        for (int i = 0; i < n; i++) {
            s[i] = rt[i] / 2000.0;
        }
        java.util.Arrays.sort(s);
        return s;
    }

    // ------------------------------------------------------------------ threads, context switches, syscalls

    /** tid -> role, from jcmd Thread.print (nid is the Linux thread id). */
    static Map<Long, String> roles(long pid) {
        Map<Long, String> m = new HashMap<>();
        Pattern p = Pattern.compile("^\"([^\"]+)\".* nid=0x([0-9a-f]+)");
        for (String l : Bench.output("jcmd", String.valueOf(pid), "Thread.print").split("\n")) {
            Matcher x = p.matcher(l);
            if (x.find()) {
                m.put(Long.parseLong(x.group(2), 16), role(x.group(1)));
            }
        }
        return m;
    }

    static String role(String name) {
        for (String r : new String[]{"app-in", "link"}) {
            if (name.endsWith("-" + r)) {
                return r;
            }
        }
        if (name.startsWith("relay-io-")) {
            return "io"; // the shared pool running the send and deliver jobs
        }
        if (name.startsWith("GC Thread") || name.startsWith("G1 ") || name.contains("GC")) {
            return "gc";
        }
        if (name.contains("CompilerThread")) {
            return "jit";
        }
        return "other";
    }

    /** tid -> {cpu ticks, voluntary switches, involuntary switches}. */
    static Map<Long, long[]> tasks(long pid) {
        Map<Long, long[]> m = new HashMap<>();
        try (var ds = Files.newDirectoryStream(Path.of("/proc/" + pid + "/task"))) {
            for (Path t : ds) {
                long tid = Long.parseLong(t.getFileName().toString());
                try {
                    String st = Files.readString(t.resolve("stat"));
                    String[] f = st.substring(st.lastIndexOf(')') + 2).split(" ");
                    long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
                    long vol = 0;
                    long inv = 0;
                    for (String l : Files.readAllLines(t.resolve("status"))) {
                        if (l.startsWith("voluntary_ctxt_switches:")) {
                            vol = Long.parseLong(l.replaceAll("\\D", ""));
                        } else if (l.startsWith("nonvoluntary_ctxt_switches:")) {
                            inv = Long.parseLong(l.replaceAll("\\D", ""));
                        }
                    }
                    m.put(tid, new long[]{ticks, vol, inv});
                } catch (IOException | RuntimeException e) {
                    // thread ended
                }
            }
        } catch (IOException e) {
            // process ended
        }
        return m;
    }

    /** An endless transfer in one direction, ended by {@link Stream#stop()}: its threads stay alive for the snapshots. */
    static final class Stream {
        final java.util.concurrent.atomic.AtomicBoolean stop = new java.util.concurrent.atomic.AtomicBoolean();
        final java.nio.channels.SocketChannel c;
        final Thread t;

        Stream(InetSocketAddress a, String d, long seed) throws IOException {
            c = Bench.connect(a, d.equals("up") ? 'U' : 'D', 1L << 50, seed);
            t = new Thread(() -> {
                java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocateDirect(Bench.CHUNK);
                long off = 0;
                try {
                    while (!stop.get()) {
                        if (d.equals("up")) {
                            Bench.writeFully(c, Bench.pat(off, seed, Bench.CHUNK));
                            off += Bench.CHUNK;
                            Bench.PROGRESS.addAndGet(Bench.CHUNK);
                        } else {
                            buf.clear();
                            int n = c.read(buf);
                            if (n < 0) {
                                break;
                            }
                            buf.flip();
                            if (buf.mismatch(Bench.pat(off, seed, n)) >= 0) {
                                throw new IOException("profile download not byte-exact at " + off);
                            }
                            off += n;
                            Bench.PROGRESS.addAndGet(n);
                        }
                    }
                } catch (IOException e) {
                    if (!stop.get()) {
                        System.out.println("!! profile transfer failed: " + e);
                    }
                }
            }, "transfer");
            t.start();
        }

        void stop() throws InterruptedException {
            stop.set(true);
            Bench.closeQuietly(c);
            t.join(5000);
        }
    }

    void threadsAndSyscalls(InetSocketAddress roam, String d, long big, long window) throws Exception {
        long[] pids = {h.cproxy.pid, h.sproxy.pid};
        String[] names = {"cproxy", "sproxy"};
        Stream t = new Stream(roam, d, 100 + d.length());
        Thread.sleep(1200);
        List<Map<Long, String>> roles = List.of(roles(pids[0]), roles(pids[1]));
        Thread.sleep(400);
        List<Process> perfs = new ArrayList<>();
        for (long pid : pids) {
            List<String> cmd = new ArrayList<>(List.of("perf", "stat", "-x", ",", "-p", String.valueOf(pid), "-e",
                    "task-clock,context-switches,cpu-migrations,page-faults"));
            for (String s : SYSCALLS) {
                cmd.add("-e");
                cmd.add("syscalls:sys_enter_" + s);
            }
            perfs.add(new ProcessBuilder(cmd).redirectErrorStream(true).start());
        }
        Thread.sleep(300); // perf attached
        List<Map<Long, long[]>> a = List.of(tasks(pids[0]), tasks(pids[1]), tasks(h.target.pid), tasks(h.self));
        long[] m0 = machine();
        long b0 = Bench.PROGRESS.get();
        long w0 = System.nanoTime();
        Thread.sleep(window);
        long w1 = System.nanoTime();
        long b1 = Bench.PROGRESS.get();
        long[] m1 = machine();
        List<Map<Long, long[]>> b = List.of(tasks(pids[0]), tasks(pids[1]), tasks(h.target.pid), tasks(h.self));
        List<String> perfOut = new ArrayList<>();
        for (Process p : perfs) {
            new ProcessBuilder("kill", "-INT", String.valueOf(p.pid())).start().waitFor();
        }
        for (Process p : perfs) {
            perfOut.add(new String(p.getInputStream().readAllBytes()));
            p.waitFor();
        }
        String states = threadStates(new long[]{pids[0], pids[1]}, roles, names, o.quick ? 1500 : 3000);
        t.stop();
        Thread.sleep(300);
        double secs = (w1 - w0) / 1e9;
        double mib = (b1 - b0) / (double) (1 << 20);
        double gib = mib / 1024;
        out("");
        out("-- steady state: %.0f MB/s over %.1f s (%.0f MiB)", (b1 - b0) / secs / 1e6, secs, mib);
        out("   CPU by thread role, %% of one core (and CPU seconds per GiB):");
        Map<String, Object> jd = new LinkedHashMap<>();
        jd.put("MBps", (b1 - b0) / secs / 1e6);
        String[] procNames = {"cproxy", "sproxy", "target", "harness (client)"};
        double total = 0;
        for (int i = 0; i < 4; i++) {
            Map<String, double[]> byRole = new TreeMap<>();
            for (var e : b.get(i).entrySet()) {
                long[] before = a.get(i).getOrDefault(e.getKey(), new long[3]);
                String r = i < 2 ? roles.get(i).getOrDefault(e.getKey(), "other") : "all";
                double[] acc = byRole.computeIfAbsent(r, k -> new double[3]);
                acc[0] += e.getValue()[0] - before[0];
                acc[1] += e.getValue()[1] - before[1];
                acc[2] += e.getValue()[2] - before[2];
            }
            StringBuilder line = new StringBuilder();
            double procTotal = 0;
            Map<String, Object> jp = new LinkedHashMap<>();
            for (var e : byRole.entrySet()) {
                double cpuS = e.getValue()[0] / 100.0;
                procTotal += cpuS;
                if (cpuS / secs < 0.005 && !e.getKey().equals("all")) {
                    continue;
                }
                line.append(String.format(Locale.ROOT, "%s %.0f%% (%.2f s/GiB, %.0f+%.0f cs/MiB)  ", e.getKey(),
                        100 * cpuS / secs, cpuS / gib, e.getValue()[1] / mib, e.getValue()[2] / mib));
                Map<String, Object> jr = new LinkedHashMap<>();
                jr.put("core_percent", 100 * cpuS / secs);
                jr.put("cpu_s_per_GiB", cpuS / gib);
                jr.put("voluntary_cs_per_MiB", e.getValue()[1] / mib);
                jr.put("involuntary_cs_per_MiB", e.getValue()[2] / mib);
                jp.put(e.getKey(), jr);
            }
            total += procTotal;
            out("   %-17s total %3.0f%% (%.2f s/GiB): %s", procNames[i], 100 * procTotal / secs, procTotal / gib, line);
            jd.put(procNames[i], jp);
        }
        out("   all four processes: %.0f%% of the machine's %d cores busy (%.2f CPU s/GiB)", 100 * total / secs / Runtime.getRuntime()
                .availableProcessors(), Runtime.getRuntime().availableProcessors(), total / gib);
        long mt = 0;
        for (int i = 0; i < m0.length; i++) {
            mt += m1[i] - m0[i];
        }
        double idle = (m1[3] + m1[4] - m0[3] - m0[4]) / (double) mt;
        double soft = (m1[6] - m0[6]) / (double) mt;
        double irq = (m1[5] - m0[5]) / (double) mt;
        double steal = (m1[7] - m0[7]) / (double) mt;
        out("   whole machine (/proc/stat): %.0f%% busy, of which softirq (network receive processing, not charged to any "
                + "thread above) %.0f%%, irq %.0f%%, steal %.0f%%; %.2f CPU s/GiB in all", 100 * (1 - idle), 100 * soft, 100 * irq,
                100 * steal, (1 - idle) * secs * Runtime.getRuntime().availableProcessors() / gib);
        Map<String, Object> jm = new LinkedHashMap<>();
        jm.put("busy_percent", 100 * (1 - idle));
        jm.put("softirq_percent", 100 * soft);
        jm.put("steal_percent", 100 * steal);
        jm.put("cpu_s_per_GiB_all", (1 - idle) * secs * Runtime.getRuntime().availableProcessors() / gib);
        jd.put("machine", jm);
        out("   system calls per MiB relayed (perf syscall tracepoints):");
        for (int i = 0; i < 2; i++) {
            Map<String, Double> counts = new LinkedHashMap<>();
            for (String l : perfOut.get(i).split("\n")) {
                String[] f = l.split(",");
                if (f.length >= 3 && !f[0].isBlank()) {
                    try {
                        counts.put(f[2].replace("syscalls:sys_enter_", ""), Double.parseDouble(f[0]));
                    } catch (NumberFormatException ignored) {
                        // <not counted>
                    }
                }
            }
            StringBuilder sb = new StringBuilder();
            double sys = 0;
            Map<String, Object> js = new LinkedHashMap<>();
            for (var e : counts.entrySet()) {
                if (List.of("task-clock", "context-switches", "cpu-migrations", "page-faults").contains(e.getKey())) {
                    js.put(e.getKey() + "_per_MiB", e.getValue() / mib);
                    continue;
                }
                sys += e.getValue();
                if (e.getValue() / mib >= 0.05) {
                    sb.append(String.format(Locale.ROOT, "%s %.2f  ", e.getKey(), e.getValue() / mib));
                }
                js.put(e.getKey() + "_per_MiB", e.getValue() / mib);
            }
            out("   %-7s %.1f syscalls/MiB: %s| context switches %.1f/MiB", names[i], sys / mib, sb,
                    counts.getOrDefault("context-switches", Double.NaN) / mib);
            jd.put(names[i] + "_syscalls", js);
        }
        out("   what each relay thread is doing (sampled every 2 ms from /proc: state and kernel wait channel):");
        for (String l : states.split("\n")) {
            out("   %s", l);
        }
        json.put("steady_" + d, jd);
    }

    /** The aggregate cpu line of /proc/stat: user nice system idle iowait irq softirq steal. */
    static long[] machine() {
        long[] r = new long[8];
        try {
            String[] f = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
            for (int i = 0; i < 8; i++) {
                r[i] = Long.parseLong(f[i + 1]);
            }
        } catch (IOException | RuntimeException e) {
            // not available
        }
        return r;
    }

    static String waitKind(char state, String wchan) {
        if (state == 'R') {
            return "running";
        }
        if (wchan.contains("futex")) {
            return "parked (futex: ring empty/full, window, hand-off)";
        }
        if (wchan.contains("sk_stream_wait_memory")) {
            return "blocked in socket write (send buffer full)";
        }
        if (wchan.contains("wait_woken") || wchan.contains("sk_wait_data")) {
            return "blocked in socket read (no data)";
        }
        if (wchan.contains("poll")) {
            return "poll (timed link read, no data)";
        }
        return wchan.equals("0") ? "being woken / preempted" : "other: " + wchan;
    }

    /** Samples the state of the app-in/link/io-pool threads of both proxies for {@code millis}. */
    static String threadStates(long[] pids, List<Map<Long, String>> roles, String[] names, long millis) throws InterruptedException {
        Map<String, Map<String, Integer>> acc = new TreeMap<>();
        Map<String, Integer> totals = new HashMap<>();
        long end = System.nanoTime() + millis * 1_000_000;
        while (System.nanoTime() < end) {
            for (int i = 0; i < pids.length; i++) {
                for (var e : roles.get(i).entrySet()) {
                    String role = e.getValue();
                    if (!List.of("app-in", "io", "link").contains(role)) {
                        continue;
                    }
                    Path t = Path.of("/proc/" + pids[i] + "/task/" + e.getKey());
                    try {
                        String st = Files.readString(t.resolve("stat"));
                        char state = st.charAt(st.lastIndexOf(')') + 2);
                        String wchan = Files.readString(t.resolve("wchan")).trim();
                        String key = names[i] + " " + role;
                        acc.computeIfAbsent(key, k -> new TreeMap<>()).merge(waitKind(state, wchan), 1, Integer::sum);
                        totals.merge(key, 1, Integer::sum);
                    } catch (IOException | RuntimeException ex) {
                        // thread gone
                    }
                }
            }
            LockSupport.parkNanos(2_000_000);
        }
        StringBuilder b = new StringBuilder();
        for (var e : acc.entrySet()) {
            int n = totals.get(e.getKey());
            b.append(String.format(Locale.ROOT, "  %-15s", e.getKey()));
            e.getValue().entrySet().stream().sorted((x, y) -> y.getValue() - x.getValue()).forEach(x ->
                    b.append(String.format(Locale.ROOT, " %s %.0f%%;", x.getKey(), 100.0 * x.getValue() / n)));
            b.append('\n');
        }
        return b.toString();
    }

    // ------------------------------------------------------------------ keystrokes

    /** System calls and context switches per 1-byte round trip in each proxy, and where the round trip's time goes. */
    void keystrokes(InetSocketAddress roam) throws Exception {
        int n = o.quick ? 1000 : 3000;
        Bench.roundTrips(roam, 1000, 1000, 1_000_000); // warm-up
        long[] pids = {h.cproxy.pid, h.sproxy.pid};
        String[] names = {"cproxy", "sproxy"};
        List<Process> perfs = new ArrayList<>();
        for (long pid : pids) {
            List<String> cmd = new ArrayList<>(List.of("perf", "stat", "-x", ",", "-p", String.valueOf(pid), "-e",
                    "task-clock,context-switches,cpu-migrations"));
            for (String sc : SYSCALLS) {
                cmd.add("-e");
                cmd.add("syscalls:sys_enter_" + sc);
            }
            perfs.add(new ProcessBuilder(cmd).redirectErrorStream(true).start());
        }
        Thread.sleep(300);
        long[] s = Bench.roundTrips(roam, 0, n, 1_000_000);
        for (Process p : perfs) {
            new ProcessBuilder("kill", "-INT", String.valueOf(p.pid())).start().waitFor();
        }
        double[] us = new double[n];
        for (int i = 0; i < n; i++) {
            us[i] = s[i] / 1000.0;
        }
        java.util.Arrays.sort(us);
        out("");
        out("==================== KEYSTROKES (1-byte echo, 1 ms apart, %d round trips) ====================", n);
        out("   round trip p50 %.0f us, p99 %.0f us", Bench.percentile(us, 50), Bench.percentile(us, 99));
        Map<String, Object> j = new LinkedHashMap<>();
        j.put("rtt_us_p50", Bench.percentile(us, 50));
        for (int i = 0; i < 2; i++) {
            String po = new String(perfs.get(i).getInputStream().readAllBytes());
            perfs.get(i).waitFor();
            StringBuilder b = new StringBuilder();
            Map<String, Object> jp = new LinkedHashMap<>();
            double sys = 0;
            for (String l : po.split("\n")) {
                String[] f = l.split(",");
                if (f.length >= 3 && !f[0].isBlank()) {
                    try {
                        double v = Double.parseDouble(f[0]) / n;
                        String k = f[2].replace("syscalls:sys_enter_", "");
                        if (k.equals("task-clock")) {
                            b.append(String.format(Locale.ROOT, "CPU %.0f us  ", v * 1000));
                        } else if (k.equals("context-switches") || k.equals("cpu-migrations")) {
                            b.append(String.format(Locale.ROOT, "%s %.1f  ", k, v));
                        } else {
                            sys += v;
                            if (v >= 0.05) {
                                b.append(String.format(Locale.ROOT, "%s %.1f  ", k, v));
                            }
                        }
                        jp.put(k + "_per_round_trip", v);
                    } catch (NumberFormatException ignored) {
                        // <not counted>
                    }
                }
            }
            out("   %s per round trip: %.1f syscalls: %s", names[i], sys, b);
            j.put(names[i], jp);
        }
        json.put("keystrokes", j);
    }

    // ------------------------------------------------------------------ JFR

    void jfr(InetSocketAddress roam, String d) throws Exception {
        long bytes = o.quick ? 1L << 30 : 2L << 30;
        String[] names = {"cproxy", "sproxy"};
        long[] pids = {h.cproxy.pid, h.sproxy.pid};
        Path[] files = new Path[2];
        for (int i = 0; i < 2; i++) {
            files[i] = dir.resolve(names[i] + "-" + d + ".jfr");
            Files.deleteIfExists(files[i]);
            Bench.output("jcmd", String.valueOf(pids[i]), "JFR.start", "name=bench", "settings=profile",
                    "filename=" + files[i]);
        }
        Thread.sleep(300);
        long t0 = System.nanoTime();
        double s = d.equals("up") ? Bench.upload(roam, bytes, 7) : Bench.download(roam, bytes, 8);
        for (int i = 0; i < 2; i++) {
            Bench.output("jcmd", String.valueOf(pids[i]), "JFR.stop", "name=bench");
        }
        out("");
        out("-- JFR (settings=profile) over a %d GiB transfer at %.0f MB/s (recording overhead included)", bytes >> 30,
                bytes / s / 1e6);
        for (int i = 0; i < 2; i++) {
            if (Files.exists(files[i])) {
                String r = JfrTop.analyze(files[i], bytes / (double) (1L << 30), names[i]);
                for (String l : r.split("\n")) {
                    out("   %s", l);
                }
            } else {
                out("   %s: no recording", names[i]);
            }
        }
    }

    // ------------------------------------------------------------------ perf

    String perfRecord(InetSocketAddress roam, String d, long big, long window) throws Exception {
        Path f = dir.resolve("perf-" + d + ".data");
        Stream t = new Stream(roam, d, 300 + d.length());
        Thread.sleep(1500);
        Process p = new ProcessBuilder("perf", "record", "-a", "-g", "-F", "499", "-o", f.toString(), "--", "sleep",
                String.valueOf(window / 1000.0)).redirectErrorStream(true).start();
        String po = new String(p.getInputStream().readAllBytes());
        int rc = p.waitFor();
        Map<Long, String> owner = new HashMap<>();
        String[] who = {"cproxy", "sproxy", "target", "harness (client)"};
        long[] procs = {h.cproxy.pid, h.sproxy.pid, h.target.pid, h.self};
        for (int i = 0; i < procs.length; i++) {
            for (long tid : tasks(procs[i]).keySet()) {
                owner.put(tid, who[i]);
            }
        }
        t.stop();
        if (rc != 0) {
            out("   perf record failed: %s", po.trim());
            return null;
        }
        // JIT symbols for perf: each JVM writes its perf map (perf-<pid>.map in the temporary directory); perf reads it while the process lives
        for (long pid : new long[]{h.cproxy.pid, h.sproxy.pid, h.target.pid, h.self}) {
            Bench.output("jcmd", String.valueOf(pid), "Compiler.perfmap");
        }
        perfReport(f.toString());
        perfCategories(f.toString(), owner, d);
        return f.toString();
    }

    void perfReport(String f) {
        String d = f.contains("-up.") ? "UPSTREAM" : "DOWNSTREAM";
        out("");
        out("-- perf record -a (%s): share of all CPU samples by process and by where the time is spent", d);
        String byDso = Bench.output("perf", "report", "-i", f, "--stdio", "--no-children", "--sort", "pid,dso",
                "--percent-limit", "1", "-g", "none");
        for (String l : byDso.split("\n")) {
            if (!l.startsWith("#") && !l.isBlank()) {
                out("   %s", l.replaceAll("\\s+", " ").trim());
            }
        }
        out("   top symbols (all processes):");
        String bySym = Bench.output("perf", "report", "-i", f, "--stdio", "--no-children", "--sort", "pid,sym",
                "--percent-limit", "0.8", "-g", "none");
        int k = 0;
        for (String l : bySym.split("\n")) {
            if (!l.startsWith("#") && !l.isBlank() && k++ < 45) {
                out("   %s", l.replaceAll("\\s+", " ").trim());
            }
        }
    }

    /** Each process's CPU samples split into kernel copies, other kernel work, Java-side copies, other JIT code, JVM. */
    void perfCategories(String f, Map<Long, String> owner, String d) {
        String rep = Bench.output("perf", "report", "-i", f, "--stdio", "--no-children", "--sort", "pid,dso,sym",
                "--percent-limit", "0", "-g", "none");
        String[] cats = {"kernel: copy to/from user", "kernel: TCP/IP, scheduler, syscalls", "user: array/memory copies",
                "user: other Java (JIT)", "JVM (GC, JIT compiler, runtime)", "other"};
        Map<String, double[]> acc = new LinkedHashMap<>();
        double all = 0;
        for (String l : rep.split("\n")) {
            if (l.startsWith("#") || l.isBlank()) {
                continue;
            }
            String[] c = l.trim().split("\\s{2,}");
            if (c.length < 4 || !c[0].endsWith("%")) {
                continue;
            }
            double pct = Double.parseDouble(c[0].replace("%", ""));
            all += pct;
            long tid;
            try {
                tid = Long.parseLong(c[1].substring(0, c[1].indexOf(':')));
            } catch (RuntimeException e) {
                continue;
            }
            String proc = owner.get(tid);
            if (proc == null) {
                continue;
            }
            String dso = c[2];
            String sym = c[3];
            int cat;
            if (dso.contains("kernel")) {
                cat = sym.matches(".*(copy_to_iter|copy_from_iter|copy_user|rep_movs|memcpy|memmove|copy_page).*") ? 0 : 1;
            } else if (sym.matches(".*(StubRoutines|arraycopy|disjoint|conjoint|memmove|memcpy|Copy::|copyMemory|copySwap).*")) {
                cat = 2;
            } else if (dso.startsWith("[JIT]") || dso.contains("perf-") || sym.startsWith("[.] L") || sym.contains("::") && !dso.contains("libjvm")) {
                cat = 3;
            } else if (dso.contains("libjvm")) {
                cat = 4;
            } else {
                cat = 5;
            }
            acc.computeIfAbsent(proc, k -> new double[cats.length])[cat] += pct;
        }
        out("   CPU samples by kind of work (%% of all samples of the machine; %.0f%% of samples listed):", all);
        Map<String, Object> j = new LinkedHashMap<>();
        for (String p : new String[]{"cproxy", "sproxy", "target", "harness (client)"}) {
            double[] a = acc.getOrDefault(p, new double[cats.length]);
            double tot = 0;
            for (double x : a) {
                tot += x;
            }
            StringBuilder b = new StringBuilder();
            Map<String, Object> jp = new LinkedHashMap<>();
            for (int i = 0; i < cats.length; i++) {
                if (a[i] >= 0.05) {
                    b.append(String.format(Locale.ROOT, "%s %.1f%% (%.0f%%)  ", cats[i], a[i], tot > 0 ? 100 * a[i] / tot : 0));
                }
                jp.put(cats[i], a[i]);
            }
            out("   %-17s %5.1f%%: %s", p, tot, b);
            j.put(p, jp);
        }
        json.put("perf_categories_" + d, j);
    }
}
