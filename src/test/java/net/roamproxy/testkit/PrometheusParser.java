package net.roamproxy.testkit;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.InetSocketAddress;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * A strict reader of the Prometheus text exposition format 0.0.4, for tests of what the
 * daemons serve. It accepts less than Prometheus does, never more: every line is a
 * {@code # HELP name text}, a {@code # TYPE name counter|gauge|histogram} or a sample
 * {@code name{label="value",...} value} (no timestamps, no blank lines, no other comments);
 * each family has its HELP and TYPE once, before its samples, and its samples together; names
 * and label names are valid; no series appears twice; each histogram's buckets ascend in
 * {@code le}, never decrease, end at {@code +Inf}, and {@code +Inf} equals {@code _count}.
 * Any breach throws {@link AssertionError} naming the line.
 */
public final class PrometheusParser {
    private static final Pattern NAME = Pattern.compile("[a-zA-Z_:][a-zA-Z0-9_:]*");
    private static final Pattern LABEL_NAME = Pattern.compile("[a-zA-Z_][a-zA-Z0-9_]*");
    private static final Pattern VALUE = Pattern.compile("[+-]?(\\d+(\\.\\d*)?|\\.\\d+)([eE][+-]?\\d+)?|[+-]?Inf|NaN");
    private static final Set<String> TYPES = Set.of("counter", "gauge", "histogram");

    /** One sample: its name, its labels (sorted by name) and its value. */
    public record Sample(String name, Map<String, String> labels, double value) {
    }

    /** A metric family: its type, help text and samples, in order. */
    public record Family(String name, String type, String help, List<Sample> samples) {
    }

    /** A whole scrape, by family name in the order served. */
    public record Scrape(Map<String, Family> families) {
        /** The family {@code name}; fails if there is none. */
        public Family family(String name) {
            Family f = families.get(name);
            if (f == null) {
                throw new AssertionError("no metric family " + name + "; there are " + families.keySet());
            }
            return f;
        }

        /**
         * The value of the one sample named {@code name} whose labels are exactly
         * {@code labels} (name, value, name, value...); fails if there is none.
         */
        public double value(String name, String... labels) {
            Map<String, String> want = new TreeMap<>();
            for (int i = 0; i < labels.length; i += 2) {
                want.put(labels[i], labels[i + 1]);
            }
            for (Family f : families.values()) {
                for (Sample s : f.samples()) {
                    if (s.name().equals(name) && s.labels().equals(want)) {
                        return s.value();
                    }
                }
            }
            throw new AssertionError("no sample " + name + want);
        }

        /** The sum of every sample named {@code name}, whatever its labels. */
        public double sum(String name) {
            double sum = 0;
            for (Family f : families.values()) {
                for (Sample s : f.samples()) {
                    if (s.name().equals(name)) {
                        sum += s.value();
                    }
                }
            }
            return sum;
        }
    }

    private final Map<String, Family> families = new LinkedHashMap<>();
    private final Map<String, String> help = new HashMap<>();
    private final Map<String, String> type = new HashMap<>();
    private final Set<String> series = new HashSet<>();
    /** Families whose samples have ended because another family's began. */
    private final Set<String> finished = new HashSet<>();
    private String current;
    private int line;

    private PrometheusParser() {
    }

    /**
     * Scrapes {@code http://at/metrics} as Prometheus does and parses the answer strictly; fails
     * unless the status is 200 and the content type that of format 0.0.4.
     */
    public static Scrape scrape(InetSocketAddress at) throws IOException {
        HttpURLConnection h = (HttpURLConnection) new URL("http", at.getAddress().getHostAddress(), at.getPort(),
                "/metrics").openConnection();
        h.setConnectTimeout(10_000);
        h.setReadTimeout(10_000);
        try (InputStream in = h.getInputStream()) {
            if (h.getResponseCode() != 200) {
                throw new AssertionError("GET /metrics answered " + h.getResponseCode());
            }
            if (!"text/plain; version=0.0.4; charset=utf-8".equals(h.getContentType())) {
                throw new AssertionError("content type " + h.getContentType());
            }
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
        } finally {
            h.disconnect();
        }
    }

    /** Parses {@code text} strictly; throws {@link AssertionError} at the first breach. */
    public static Scrape parse(String text) {
        PrometheusParser p = new PrometheusParser();
        if (!text.endsWith("\n")) {
            throw new AssertionError("empty, or the last line does not end with a line feed");
        }
        for (String l : text.substring(0, text.length() - 1).split("\n", -1)) {
            p.line++;
            p.line(l);
        }
        for (Family f : p.families.values()) {
            if (f.type().equals("histogram")) {
                checkHistogram(f);
            }
        }
        return new Scrape(p.families);
    }

    private void line(String l) {
        if (l.startsWith("#")) {
            comment(l);
        } else {
            sample(l);
        }
    }

    private void comment(String l) {
        String[] parts = l.split(" ", 4);
        if (parts.length < 3 || !parts[0].equals("#") || !(parts[1].equals("HELP") || parts[1].equals("TYPE"))) {
            fail("a comment other than # HELP or # TYPE: " + l);
        }
        String name = parts[2];
        name(name);
        String rest = parts.length == 4 ? parts[3] : "";
        if (finished.contains(name) || samplesOf(name) > 0) {
            fail(parts[1] + " of " + name + " after its samples");
        }
        if (parts[1].equals("HELP")) {
            if (help.put(name, unescapeHelp(rest)) != null) {
                fail("a second HELP for " + name);
            }
        } else {
            if (!TYPES.contains(rest)) {
                fail("type of " + name + " is '" + rest + "', not counter, gauge or histogram");
            }
            if (type.put(name, rest) != null) {
                fail("a second TYPE for " + name);
            }
        }
        if (help.containsKey(name) && type.containsKey(name)) {
            families.put(name, new Family(name, type.get(name), help.get(name), new ArrayList<>()));
        }
    }

    private int samplesOf(String family) {
        Family f = families.get(family);
        return f == null ? 0 : f.samples().size();
    }

    private void sample(String l) {
        int i = 0;
        while (i < l.length() && l.charAt(i) != '{' && l.charAt(i) != ' ') {
            i++;
        }
        String name = l.substring(0, i);
        name(name);
        Map<String, String> labels = new TreeMap<>();
        if (i < l.length() && l.charAt(i) == '{') {
            i = labels(l, i + 1, labels);
        }
        if (i >= l.length() || l.charAt(i) != ' ') {
            fail("no single space before the value: " + l);
        }
        String value = l.substring(i + 1);
        if (!VALUE.matcher(value).matches()) {
            fail("'" + value + "' is not a value (or a timestamp follows it): " + l);
        }
        Family f = familyOf(name, labels);
        double v = parseValue(value);
        if (f.type().equals("counter") && !(v >= 0)) {
            fail("counter " + name + " is " + value);
        }
        if (!series.add(name + labels)) {
            fail("series " + name + labels + " appears twice");
        }
        if (current != null && !current.equals(f.name())) {
            finished.add(current);
        }
        if (finished.contains(f.name())) {
            fail("samples of " + f.name() + " are not together");
        }
        current = f.name();
        f.samples().add(new Sample(name, labels, v));
    }

    /** The declared family a sample belongs to: its own name, or a histogram's for its three suffixes. */
    private Family familyOf(String name, Map<String, String> labels) {
        Family f = families.get(name);
        if (f != null && !f.type().equals("histogram")) {
            if (labels.containsKey("le")) {
                fail(name + " is a " + f.type() + " with an le label");
            }
            return f;
        }
        for (String suffix : new String[] {"_bucket", "_sum", "_count"}) {
            if (name.endsWith(suffix)) {
                Family h = families.get(name.substring(0, name.length() - suffix.length()));
                if (h != null && h.type().equals("histogram")) {
                    if (suffix.equals("_bucket") != labels.containsKey("le")) {
                        fail(name + (suffix.equals("_bucket") ? " without" : " with") + " an le label");
                    }
                    return h;
                }
            }
        }
        fail("sample " + name + " before its family's HELP and TYPE (or of no family)");
        return null;
    }

    private int labels(String l, int i, Map<String, String> labels) {
        if (i < l.length() && l.charAt(i) == '}') {
            fail("empty label braces: " + l);
        }
        while (true) {
            int eq = l.indexOf('=', i);
            if (eq < 0) {
                fail("a label without '=': " + l);
            }
            String label = l.substring(i, eq);
            if (!LABEL_NAME.matcher(label).matches() || label.startsWith("__")) {
                fail("bad label name '" + label + "': " + l);
            }
            if (eq + 1 >= l.length() || l.charAt(eq + 1) != '"') {
                fail("label value not quoted: " + l);
            }
            StringBuilder v = new StringBuilder();
            int j = eq + 2;
            while (true) {
                if (j >= l.length()) {
                    fail("unterminated label value: " + l);
                }
                char c = l.charAt(j);
                if (c == '"') {
                    break;
                }
                if (c == '\\') {
                    char n = j + 1 < l.length() ? l.charAt(j + 1) : 0;
                    switch (n) {
                        case '\\' -> v.append('\\');
                        case '"' -> v.append('"');
                        case 'n' -> v.append('\n');
                        default -> fail("bad escape in a label value: " + l);
                    }
                    j += 2;
                } else {
                    v.append(c);
                    j++;
                }
            }
            if (labels.put(label, v.toString()) != null) {
                fail("label " + label + " twice: " + l);
            }
            j++;
            if (j >= l.length()) {
                fail("unterminated labels: " + l);
            }
            if (l.charAt(j) == '}') {
                return j + 1;
            }
            if (l.charAt(j) != ',' || j + 1 >= l.length() || l.charAt(j + 1) == '}') {
                fail("labels must be separated by single commas: " + l);
            }
            i = j + 1;
        }
    }

    private void name(String name) {
        if (!NAME.matcher(name).matches()) {
            fail("bad metric name '" + name + "'");
        }
    }

    private void fail(String why) {
        throw new AssertionError("line " + line + ": " + why);
    }

    private static String unescapeHelp(String text) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '\\') {
                char n = i + 1 < text.length() ? text.charAt(i + 1) : 0;
                if (n != '\\' && n != 'n') {
                    throw new AssertionError("bad escape in HELP text: " + text);
                }
                b.append(n == 'n' ? '\n' : '\\');
                i++;
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }

    private static double parseValue(String v) {
        return switch (v) {
            case "+Inf", "Inf" -> Double.POSITIVE_INFINITY;
            case "-Inf" -> Double.NEGATIVE_INFINITY;
            case "NaN" -> Double.NaN;
            default -> Double.parseDouble(v);
        };
    }

    /** Per label set: buckets ascending in le and never decreasing, ending at +Inf == _count, with a _sum. */
    private static void checkHistogram(Family f) {
        Map<Map<String, String>, List<Sample>> buckets = new LinkedHashMap<>();
        Map<Map<String, String>, Double> counts = new HashMap<>();
        Set<Map<String, String>> sums = new HashSet<>();
        for (Sample s : f.samples()) {
            Map<String, String> key = new TreeMap<>(s.labels());
            key.remove("le");
            if (s.name().endsWith("_bucket")) {
                buckets.computeIfAbsent(key, k -> new ArrayList<>()).add(s);
            } else if (s.name().endsWith("_count")) {
                counts.put(key, s.value());
            } else {
                sums.add(key);
            }
        }
        if (buckets.isEmpty()) {
            throw new AssertionError("histogram " + f.name() + " has no buckets");
        }
        for (Map.Entry<Map<String, String>, List<Sample>> e : buckets.entrySet()) {
            double lastLe = Double.NEGATIVE_INFINITY;
            double lastCount = 0;
            for (Sample b : e.getValue()) {
                String leText = b.labels().get("le");
                if (!VALUE.matcher(leText).matches()) {
                    throw new AssertionError(f.name() + ": le '" + leText + "' is not a number");
                }
                double le = parseValue(leText);
                if (!(le > lastLe)) {
                    throw new AssertionError(f.name() + ": le " + leText + " does not ascend");
                }
                if (b.value() < lastCount) {
                    throw new AssertionError(f.name() + ": bucket le=" + leText + " is " + b.value()
                            + ", less than the one before: buckets are cumulative");
                }
                lastLe = le;
                lastCount = b.value();
            }
            if (lastLe != Double.POSITIVE_INFINITY) {
                throw new AssertionError(f.name() + e.getKey() + ": the last bucket is not le=\"+Inf\"");
            }
            Double count = counts.get(e.getKey());
            if (count == null || count != lastCount) {
                throw new AssertionError(f.name() + e.getKey() + ": _count " + count + " is not the +Inf bucket "
                        + lastCount);
            }
            if (!sums.contains(e.getKey())) {
                throw new AssertionError(f.name() + e.getKey() + " has no _sum");
            }
        }
    }
}
