import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;

/** Summarises a JFR recording of a proxy: hot methods, allocation per GiB relayed, GC. */
final class JfrTop {
    static void main(String[] a) throws IOException {
        System.out.println(analyze(Path.of(a[0]), a.length > 1 ? Double.parseDouble(a[1]) : 1, a.length > 2 ? a[2] : "proxy"));
    }

    static String frame(RecordedFrame f) {
        String t = f.getMethod().getType().getName();
        t = t.substring(t.lastIndexOf('.') + 1);
        return t + "." + f.getMethod().getName();
    }

    static boolean ours(RecordedFrame f) {
        return f.getMethod().getType().getName().startsWith("net.roamproxy");
    }

    static String analyze(Path file, double gib, String who) throws IOException {
        Map<String, Long> self = new HashMap<>();
        Map<String, Long> incl = new HashMap<>();
        Map<String, Long> byRole = new HashMap<>();
        Map<String, Long> allocSite = new HashMap<>();
        Map<String, Long> threadAllocMin = new HashMap<>();
        Map<String, Long> threadAllocMax = new HashMap<>();
        long samples = 0;
        long allocWeight = 0;
        int gcs = 0;
        long gcPauseNanos = 0;
        long gcLongest = 0;
        Map<String, Long> gcNames = new HashMap<>();
        long monitorBlocked = 0;
        long monitorBlockedNanos = 0;
        try (RecordingFile rf = new RecordingFile(file)) {
            while (rf.hasMoreEvents()) {
                RecordedEvent e = rf.readEvent();
                switch (e.getEventType().getName()) {
                    case "jdk.ExecutionSample" -> {
                        RecordedStackTrace st = e.getStackTrace();
                        if (st == null || st.getFrames().isEmpty()) {
                            continue;
                        }
                        samples++;
                        List<RecordedFrame> fr = st.getFrames();
                        self.merge(frame(fr.get(0)), 1L, Long::sum);
                        Set<String> seen = new HashSet<>();
                        for (RecordedFrame f : fr) {
                            if (ours(f) || f.getMethod().getType().getName().startsWith("java.util.Arrays")
                                    || f.getMethod().getName().startsWith("arraycopy")) {
                                String n = frame(f);
                                if (seen.add(n)) {
                                    incl.merge(n, 1L, Long::sum);
                                }
                            }
                        }
                        RecordedThread t = e.getThread("sampledThread");
                        byRole.merge(Profiler.role(t == null ? "?" : String.valueOf(t.getJavaName())), 1L, Long::sum);
                    }
                    case "jdk.ObjectAllocationSample" -> {
                        long w = e.getLong("weight");
                        allocWeight += w;
                        String cls = e.getClass("objectClass").getName();
                        String site = "?";
                        RecordedStackTrace st = e.getStackTrace();
                        if (st != null) {
                            for (RecordedFrame f : st.getFrames()) {
                                if (ours(f)) {
                                    site = frame(f) + ":" + f.getLineNumber();
                                    break;
                                }
                            }
                            if (site.equals("?") && !st.getFrames().isEmpty()) {
                                site = frame(st.getFrames().get(0));
                            }
                        }
                        allocSite.merge(cls + " at " + site, w, Long::sum);
                    }
                    case "jdk.ThreadAllocationStatistics" -> {
                        RecordedThread t = e.getThread("thread");
                        String n = t == null ? "?" : String.valueOf(t.getJavaName());
                        long v = e.getLong("allocated");
                        threadAllocMin.merge(n, v, Math::min);
                        threadAllocMax.merge(n, v, Math::max);
                    }
                    case "jdk.GarbageCollection" -> {
                        gcs++;
                        long p = e.getDuration("sumOfPauses").toNanos();
                        gcPauseNanos += p;
                        gcLongest = Math.max(gcLongest, p);
                        gcNames.merge(e.getString("name"), 1L, Long::sum);
                    }
                    case "jdk.JavaMonitorEnter" -> {
                        monitorBlocked++;
                        monitorBlockedNanos += e.getDuration().toNanos();
                    }
                    default -> {
                    }
                }
            }
        }
        final long ns = Math.max(1, samples);
        StringBuilder b = new StringBuilder();
        b.append(String.format(Locale.ROOT, "%s: %d Java execution samples (threads running Java code; time in the kernel is in perf's figures)%n",
                who, samples));
        if (samples < 50) {
            b.append("  (too few samples for hot methods: the relay threads are almost always in the kernel or in arraycopy\n"
                    + "   stubs, where JFR does not take stack samples; see perf's split below)\n");
        } else {
            b.append("  by thread role: ");
            byRole.entrySet().stream().sorted((x, y) -> Long.compare(y.getValue(), x.getValue()))
                    .forEach(e -> b.append(String.format(Locale.ROOT, "%s %.0f%%  ", e.getKey(), 100.0 * e.getValue() / ns)));
            b.append("\n  hottest methods (self):\n");
            self.entrySet().stream().sorted((x, y) -> Long.compare(y.getValue(), x.getValue())).limit(10)
                    .forEach(e -> b.append(String.format(Locale.ROOT, "    %5.1f%%  %s%n", 100.0 * e.getValue() / ns, e.getKey())));
            b.append("  roamproxy methods and array copies (inclusive):\n");
            incl.entrySet().stream().sorted((x, y) -> Long.compare(y.getValue(), x.getValue())).limit(14)
                    .forEach(e -> b.append(String.format(Locale.ROOT, "    %5.1f%%  %s%n", 100.0 * e.getValue() / ns, e.getKey())));
        }
        long threadAlloc = 0;
        Map<String, Long> roleAlloc = new HashMap<>();
        for (var e : threadAllocMax.entrySet()) {
            long d = e.getValue() - threadAllocMin.getOrDefault(e.getKey(), 0L);
            threadAlloc += d;
            roleAlloc.merge(Profiler.role(e.getKey()), d, Long::sum);
        }
        b.append(String.format(Locale.ROOT, "  allocation: about %.0f MiB per GiB relayed (JFR allocation samples)", allocWeight / gib / (1 << 20)));
        if (threadAlloc > 0) {
            b.append(String.format(Locale.ROOT, "; threads alive at the end of the recording allocated %.0f MiB/GiB: ",
                    threadAlloc / gib / (1 << 20)));
            roleAlloc.entrySet().stream().sorted((x, y) -> Long.compare(y.getValue(), x.getValue())).filter(e -> e.getValue() / gib > (1 << 20))
                    .forEach(e -> b.append(String.format(Locale.ROOT, "%s %.0f MiB/GiB  ", e.getKey(), e.getValue() / gib / (1 << 20))));
        }
        b.append("\n  allocation sites (sampled weight):\n");
        long aw = Math.max(1, allocWeight);
        allocSite.entrySet().stream().sorted((x, y) -> Long.compare(y.getValue(), x.getValue())).limit(5)
                .forEach(e -> b.append(String.format(Locale.ROOT, "    %5.1f%%  %s%n", 100.0 * e.getValue() / aw, e.getKey())));
        b.append(String.format(Locale.ROOT, "  GC: %d collections (%s), %.1f per GiB, pauses %.1f ms per GiB in total, longest %.1f ms%n",
                gcs, gcNames, gcs / gib, gcPauseNanos / 1e6 / gib, gcLongest / 1e6));
        b.append(String.format(Locale.ROOT, "  contended monitor enters over 20 ms: %d (%.0f ms)", monitorBlocked, monitorBlockedNanos / 1e6));
        return b.toString();
    }
}
