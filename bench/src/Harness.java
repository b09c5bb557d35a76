import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** The benchmark proper: runs inside the client namespace and starts everything else. */
final class Harness {
    static final int TARGET_PORT = 7200;
    static final int SOCAT_CLIENT_PORT = 5300;
    static final int SOCAT_SERVER_PORT = 6300;
    static final String[] PATHS = {"direct", "socat", "socat64k", "roamproxy"};
    static final String[] LABELS = {"direct TCP", "socat->socat", "socat -b 64K", "cproxy->sproxy"};
    static final int SOCAT64_CLIENT_PORT = 5301;
    static final int SOCAT64_SERVER_PORT = 6301;

    final Options o;
    final Map<String, Object> results = new LinkedHashMap<>();
    final List<String> errors = new ArrayList<>();
    final String java = ProcessHandle.current().info().command().orElse("java");
    final long self = ProcessHandle.current().pid();
    Bench.Proc target;
    Bench.Proc socatC;
    Bench.Proc socatS;
    Bench.Proc socat64C;
    Bench.Proc socat64S;
    Bench.Proc cproxy;
    Bench.Proc sproxy;
    InetSocketAddress[] addr;

    Harness(Options o) throws IOException {
        this.o = o;
        Files.createDirectories(o.logDir);
        if (o.plotDir != null) {
            Files.createDirectories(o.plotDir);
        }
    }

    static void say(String fmt, Object... a) {
        System.out.printf(Locale.ROOT, fmt + "%n", a);
        System.out.flush();
    }

    // ------------------------------------------------------------------ processes

    void startTarget() throws Exception {
        target = new Bench.Proc("target", List.of("ip", "netns", "exec", o.nss, java, "-Xmx512m", "-XX:+UseSerialGC",
                "-cp", o.classes.toString(), "Bench", "target", String.valueOf(TARGET_PORT)), Map.of(), o.logDir);
        if (target.await("target listening", 0, 1, 30_000) < 0) {
            throw new IOException("the target did not start; see its log");
        }
    }

    void startSocat() throws Exception {
        List<String> b = o.socatBuffer.isEmpty() ? List.of() : List.of("-b", o.socatBuffer);
        List<String> sc = new ArrayList<>(List.of("ip", "netns", "exec", o.nss, "socat"));
        sc.addAll(b);
        sc.addAll(List.of("TCP-LISTEN:" + SOCAT_SERVER_PORT + ",reuseaddr,fork", "TCP:127.0.0.1:" + TARGET_PORT));
        socatS = new Bench.Proc("socat-server", sc, Map.of(), o.logDir);
        List<String> cc = new ArrayList<>(List.of("socat"));
        cc.addAll(b);
        cc.addAll(List.of("TCP-LISTEN:" + SOCAT_CLIENT_PORT + ",bind=127.0.0.1,reuseaddr,fork",
                "TCP:" + o.serverIp + ":" + SOCAT_SERVER_PORT));
        socatC = new Bench.Proc("socat-client", cc, Map.of(), o.logDir);
        socat64S = new Bench.Proc("socat64k-server", List.of("ip", "netns", "exec", o.nss, "socat", "-b", "65536",
                "TCP-LISTEN:" + SOCAT64_SERVER_PORT + ",reuseaddr,fork", "TCP:127.0.0.1:" + TARGET_PORT), Map.of(), o.logDir);
        socat64C = new Bench.Proc("socat64k-client", List.of("socat", "-b", "65536",
                "TCP-LISTEN:" + SOCAT64_CLIENT_PORT + ",bind=127.0.0.1,reuseaddr,fork",
                "TCP:" + o.serverIp + ":" + SOCAT64_SERVER_PORT), Map.of(), o.logDir);
        Bench.awaitListening(socatS.pid, SOCAT_SERVER_PORT, 10_000);
        Bench.awaitListening(socatC.pid, SOCAT_CLIENT_PORT, 10_000);
        Bench.awaitListening(socat64S.pid, SOCAT64_SERVER_PORT, 10_000);
        Bench.awaitListening(socat64C.pid, SOCAT64_CLIENT_PORT, 10_000);
    }

