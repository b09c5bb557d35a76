import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

/** Command-line options of {@code Bench run} and {@code Bench profile}; {@code bench/run} sets the paths. */
final class Options {
    boolean quick;
    Path dist;
    Path classes;
    Path out;
    Path plotDir;
    Path logDir;
    Path workDir;
    String nss;
    String dev = "c0";
    String serverIp = "192.0.2.1";
    String clientIp = "192.0.2.2";
    String proxyJavaOpts = "";
    String socatBuffer = "";
    java.util.List<String> proxyArgs = new java.util.ArrayList<>();
    Set<String> paths = new HashSet<>(Arrays.asList("direct", "socat", "socat64k", "roamproxy"));
    String machine = "";
    String stamp = "";
    Set<String> only = new HashSet<>(Arrays.asList("throughput", "rtt", "resume", "sessions"));

    long bytes;
    long warmBytes;
    int runs;
    int rttWarm;
    int rttSamples;
    long rttGapMicros = 1000;
    int cycles;
    int sessions;
    long sessionBulk;
    int bulkParallel = 50;

    static Options parse(String[] a) {
        Options o = new Options();
        Long bytes = null;
        Integer runs = null;
        Integer cycles = null;
        Integer sessions = null;
        Long bulk = null;
        Integer samples = null;
        for (int i = 1; i < a.length; i++) {
            String k = a[i];
            switch (k) {
                case "--quick" -> o.quick = true;
                case "--dist" -> o.dist = Path.of(a[++i]);
                case "--classes" -> o.classes = Path.of(a[++i]);
                case "--out" -> o.out = Path.of(a[++i]);
                case "--plot-dir" -> o.plotDir = Path.of(a[++i]);
                case "--log-dir" -> o.logDir = Path.of(a[++i]);
                case "--work-dir" -> o.workDir = Path.of(a[++i]);
                case "--nss" -> o.nss = a[++i];
                case "--dev" -> o.dev = a[++i];
                case "--server-ip" -> o.serverIp = a[++i];
                case "--client-ip" -> o.clientIp = a[++i];
                case "--proxy-java-opts" -> o.proxyJavaOpts = a[++i];
                case "--proxy-args" -> o.proxyArgs = Arrays.asList(a[++i].trim().split("\\s+"));
                case "--paths" -> o.paths = new HashSet<>(Arrays.asList(a[++i].split(",")));
                case "--socat-b" -> o.socatBuffer = a[++i];
                case "--machine" -> o.machine = a[++i];
                case "--stamp" -> o.stamp = a[++i];
                case "--only" -> o.only = new HashSet<>(Arrays.asList(a[++i].split(",")));
                case "--bytes" -> bytes = size(a[++i]);
                case "--runs" -> runs = Integer.parseInt(a[++i]);
                case "--cycles" -> cycles = Integer.parseInt(a[++i]);
                case "--sessions" -> sessions = Integer.parseInt(a[++i]);
                case "--session-bulk" -> bulk = size(a[++i]);
                case "--bulk-parallel" -> o.bulkParallel = Integer.parseInt(a[++i]);
                case "--rtt-samples" -> samples = Integer.parseInt(a[++i]);
                case "--rtt-gap-us" -> o.rttGapMicros = Long.parseLong(a[++i]);
                default -> throw new IllegalArgumentException("unknown option " + k);
            }
        }
        o.bytes = bytes != null ? bytes : o.quick ? 256L << 20 : 1L << 30;
        o.warmBytes = Math.min(o.bytes, o.quick ? 256L << 20 : 512L << 20);
        o.runs = runs != null ? runs : o.quick ? 3 : 5;
        o.rttSamples = samples != null ? samples : o.quick ? 1000 : 5000;
        o.rttWarm = o.quick ? 500 : 2000;
        o.cycles = cycles != null ? cycles : o.quick ? 5 : 20;
        o.sessions = sessions != null ? sessions : 1000;
        o.sessionBulk = bulk != null ? bulk : o.quick ? 256L << 10 : 2L << 20;
        return o;
    }

    static long size(String s) {
        String t = s.trim().toUpperCase();
        long mult = 1;
        if (t.endsWith("K")) {
            mult = 1L << 10;
        } else if (t.endsWith("M")) {
            mult = 1L << 20;
        } else if (t.endsWith("G")) {
            mult = 1L << 30;
        }
        if (mult > 1) {
            t = t.substring(0, t.length() - 1);
        }
        return Long.parseLong(t) * mult;
    }
}