    Map<String, String> proxyEnv() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("JAVA_OPTS", o.proxyJavaOpts);
        env.put("ROAMPROXY_LOG_LEVEL", "INFO");
        return env;
    }

    /** Starts an sproxy/cproxy pair; {@code extraJavaOpts} are added for this pair only. */
    void startPair(int cport, int sport, String suffix, String extraJavaOpts) throws Exception {
        Map<String, String> env = proxyEnv();
        if (!extraJavaOpts.isEmpty()) {
            env.put("JAVA_OPTS", (o.proxyJavaOpts + " " + extraJavaOpts).trim());
        }
        List<String> sc = new ArrayList<>(List.of("ip", "netns", "exec", o.nss, o.dist.resolve("bin/sproxy").toString(),
                "-p", String.valueOf(sport), "-t", "127.0.0.1:" + TARGET_PORT));
        sc.addAll(o.proxyArgs.stream().filter(x -> !x.isEmpty()).toList());
        sproxy = new Bench.Proc("sproxy" + suffix, sc, env, o.logDir);
        if (sproxy.await("sproxy listening", 0, 1, 30_000) < 0) {
            throw new IOException("sproxy did not start; see its log");
        }
        List<String> cc = new ArrayList<>(List.of(o.dist.resolve("bin/cproxy").toString(),
                "-p", String.valueOf(cport), "-s", String.valueOf(sport)));
        cc.addAll(o.proxyArgs.stream().filter(x -> !x.isEmpty()).toList());
        cc.add(o.serverIp);
        cproxy = new Bench.Proc("cproxy" + suffix, cc, env, o.logDir);
        if (cproxy.await("cproxy listening", 0, 1, 30_000) < 0) {
            throw new IOException("cproxy did not start; see its log");
        }
    }

    // ------------------------------------------------------------------ the run

    void runAll() throws Exception {
        long started = System.nanoTime();
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("date", o.stamp);
        meta.put("machine", o.machine);
        meta.put("mode", o.quick ? "quick" : "full");
        meta.put("proxy_java_opts", o.proxyJavaOpts.isEmpty() ? "(default)" : o.proxyJavaOpts);
        meta.put("socat", o.socatBuffer.isEmpty() ? "socat defaults (8 KiB buffer)" : "socat -b " + o.socatBuffer);
        meta.put("proxy_args", o.proxyArgs.isEmpty() ? "(default)" : String.join(" ", o.proxyArgs));
        meta.put("java", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        meta.put("topology", "client netns (harness, cproxy, socat) --veth 192.0.2.0/24--> server netns (sproxy, socat, target)");
        meta.put("loadavg_at_start", loadavg());
        results.put("meta", meta);
        addr = new InetSocketAddress[]{
                new InetSocketAddress(o.serverIp, TARGET_PORT),
                new InetSocketAddress("127.0.0.1", SOCAT_CLIENT_PORT),
                new InetSocketAddress("127.0.0.1", SOCAT64_CLIENT_PORT),
                new InetSocketAddress("127.0.0.1", 5200)};
        checkQuiet("at the start");
        try {
            startTarget();
            if (o.only.contains("throughput") || o.only.contains("rtt")) {
                startSocat();
            }
            if (o.only.contains("throughput") || o.only.contains("rtt") || o.only.contains("resume")) {
                startPair(5200, 6200, "", "");
            }
            phase("throughput", this::throughput);
            phase("rtt", this::rtt);
            phase("resume", this::resume);
            for (Bench.Proc p : new Bench.Proc[]{socatC, socatS, socat64C, socat64S, cproxy, sproxy}) {
                if (p != null) {
                    p.stop();
                }
            }
            phase("sessions", this::sessions);
        } finally {
            Bench.Proc.stopAll();
            meta.put("seconds", Math.round((System.nanoTime() - started) / 1e9));
            meta.put("loadavg_at_end", loadavg());
            if (!errors.isEmpty()) {
                results.put("errors", errors);
            }
            write();
        }
        printTable();
        if (!errors.isEmpty()) {
            say("%nERRORS:");
            errors.forEach(e -> say("  %s", e));
            System.exit(1);
        }
    }

    static String loadavg() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            return "?";
        }
    }

    /** Warns when something else kept the CPUs busy: the figures are then not this machine's best. */
    static void checkQuiet(String when) {
        String l = loadavg();
        double l1 = Double.parseDouble(l.split(" ")[0]);
        int cpus = Runtime.getRuntime().availableProcessors();
        if (l1 > cpus) {
            say("!! load average %s %s with %d CPUs: other work is running on this machine, the figures will be low and noisy",
                    l, when, cpus);
        }
    }

    interface Phase {
        void run() throws Exception;
    }

    void phase(String name, Phase p) {
        if (!o.only.contains(name)) {
            return;
        }
        long t = System.nanoTime();
        say("== %s", name);
        try {
            p.run();
        } catch (Exception e) {
            String msg = name + ": " + e;
            errors.add(msg);
            say("!! %s", msg);
            e.printStackTrace(System.out);
        }
        say("   (%s took %.0f s)", name, (System.nanoTime() - t) / 1e9);
    }

    // ------------------------------------------------------------------ throughput

    long[][] relayPids() {
        return new long[][]{{}, {socatC.pid, socatS.pid}, {socat64C.pid, socat64S.pid}, {cproxy.pid, sproxy.pid}};
    }

    void throughput() throws Exception {
        long[][] relays = relayPids();
        List<Map<String, Object>> runs = new ArrayList<>();
        Map<String, List<Double>> mbps = new LinkedHashMap<>();
        Map<String, List<Double>> relayCpu = new LinkedHashMap<>();
        Map<String, List<Double>> endCpu = new LinkedHashMap<>();
        Map<String, List<Double>> machCpu = new LinkedHashMap<>();
        Map<String, List<Double>> disturbedRuns = new LinkedHashMap<>();
        for (int rep = 0; rep <= o.runs; rep++) {
            long bytes = rep == 0 ? o.warmBytes : o.bytes;
            for (int p = 0; p < PATHS.length; p++) {
                if (!o.paths.contains(PATHS[p])) {
                    continue;
                }
                for (String dir : new String[]{"up", "down"}) {
                    long[] pids = new long[2 + relays[p].length];
                    pids[0] = self;
                    pids[1] = target.pid;
                    System.arraycopy(relays[p], 0, pids, 2, relays[p].length);
                    long[] c0 = new long[pids.length];
                    for (int i = 0; i < pids.length; i++) {
                        c0[i] = Bench.cpuTicks(pids[i]);
                    }
                    java.util.Set<Long> ours = new java.util.HashSet<>();
                    for (Bench.Proc pr : new Bench.Proc[]{target, socatC, socatS, socat64C, socat64S, cproxy, sproxy}) {
                        if (pr != null) {
                            ours.add(pr.pid);
                        }
                    }
                    ours.add(self);
                    Map<Long, Long> all0 = Bench.allCpuTicks();
                    long[] mach0 = Profiler.machine();
                    long seed = rep * 1000L + p * 10 + (dir.equals("up") ? 1 : 2);
                    double s = dir.equals("up") ? Bench.upload(addr[p], bytes, seed) : Bench.download(addr[p], bytes, seed);
                    long[] mach1 = Profiler.machine();
                    double foreign = Bench.foreignTicks(all0, Bench.allCpuTicks(), ours) / 100.0
                            / (s * Runtime.getRuntime().availableProcessors());
                    boolean disturbed = foreign > 0.05;
                    long busy = 0;
                    for (int i = 0; i < 8; i++) {
                        busy += i == 3 || i == 4 ? 0 : mach1[i] - mach0[i];
                    }
                    Thread.sleep(250); // let socat's per-connection children exit and be reaped into cutime
                    double gib = bytes / (double) (1L << 30);
                    double[] cpu = new double[pids.length];
                    for (int i = 0; i < pids.length; i++) {
                        cpu[i] = (Bench.cpuTicks(pids[i]) - c0[i]) / 100.0 / gib;
                    }
                    double rate = bytes / s / 1e6;
                    double relay = 0;
                    for (int i = 2; i < cpu.length; i++) {
                        relay += cpu[i];
                    }
                    Map<String, Object> r = new LinkedHashMap<>();
                    r.put("path", PATHS[p]);
                    r.put("dir", dir);
                    r.put("warmup", rep == 0);
                    r.put("bytes", bytes);
                    r.put("seconds", s);
                    r.put("MBps", rate);
                    r.put("machine_busy_cpu_s_per_GiB", busy / 100.0 / gib);
                    r.put("other_processes_cpu_share", foreign);
                    r.put("disturbed", disturbed);
                    r.put("cpu_s_per_GiB_client", cpu[0]);
                    r.put("cpu_s_per_GiB_target", cpu[1]);
                    if (cpu.length > 2) {
                        r.put("cpu_s_per_GiB_relay_client_side", cpu[2]);
                        r.put("cpu_s_per_GiB_relay_server_side", cpu[3]);
                    }
                    runs.add(r);
                    say("   %-5s %-14s %-4s %6.0f MB/s  (%d MiB in %.2f s; CPU s/GiB: relays %.2f, client %.2f, target %.2f, "
                                    + "whole machine incl. softirq %.2f)%s",
                            rep == 0 ? "warm" : "run" + rep, LABELS[p], dir, rate, bytes >> 20, s, relay, cpu[0], cpu[1], busy / 100.0 / gib,
                            rep == 0 ? " [not counted]" : disturbed
                                    ? String.format(Locale.ROOT, " [DISTURBED: other processes used %.0f%% of the CPUs]", 100 * foreign) : "");
                    if (rep > 0) {
                        String key = PATHS[p] + "." + dir;
                        if (disturbed) {
                            disturbedRuns.computeIfAbsent(key, k -> new ArrayList<>()).add(rate);
                            continue;
                        }
                        mbps.computeIfAbsent(key, k -> new ArrayList<>()).add(rate);
                        relayCpu.computeIfAbsent(key, k -> new ArrayList<>()).add(relay);
                        endCpu.computeIfAbsent(key, k -> new ArrayList<>()).add(cpu[0] + cpu[1]);
                        machCpu.computeIfAbsent(key, k -> new ArrayList<>()).add(busy / 100.0 / gib);
                    }
                }
            }
        }
        Map<String, Object> sum = new LinkedHashMap<>();
        StringBuilder dat = new StringBuilder("# path up_median up_min up_max down_median down_min down_max\n");
        for (int p = 0; p < PATHS.length; p++) {
            if (!o.paths.contains(PATHS[p])) {
                continue;
            }
            Map<String, Object> m = new LinkedHashMap<>();
            dat.append('"').append(LABELS[p]).append('"');
            for (String dir : new String[]{"up", "down"}) {
                String key = PATHS[p] + "." + dir;
                List<Double> v = mbps.get(key);
                if (v == null || v.size() < Math.min(3, o.runs)) {
                    // too few quiet runs: use them all, and say so
                    say("!! %s %s: only %d of %d runs without other activity on the machine; the median includes disturbed runs",
                            LABELS[p], dir, v == null ? 0 : v.size(), o.runs);
                    v = new ArrayList<>(v == null ? List.of() : v);
                    v.addAll(disturbedRuns.getOrDefault(key, List.of()));
                    relayCpu.putIfAbsent(key, new ArrayList<>(List.of(Double.NaN)));
                    endCpu.putIfAbsent(key, new ArrayList<>(List.of(Double.NaN)));
                    machCpu.putIfAbsent(key, new ArrayList<>(List.of(Double.NaN)));
                }
                double[] sv = Bench.sorted(v);
                Map<String, Object> d = new LinkedHashMap<>();
                d.put("MBps_median", Bench.median(v));
                d.put("MBps_min", sv[0]);
                d.put("MBps_max", sv[sv.length - 1]);
                d.put("MBps_runs", v);
                d.put("disturbed_runs_left_out_MBps", disturbedRuns.getOrDefault(key, List.of()));
                d.put("relay_cpu_s_per_GiB_median", Bench.median(relayCpu.get(PATHS[p] + "." + dir)));
                d.put("endpoint_cpu_s_per_GiB_median", Bench.median(endCpu.get(PATHS[p] + "." + dir)));
                d.put("machine_cpu_s_per_GiB_median", Bench.median(machCpu.get(PATHS[p] + "." + dir)));
                m.put(dir, d);
                dat.append(String.format(Locale.ROOT, " %.1f %.1f %.1f", Bench.median(v), sv[0], sv[sv.length - 1]));
            }
            dat.append('\n');
            sum.put(PATHS[p], m);
        }
        Map<String, Object> t = new LinkedHashMap<>();
        t.put("bytes_per_run", o.bytes);
        t.put("runs", o.runs);
        t.put("warmup_bytes", o.warmBytes);
        t.put("unit", "MB/s = 10^6 bytes/s; CPU in seconds per GiB moved");
        t.put("summary", sum);
        t.put("all_runs", runs);
        results.put("throughput", t);
        plot("throughput.dat", dat.toString());
    }

    // ------------------------------------------------------------------ round trip

    void rtt() throws Exception {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("samples", o.rttSamples);
        r.put("warmup", o.rttWarm);
        r.put("gap_us", o.rttGapMicros);
        r.put("unit", "microseconds, one byte written and the same byte read back");
        for (int p = 0; p < PATHS.length; p++) {
            if (!o.paths.contains(PATHS[p])) {
                continue;
            }
            long[] s = Bench.roundTrips(addr[p], o.rttWarm, o.rttSamples, o.rttGapMicros * 1000);
            double[] us = new double[s.length];
            for (int i = 0; i < s.length; i++) {
                us[i] = s[i] / 1000.0;
            }
            Arrays.sort(us);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("p50", Bench.percentile(us, 50));
            m.put("p90", Bench.percentile(us, 90));
            m.put("p99", Bench.percentile(us, 99));
            m.put("p99.9", Bench.percentile(us, 99.9));
            m.put("min", us[0]);
            m.put("max", us[us.length - 1]);
            List<Double> ladder = new ArrayList<>();
            for (int q = 0; q <= 100; q++) {
                ladder.add(Bench.percentile(us, q));
            }
            m.put("percentiles_0_to_100", ladder);
            r.put(PATHS[p], m);
            say("   %-14s p50 %6.1f us  p99 %7.1f us  max %8.1f us", LABELS[p], m.get("p50"), m.get("p99"), m.get("max"));
            StringBuilder dat = new StringBuilder("# rtt_us cumulative_fraction\n");
            for (int i = 0; i < us.length; i++) {
                dat.append(String.format(Locale.ROOT, "%.2f %.5f%n", us[i], (i + 1.0) / us.length));
            }
            plot("rtt-" + PATHS[p] + ".dat", dat.toString());
        }
        results.put("rtt", r);
    }

    // ------------------------------------------------------------------ resume

    void resume() throws Exception {
        long seed = 424242;
        SocketChannel c = Bench.connect(addr[3], 'E', 0, seed);
        AtomicLong sent = new AtomicLong();
        AtomicLong recv = new AtomicLong();
        AtomicLong lastRecv = new AtomicLong(System.nanoTime());
        AtomicLong firstAfter = new AtomicLong();
        AtomicLong bad = new AtomicLong(-1);
        AtomicBoolean armed = new AtomicBoolean();
        AtomicBoolean stop = new AtomicBoolean();
        Thread writer = new Thread(() -> {
            try {
                while (!stop.get()) {
                    Bench.writeFully(c, Bench.pat(sent.get(), seed, 1));
                    sent.incrementAndGet();
                    LockSupport.parkNanos(2_000_000);
                }
            } catch (IOException e) {
                // reported through the byte counts
            }
        }, "keystrokes");
        Thread reader = new Thread(() -> {
            ByteBuffer buf = ByteBuffer.allocateDirect(64 * 1024);
            try {
                for (;;) {
                    buf.clear();
                    int n = c.read(buf);
                    if (n < 0) {
                        return;
                    }
                    long now = System.nanoTime();
                    buf.flip();
                    int m = buf.mismatch(Bench.pat(recv.get(), seed, n));
                    if (m >= 0 && bad.get() < 0) {
                        bad.set(recv.get() + m);
                    }
                    recv.addAndGet(n);
                    lastRecv.set(now);
                    if (armed.get()) {
                        firstAfter.compareAndSet(0, now);
                    }
                }
            } catch (IOException e) {
                // closed at the end
            }
        }, "echoes");
        writer.start();
        reader.start();
        List<Map<String, Object>> cycles = new ArrayList<>();
        List<Double> resumeMs = new ArrayList<>();
        List<Double> resumeLogMs = new ArrayList<>();
        List<Double> detectC = new ArrayList<>();
        List<Double> detectS = new ArrayList<>();
        Random rnd = new Random(6);
        String cur = o.clientIp;
        StringBuilder dat = new StringBuilder("# cycle resume_ms cproxy_detect_ms sproxy_detect_ms\n");
        try {
            for (int k = 0; k < o.cycles; k++) {
                long flowDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (!(recv.get() >= sent.get() - 1 && System.nanoTime() - lastRecv.get() < 20_000_000)) {
                    if (System.nanoTime() > flowDeadline) {
                        throw new IOException("cycle " + k + ": the echo stream is not flowing (sent " + sent.get()
                                + ", echoed " + recv.get() + ")");
                    }
                    Thread.sleep(2);
                }
                String next = "192.0.2." + (10 + k % 240);
                long t0 = Bench.run("ip", "addr", "del", cur + "/24", "dev", o.dev);
                long tc = cproxy.await(" lost: ", t0, 1, 15_000);
                if (tc < 0) {
                    throw new IOException("cycle " + k + ": cproxy did not report the lost link within 15 s");
                }
                long pause = 50 + rnd.nextInt(450);
                Thread.sleep(pause);
                firstAfter.set(0);
                armed.set(true);
                long t1 = Bench.run("ip", "addr", "add", next + "/24", "dev", o.dev);
                cur = next;
                long tr = cproxy.await("resumed over link", t1, 1, 15_000);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
                while (firstAfter.get() == 0 && System.nanoTime() < deadline) {
                    Thread.sleep(1);
                }
                armed.set(false);
                long tf = firstAfter.get();
                if (tf == 0) {
                    throw new IOException("cycle " + k + ": no byte came back within 15 s of the new address");
                }
                List<Long> sl = sproxy.times(" lost: ", t0);
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("cycle", k);
                m.put("new_address", next);
                m.put("cproxy_detect_ms", (tc - t0) / 1e6);
                m.put("sproxy_detect_ms", sl.isEmpty() ? null : (sl.get(0) - t0) / 1e6);
                m.put("outage_after_detection_ms", pause);
                m.put("resume_ms", (tf - t1) / 1e6);
                m.put("cproxy_resume_log_ms", tr < 0 ? null : (tr - t1) / 1e6);
                if (tf < t1) {
                    m.put("warning", "a byte arrived before the new address appeared");
                }
                cycles.add(m);
                resumeMs.add((tf - t1) / 1e6);
                if (tr >= 0) {
                    resumeLogMs.add((tr - t1) / 1e6);
                }
                detectC.add((tc - t0) / 1e6);
                if (!sl.isEmpty()) {
                    detectS.add((sl.get(0) - t0) / 1e6);
                }
                dat.append(String.format(Locale.ROOT, "%d %.2f %.1f %s%n", k, (tf - t1) / 1e6, (tc - t0) / 1e6,
                        sl.isEmpty() ? "NaN" : String.format(Locale.ROOT, "%.1f", (sl.get(0) - t0) / 1e6)));
                say("   cycle %2d: %-12s detected by cproxy after %5.0f ms, sproxy %s; new address after %3d ms more; "
                                + "first byte %6.1f ms after it", k, next, (tc - t0) / 1e6,
                        sl.isEmpty() ? "  (n/a)" : String.format(Locale.ROOT, "%5.0f ms", (sl.get(0) - t0) / 1e6), pause,
                        (tf - t1) / 1e6);
                Thread.sleep(300);
            }
        } finally {
            stop.set(true);
            writer.join(2000);
            long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (recv.get() < sent.get() && System.nanoTime() < end) {
                Thread.sleep(5);
            }
            c.close();
            reader.join(2000);
            // put the original address back for the later tests' logs to read naturally
            if (!cur.equals(o.clientIp)) {
                Bench.run("ip", "addr", "del", cur + "/24", "dev", o.dev);
                Bench.run("ip", "addr", "add", o.clientIp + "/24", "dev", o.dev);
            }
        }
        boolean exact = bad.get() < 0 && recv.get() == sent.get();
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("cycles", o.cycles);
        r.put("definition", "resume: from `ip addr add` returning to the first echoed byte reaching the client; "
                + "detection: from `ip addr del` returning to the proxy logging the lost link");
        r.put("resume_ms", stats(resumeMs, 50, 95));
        r.put("cproxy_resume_log_ms", stats(resumeLogMs, 50, 95));
        r.put("cproxy_detect_ms", stats(detectC, 50, 95));
        r.put("sproxy_detect_ms", stats(detectS, 50, 95));
        r.put("bytes_echoed", recv.get());
        r.put("byte_exact", exact);
        r.put("per_cycle", cycles);
        results.put("resume", r);
        plot("resume.dat", dat.toString());
        say("   resume p50 %.0f ms p95 %.0f ms; detection p50 %.0f ms; %d bytes echoed %s", Bench.percentile(Bench.sorted(resumeMs), 50),
                Bench.percentile(Bench.sorted(resumeMs), 95), Bench.percentile(Bench.sorted(detectC), 50), recv.get(),
                exact ? "byte-exact" : "NOT byte-exact (sent " + sent.get() + ", first wrong byte at " + bad.get() + ")");
        if (!exact) {
            throw new IOException("resume stream not byte-exact");
        }
    }

    static Map<String, Object> stats(List<Double> v, double... ps) {
        Map<String, Object> m = new LinkedHashMap<>();
        double[] s = Bench.sorted(v);
        m.put("n", s.length);
        if (s.length == 0) {
            return m;
        }
        for (double p : ps) {
            m.put("p" + Bench.fmt(p), Bench.percentile(s, p));
        }
        m.put("min", s[0]);
        m.put("max", s[s.length - 1]);
        return m;
    }

    // ------------------------------------------------------------------ 1,000 sessions

    final List<double[]> memSeries = new ArrayList<>();
    final List<String> phaseMarks = new ArrayList<>();
    volatile String curPhase = "start";
    long seriesStart;

    void mark(String phase) {
        curPhase = phase;
        synchronized (memSeries) {
            phaseMarks.add(String.format(Locale.ROOT, "%.2f \"%s\"", (System.nanoTime() - seriesStart) / 1e9, phase));
        }
    }

    /** Peak {rss KiB, threads} of sproxy in the samples taken since {@code since} (System.nanoTime()). */
    double[] peakSince(long since) {
        double rss = 0;
        double thr = 0;
        double from = (since - seriesStart) / 1e9;
        synchronized (memSeries) {
            for (double[] s : memSeries) {
                if (s[0] >= from) {
                    rss = Math.max(rss, s[1]);
                    thr = Math.max(thr, s[2]);
                }
            }
        }
        return new double[]{rss, thr};
    }

    Map<String, Object> snapshot(String what, long[] sp, long[] cp) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("state", what);
        m.put("sproxy_rss_MiB", sp[0] / 1024.0);
        m.put("sproxy_threads", sp[2]);
        m.put("cproxy_rss_MiB", cp[0] / 1024.0);
        m.put("cproxy_threads", cp[2]);
        say("   %-44s sproxy RSS %7.1f MiB, %5d threads | cproxy RSS %7.1f MiB, %5d threads", what, sp[0] / 1024.0, sp[2],
                cp[0] / 1024.0, cp[2]);
        return m;
    }

    void sessions() throws Exception {
        int n = o.sessions;
        startPair(5201, 6201, "-sessions", "");
        InetSocketAddress a = new InetSocketAddress("127.0.0.1", 5201);
        seriesStart = System.nanoTime();
        AtomicBoolean stopSampler = new AtomicBoolean();
        Thread sampler = new Thread(() -> {
            while (!stopSampler.get()) {
                long[] s = Bench.memory(sproxy.pid);
                long[] c = Bench.memory(cproxy.pid);
                synchronized (memSeries) {
                    memSeries.add(new double[]{(System.nanoTime() - seriesStart) / 1e9, s[0], s[2], c[0], c[2]});
                }
                LockSupport.parkNanos(100_000_000);
            }
        }, "sampler");
        sampler.setDaemon(true);
        sampler.start();
        List<Map<String, Object>> states = new ArrayList<>();
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("sessions", n);
        r.put("bulk_bytes_per_session_each_way", o.sessionBulk);
        r.put("proxy_java_opts", o.proxyJavaOpts.isEmpty() ? "(default)" : o.proxyJavaOpts);
        r.put("states", states);
        results.put("sessions", r);
        String cur = o.clientIp;
        try (Fleet f = new Fleet()) {
            mark("started");
            Thread.sleep(1000);
            states.add(snapshot("no session", Bench.memory(sproxy.pid), Bench.memory(cproxy.pid)));

            mark("opening");
            long t = System.nanoTime();
            f.open(a, n, 32, 300_000);
            f.add(1024);
            if (!f.pump(f::allDone, 60_000)) {
                throw new IOException("first echo: only " + f.doneCount() + " of " + n + " sessions done, " + f.errorCount() + " failed");
            }
            double openS = (System.nanoTime() - t) / 1e9;
            r.put("open_seconds", openS);
            say("   opened %d sessions and echoed 1 KiB on each in %.1f s", n, openS);
            mark("idle");
            Thread.sleep(3000);
            states.add(snapshot(n + " sessions, idle after 1 KiB echo", Bench.memory(sproxy.pid), Bench.memory(cproxy.pid)));
            recordNativeMemory(r, "idle", "with " + n + " idle sessions");

            // one address change for everybody
            mark("address removed");
            cproxy.forget();
            sproxy.forget();
            long t0 = Bench.run("ip", "addr", "del", cur + "/24", "dev", o.dev);
            f.add(4096); // typed while the link is down: must be replayed
            BoolRef gone = new BoolRef();
            f.pump(() -> cproxy.times(" lost: ", t0).size() >= n || gone.v, 30_000);
            List<Long> lost = cproxy.times(" lost: ", t0);
            List<Double> detect = new ArrayList<>();
            for (long x : lost) {
                detect.add((x - t0) / 1e6);
            }
            r.put("cproxy_detect_ms", stats(detect, 50, 95));
            say("   %d of %d cproxy sessions reported the lost link, p50 %.0f ms, max %.0f ms after the address went",
                    lost.size(), n, Bench.percentile(Bench.sorted(detect), 50), Bench.percentile(Bench.sorted(detect), 100));
            for (Fleet.Sess s : f.all) {
                s.first = 0;
            }
            f.armed = true;
            mark("new address");
            String next = "192.0.2.250";
            Map<String, Long> nsS0 = Bench.tcpExt(sproxy.pid);
            Map<String, Long> nsC0 = Bench.tcpExt(self);
            long t1 = Bench.run("ip", "addr", "add", next + "/24", "dev", o.dev);
            cur = next;
            boolean ok = f.pump(f::allDone, 120_000);
            long tAll = System.nanoTime();
            f.armed = false;
            double[] rpeak = peakSince(t0);
            List<Double> lat = new ArrayList<>();
            for (Fleet.Sess s : f.all) {
                if (s.first != 0) {
                    lat.add((s.first - t1) / 1e6);
                }
            }
            Map<String, Object> rs = stats(lat, 50, 95, 99);
            rs.put("all_done_ms", ok ? (tAll - t1) / 1e6 : null);
            r.put("resume_ms", rs);
            r.put("resume_peak_sproxy_rss_MiB", rpeak[0] / 1024);
            r.put("resume_peak_sproxy_threads", rpeak[1]);
            Map<String, Long> nsS1 = Bench.tcpExt(sproxy.pid);
            Map<String, Long> nsC1 = Bench.tcpExt(self);
            Map<String, Object> tcp = new LinkedHashMap<>();
            tcp.put("server_ListenOverflows", Bench.delta(nsS0, nsS1, "TcpExt:ListenOverflows"));
            tcp.put("server_ListenDrops", Bench.delta(nsS0, nsS1, "TcpExt:ListenDrops"));
            tcp.put("client_TCPSynRetrans", Bench.delta(nsC0, nsC1, "TcpExt:TCPSynRetrans"));
            r.put("resume_tcp_counters", tcp);
            say("   TCP during the mass resume: %s", tcp);
            r.put("cproxy_resumed_lines", cproxy.times("resumed over link", t1).size());
            r.put("sproxy_resumed_lines", sproxy.times("resumed over link", t1).size());
            say("   after the new address: first echo p50 %.0f ms p95 %.0f ms max %.0f ms; all %d sessions complete after %s; "
                            + "sproxy peak RSS %.1f MiB, %.0f threads", Bench.percentile(Bench.sorted(lat), 50),
                    Bench.percentile(Bench.sorted(lat), 95), Bench.percentile(Bench.sorted(lat), 100), n,
                    ok ? String.format(Locale.ROOT, "%.0f ms", (tAll - t1) / 1e6) : "NEVER", rpeak[0] / 1024, rpeak[1]);
            StringBuilder dat = new StringBuilder("# resume_ms cumulative_fraction\n");
            double[] sl = Bench.sorted(lat);
            for (int i = 0; i < sl.length; i++) {
                dat.append(String.format(Locale.ROOT, "%.2f %.5f%n", sl[i], (i + 1.0) / n));
            }
            plot("sessions-resume.dat", dat.toString());
            mark("after resume");
            Thread.sleep(3000);
            states.add(snapshot(n + " sessions, after all resumed", Bench.memory(sproxy.pid), Bench.memory(cproxy.pid)));
            recordNativeMemory(r, "resumed", "after the resume");

            // Bulk last, so the idle and resume figures are not those of a heap grown by bulk buffers.
            mark("bulk");
            t = System.nanoTime();
            long tb = t;
            for (int from = 0; from < n; from += o.bulkParallel) {
                List<Fleet.Sess> wave = f.all.subList(from, Math.min(n, from + o.bulkParallel));
                f.add(wave, o.sessionBulk);
                if (!f.pump(() -> Fleet.allDone(wave), 600_000)) {
                    throw new IOException("bulk echo: only " + f.doneCount() + " of " + n + " sessions done, "
                            + f.errorCount() + " failed");
                }
            }
            double bulkS = (System.nanoTime() - t) / 1e9;
            double[] peak = peakSince(t);
            int spuriousC = cproxy.times(" lost: ", tb).size();
            int spuriousS = sproxy.times(" lost: ", tb).size();
            r.put("bulk_sessions_at_once", Math.min(n, o.bulkParallel));
            r.put("bulk_seconds", bulkS);
            r.put("bulk_aggregate_MBps_each_way", n * (double) o.sessionBulk / bulkS / 1e6);
            r.put("bulk_peak_sproxy_rss_MiB", peak[0] / 1024);
            r.put("bulk_spurious_link_losses_cproxy", spuriousC);
            r.put("bulk_spurious_link_losses_sproxy", spuriousS);
            say("   bulk: every session echoed %d KiB, %d sessions at a time, in %.1f s (%.0f MB/s each way); "
                            + "sproxy peak RSS %.1f MiB; links declared lost on a healthy network: cproxy %d, sproxy %d",
                    o.sessionBulk >> 10, Math.min(n, o.bulkParallel), bulkS, n * (double) o.sessionBulk / bulkS / 1e6,
                    peak[0] / 1024, spuriousC, spuriousS);
            mark("after bulk");
            // Long enough for idle buffers to shrink (1 s) and a periodic GC to return the heap.
            Thread.sleep(12_000);
            states.add(snapshot(n + " sessions, 12 s after " + (o.sessionBulk >> 10) + " KiB bulk echo",
                    Bench.memory(sproxy.pid), Bench.memory(cproxy.pid)));

            r.put("heap", heap(sproxy.pid));

            long exact = f.all.stream().filter(s -> s.error == null && s.bad < 0 && s.recv == s.sent && s.sent == s.limit).count();
            r.put("byte_exact_sessions", exact);
            r.put("failed_sessions", f.errorCount());
            r.put("all_byte_exact", exact == n);
            long[] hwm = Bench.memory(sproxy.pid);
            r.put("sproxy_peak_rss_MiB_VmHWM", hwm[1] / 1024.0);
            say("   byte-exact sessions: %d of %d (%d failed); sproxy lifetime peak RSS (VmHWM) %.1f MiB", exact, n,
                    f.errorCount(), hwm[1] / 1024.0);
            if (exact != n) {
                f.all.stream().filter(s -> s.error != null || s.bad >= 0).limit(5).forEach(s ->
                        say("     session %d: %s", s.id, s.error != null ? s.error : "wrong byte at " + s.bad));
                throw new IOException("only " + exact + " of " + n + " sessions byte-exact");
            }
        } finally {
            stopSampler.set(true);
            sampler.join(1000);
            StringBuilder dat = new StringBuilder("# t_s sproxy_rss_MiB sproxy_threads cproxy_rss_MiB cproxy_threads\n");
            synchronized (memSeries) {
                for (double[] s : memSeries) {
                    dat.append(String.format(Locale.ROOT, "%.2f %.1f %.0f %.1f %.0f%n", s[0], s[1] / 1024, s[2], s[3] / 1024, s[4]));
                }
                plot("memory.dat", dat.toString());
                plot("phases.dat", String.join("\n", phaseMarks) + "\n");
            }
            if (!cur.equals(o.clientIp)) {
                Bench.run("ip", "addr", "del", cur + "/24", "dev", o.dev);
                Bench.run("ip", "addr", "add", o.clientIp + "/24", "dev", o.dev);
            }
        }
    }

    static final class BoolRef {
        boolean v;
    }

    /** sproxy's native memory by category into {@code r} and the output, if the JVM tracks it. */
    void recordNativeMemory(Map<String, Object> r, String key, String when) {
        Map<String, Object> nmt = nativeMemory(sproxy.pid);
        if (!nmt.isEmpty()) {
            r.put(key + "_native_memory_committed_MiB", nmt);
            say("   sproxy native memory (NMT, committed MiB) %s: %s", when, nmt);
        }
    }

    /** Committed MiB per category from Native Memory Tracking, if the JVM runs with -XX:NativeMemoryTracking. */
    Map<String, Object> nativeMemory(long pid) {
        Map<String, Object> m = new LinkedHashMap<>();
        String out = Bench.output("jcmd", String.valueOf(pid), "VM.native_memory", "summary", "scale=KB");
        Matcher x = Pattern.compile("(?m)^-?\\s*([A-Za-z][A-Za-z ]*?) \\(reserved=(\\d+)KB, committed=(\\d+)KB\\)").matcher(out);
        while (x.find()) {
            double c = Long.parseLong(x.group(3)) / 1024.0;
            if (c >= 1) {
                m.put(x.group(1).trim(), Math.round(c * 10) / 10.0);
            }
        }
        Matcher y = Pattern.compile("Total: reserved=(\\d+)KB, committed=(\\d+)KB").matcher(out);
        if (y.find()) {
            m.put("Total", Math.round(Long.parseLong(y.group(2)) / 102.4) / 10.0);
        }
        Matcher z = Pattern.compile("\\(stack: reserved=(\\d+)KB, committed=(\\d+)KB\\)").matcher(out);
        if (z.find()) {
            m.put("Thread stacks", Math.round(Long.parseLong(z.group(2)) / 102.4) / 10.0);
        }
        return m;
    }

    /** Heap used by the JVM {@code pid} as it is, then after a full GC (what it really needs). */
    Map<String, Object> heap(long pid) {
        Map<String, Object> m = new LinkedHashMap<>();
        Pattern used = Pattern.compile("total (\\d+)K, used (\\d+)K");
        Matcher x = used.matcher(Bench.output("jcmd", String.valueOf(pid), "GC.heap_info"));
        if (x.find()) {
            m.put("heap_committed_MiB", Long.parseLong(x.group(1)) / 1024.0);
            m.put("heap_used_MiB", Long.parseLong(x.group(2)) / 1024.0);
        }
        Bench.output("jcmd", String.valueOf(pid), "GC.run");
        x = used.matcher(Bench.output("jcmd", String.valueOf(pid), "GC.heap_info"));
        if (x.find()) {
            m.put("heap_committed_after_full_gc_MiB", Long.parseLong(x.group(1)) / 1024.0);
            m.put("heap_live_after_full_gc_MiB", Long.parseLong(x.group(2)) / 1024.0);
        }
        long[] mem = Bench.memory(pid);
        m.put("rss_after_full_gc_MiB", mem[0] / 1024.0);
        say("   sproxy heap: %s", m);
        return m;
    }

    // ------------------------------------------------------------------ output

    void plot(String name, String content) throws IOException {
        if (o.plotDir != null) {
            Files.writeString(o.plotDir.resolve(name), content);
        }
    }

    @SuppressWarnings("unchecked")
    static Object get(Object m, String... keys) {
        Object x = m;
        for (String k : keys) {
            if (!(x instanceof Map)) {
                return null;
            }
            x = ((Map<String, Object>) x).get(k);
        }
        return x;
    }

    static double num(Object x) {
        return x instanceof Number n ? n.doubleValue() : Double.NaN;
    }

    final List<String[]> rows = new ArrayList<>();

    void row(String metric, double direct, double socat, double roam, String unit, String target, String met) {
        row4(metric, direct, socat, Double.NaN, roam, unit, target, met);
    }

    void row4(String metric, double direct, double socat, double socat64, double roam, String unit, String target, String met) {
        String rd = Double.isNaN(direct) || Double.isNaN(roam) ? "" : String.format(Locale.ROOT, "%.2f", roam / direct);
        String rs = Double.isNaN(socat) || Double.isNaN(roam) ? "" : String.format(Locale.ROOT, "%.2f", roam / socat);
        String r64 = Double.isNaN(socat64) || Double.isNaN(roam) ? "" : String.format(Locale.ROOT, "%.2f", roam / socat64);
        rows.add(new String[]{metric, unit, cell(direct), cell(socat), cell(socat64), cell(roam), rd, rs, r64, target, met});
    }

    static String cell(double v) {
        if (Double.isNaN(v)) {
            return "-";
        }
        if (Math.abs(v) >= 100) {
            return String.format(Locale.ROOT, "%.0f", v);
        }
        return String.format(Locale.ROOT, "%.1f", v);
    }

    static String yes(boolean b) {
        return b ? "yes" : "NO";
    }

    void printTable() throws IOException {
        Object t = get(results, "throughput", "summary");
        if (t != null) {
            for (String dir : new String[]{"up", "down"}) {
                double d = num(get(t, "direct", dir, "MBps_median"));
                double s = num(get(t, "socat", dir, "MBps_median"));
                double s64 = num(get(t, "socat64k", dir, "MBps_median"));
                double r = num(get(t, "roamproxy", dir, "MBps_median"));
                row4("throughput " + (dir.equals("up") ? "upstream" : "downstream") + " (median)", d, s, s64, r, "MB/s",
                        ">=1.5x socat, >=0.3x direct", yes(r >= 1.5 * s && r >= 0.3 * d));
            }
            for (String dir : new String[]{"up", "down"}) {
                double s = num(get(t, "socat", dir, "relay_cpu_s_per_GiB_median"));
                double s64 = num(get(t, "socat64k", dir, "relay_cpu_s_per_GiB_median"));
                double r = num(get(t, "roamproxy", dir, "relay_cpu_s_per_GiB_median"));
                row4("relay processes' CPU per GiB " + dir, Double.NaN, s, s64, r, "s", "", "");
            }
            for (String dir : new String[]{"up", "down"}) {
                double d = num(get(t, "direct", dir, "machine_cpu_s_per_GiB_median"));
                double s = num(get(t, "socat", dir, "machine_cpu_s_per_GiB_median"));
                double s64 = num(get(t, "socat64k", dir, "machine_cpu_s_per_GiB_median"));
                double r = num(get(t, "roamproxy", dir, "machine_cpu_s_per_GiB_median"));
                row4("whole-machine CPU per GiB " + dir + " (incl. softirq)", d, s, s64, r, "s", "", "");
            }
        }
        Object rt = get(results, "rtt");
        if (rt != null) {
            for (String q : new String[]{"p50", "p99"}) {
                double d = num(get(rt, "direct", q));
                double s = num(get(rt, "socat", q));
                double s64 = num(get(rt, "socat64k", q));
                double r = num(get(rt, "roamproxy", q));
                row4("1-byte round trip " + q, d, s, s64, r, "us", q.equals("p50") ? "<= socat" : "",
                        q.equals("p50") ? yes(r <= s) : "");
            }
        }
        Object rs = get(results, "resume");
        if (rs != null) {
            double p50 = num(get(rs, "resume_ms", "p50"));
            double p95 = num(get(rs, "resume_ms", "p95"));
            row("resume after new address p50 (" + (long) num(get(rs, "resume_ms", "n")) + " changes)", Double.NaN, Double.NaN, p50, "ms",
                    "<= 300", yes(p50 <= 300));
            row("resume after new address p95", Double.NaN, Double.NaN, p95, "ms", "<= 1000", yes(p95 <= 1000));
            row("failure detection p50, cproxy", Double.NaN, Double.NaN, num(get(rs, "cproxy_detect_ms", "p50")), "ms",
                    "", "");
            row("failure detection p50, sproxy", Double.NaN, Double.NaN, num(get(rs, "sproxy_detect_ms", "p50")), "ms",
                    "", "");
        }
        Object ss = get(results, "sessions");
        if (ss instanceof Map<?, ?> sm && sm.get("states") instanceof List<?> states && states.size() >= 2) {
            int n = (int) num(sm.get("sessions"));
            for (Object st : states.subList(1, states.size())) {
                double rss = num(get(st, "sproxy_rss_MiB"));
                row("sproxy RSS: " + get(st, "state"), Double.NaN, Double.NaN, rss, "MiB", "<= 256", yes(rss <= 256));
            }
            if (sm.get("resume_peak_sproxy_rss_MiB") != null) {
                double pk = num(sm.get("resume_peak_sproxy_rss_MiB"));
                row("sproxy RSS peak while " + n + " sessions resume", Double.NaN, Double.NaN, pk, "MiB", "<= 256", yes(pk <= 256));
            }
            Object last = states.get(states.size() - 1);
            row("sproxy threads, " + n + " sessions", Double.NaN, Double.NaN, num(get(last, "sproxy_threads")), "", "", "");
            if (sm.get("heap") != null) {
                row("sproxy live heap after full GC", Double.NaN, Double.NaN, num(get(sm.get("heap"), "heap_live_after_full_gc_MiB")),
                        "MiB", "", "");
            }
            if (sm.get("resume_ms") != null) {
                row(n + " sessions resume: first echo p50", Double.NaN, Double.NaN, num(get(sm.get("resume_ms"), "p50")), "ms", "", "");
                row(n + " sessions resume: first echo p95", Double.NaN, Double.NaN, num(get(sm.get("resume_ms"), "p95")), "ms", "", "");
                row(n + " sessions resume: all complete", Double.NaN, Double.NaN, num(get(sm.get("resume_ms"), "all_done_ms")), "ms", "", "");
            }
            if (sm.get("resume_tcp_counters") != null) {
                row("  SYNs dropped by sproxy's full accept queue", Double.NaN, Double.NaN,
                        num(get(sm.get("resume_tcp_counters"), "server_ListenOverflows")), "", "", "");
            }
            if (sm.get("bulk_spurious_link_losses_sproxy") != null) {
                row("links declared lost on a healthy network (bulk, " + (long) num(sm.get("bulk_sessions_at_once")) + " at once)",
                        Double.NaN, Double.NaN, num(sm.get("bulk_spurious_link_losses_sproxy")) + num(sm.get("bulk_spurious_link_losses_cproxy")),
                        "", "0", yes(num(sm.get("bulk_spurious_link_losses_sproxy")) + num(sm.get("bulk_spurious_link_losses_cproxy")) == 0));
            }
            if (sm.get("all_byte_exact") != null) {
                rows.add(new String[]{n + " sessions byte-exact after resume", "", "", "", "", (long) num(sm.get("byte_exact_sessions")) + "/" + n,
                        "", "", "", "all", yes(Boolean.TRUE.equals(sm.get("all_byte_exact")))});
            }
        }
        String[] head = {"metric", "unit", "direct TCP", "socat->socat", "socat -b 64K", "cproxy->sproxy", "x direct", "x socat",
                "x socat 64K", "target", "met"};
        int[] w = new int[head.length];
        List<String[]> all = new ArrayList<>();
        all.add(head);
        all.addAll(rows);
        for (String[] r : all) {
            for (int i = 0; i < r.length; i++) {
                w[i] = Math.max(w[i], r[i].length());
            }
        }
        StringBuilder out = new StringBuilder();
        out.append(String.format("%nroamproxy benchmark %s (%s mode) on %s; load average at start %s, at end %s%n", o.stamp,
                o.quick ? "quick" : "full", o.machine, get(results, "meta", "loadavg_at_start"), get(results, "meta", "loadavg_at_end")));
        for (int k = 0; k < all.size(); k++) {
            String[] r = all.get(k);
            StringBuilder line = new StringBuilder("|");
            for (int i = 0; i < r.length; i++) {
                String f = i == 0 ? "%-" + w[i] + "s" : "%" + w[i] + "s";
                line.append(' ').append(String.format(f, r[i])).append(" |");
            }
            out.append(line).append('\n');
            if (k == 0) {
                StringBuilder sep = new StringBuilder("|");
                for (int i = 0; i < w.length; i++) {
                    sep.append(i == 0 ? ' ' : ' ').append(i == 0 ? "-".repeat(w[i]) : "-".repeat(w[i] - 1) + ":").append(" |");
                }
                out.append(sep).append('\n');
            }
        }
        System.out.print(out);
        if (o.out != null) {
            Files.writeString(Path.of(o.out + ".md"), out.toString());
        }
    }

    void write() throws IOException {
        if (o.out == null) {
            return;
        }
        Files.createDirectories(o.out.getParent());
        Files.writeString(Path.of(o.out + ".json"), Bench.json(results, "") + "\n");
        try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(Path.of(o.out + ".csv")))) {
            w.println("section,metric,path,value,unit");
            Object t = get(results, "throughput", "summary");
            if (t != null) {
                for (String p : PATHS) {
                    for (String dir : new String[]{"up", "down"}) {
                        w.printf(Locale.ROOT, "throughput,%s_MBps_median,%s,%.1f,MB/s%n", dir, p, num(get(t, p, dir, "MBps_median")));
                        w.printf(Locale.ROOT, "throughput,%s_MBps_min,%s,%.1f,MB/s%n", dir, p, num(get(t, p, dir, "MBps_min")));
                        w.printf(Locale.ROOT, "throughput,%s_MBps_max,%s,%.1f,MB/s%n", dir, p, num(get(t, p, dir, "MBps_max")));
                        w.printf(Locale.ROOT, "throughput,%s_relay_cpu_s_per_GiB,%s,%.2f,s%n", dir, p,
                                num(get(t, p, dir, "relay_cpu_s_per_GiB_median")));
                    }
                }
            }
            Object rt = get(results, "rtt");
            if (rt != null) {
                for (String p : PATHS) {
                    for (String q : new String[]{"p50", "p90", "p99", "p99.9", "max"}) {
                        w.printf(Locale.ROOT, "rtt,%s,%s,%.1f,us%n", q, p, num(get(rt, p, q)));
                    }
                }
            }
            Object rs = get(results, "resume");
            if (rs != null) {
                for (String k : new String[]{"resume_ms", "cproxy_resume_log_ms", "cproxy_detect_ms", "sproxy_detect_ms"}) {
                    for (String q : new String[]{"p50", "p95", "max"}) {
                        w.printf(Locale.ROOT, "resume,%s_%s,roamproxy,%.1f,ms%n", k, q, num(get(rs, k, q)));
                    }
                }
            }
            Object ss = get(results, "sessions");
            if (ss instanceof Map<?, ?> sm && sm.get("states") instanceof List<?> states) {
                for (Object st : states) {
                    w.printf(Locale.ROOT, "sessions,sproxy_rss: %s,roamproxy,%.1f,MiB%n", get(st, "state"), num(get(st, "sproxy_rss_MiB")));
                    w.printf(Locale.ROOT, "sessions,sproxy_threads: %s,roamproxy,%.0f,%n", get(st, "state"), num(get(st, "sproxy_threads")));
                }
                w.printf(Locale.ROOT, "sessions,resume_peak_sproxy_rss,roamproxy,%.1f,MiB%n", num(sm.get("resume_peak_sproxy_rss_MiB")));
                for (String q : new String[]{"p50", "p95", "max", "all_done_ms"}) {
                    w.printf(Locale.ROOT, "sessions,resume_%s,roamproxy,%.1f,ms%n", q, num(get(sm.get("resume_ms"), q)));
                }
                w.printf(Locale.ROOT, "sessions,byte_exact_sessions,roamproxy,%.0f,%n", num(sm.get("byte_exact_sessions")));
                w.printf(Locale.ROOT, "sessions,heap_live_after_full_gc,roamproxy,%.1f,MiB%n",
                        num(get(sm.get("heap"), "heap_live_after_full_gc_MiB")));
            }
        }
    }

    // ------------------------------------------------------------------ profiling

    void profile() throws Exception {
        Profiler.run(this);
    }
}
