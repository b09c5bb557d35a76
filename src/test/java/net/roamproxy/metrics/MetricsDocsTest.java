package net.roamproxy.metrics;

import static net.roamproxy.testkit.Docs.assertStates;
import static net.roamproxy.testkit.Docs.plain;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;

import net.roamproxy.testkit.Docs.Table;
import net.roamproxy.testkit.Docs;
import net.roamproxy.testkit.PrometheusParser.Family;
import net.roamproxy.testkit.PrometheusParser.Sample;
import net.roamproxy.testkit.PrometheusParser;
import net.roamproxy.wire.Handshake.Status;

/**
 * docs/metrics.md against what a scrape serves: every metric family by name, type and label
 * names, the histogram's buckets, and the link-loss reasons. Dashboards and alerts are written
 * from this page, so a metric or label value it names that the daemons do not serve is a query
 * that silently returns nothing. (The refusal reasons are checked with the status codes, in
 * ProtocolDocsTest.)
 */
class MetricsDocsTest {
    private static final String FILE = "docs/metrics.md";

    @Test
    void theMetricTableIsWhatAScrapeServes() {
        Map<String, Family> served = PrometheusParser.parse(PrometheusText.render(
                new Metrics("sproxy", Status.refusalNames(), () -> Metrics.Live.NONE))).families();
        Table t = Docs.markdownTable(FILE, "## What is served");
        Map<String, String> types = new LinkedHashMap<>();
        for (List<String> row : t.body()) {
            String name = plain(row.get(0));
            types.put(name, row.get(1));
            Family f = served.get(name);
            if (f == null) {
                continue; // reported below, with every name
            }
            assertEquals(labels(f), documentedLabels(row.get(2)), t.where() + ": the labels of " + name
                    + " (left: served, right: the doc's)");
        }
        Map<String, String> code = new LinkedHashMap<>();
        served.values().forEach(f -> code.put(f.name(), f.type()));
        assertEquals(code, types, t.where() + ": the metric families and their types (left: served, right: the doc's)");
    }

    @Test
    void theHistogramsBucketsAndTheLossReasonsAreTheCodes() {
        assertStates(FILE, "the resume histogram's buckets", "Buckets: ([\\d., ]+) seconds",
                Arrays.stream(Metrics.RESUME_BUCKETS).mapToObj(MetricsDocsTest::number).collect(Collectors.joining(", ")));
        Table t = Docs.markdownTable(FILE, "### Link loss reasons");
        assertEquals(Arrays.stream(LinkLoss.values()).map(LinkLoss::label).toList(),
                t.body().stream().map(r -> plain(r.get(0))).toList(), t.where() + ": the link loss reasons, in order");
    }

    /** The label names of a family's samples; a histogram's {@code le} counts only once. */
    private static Set<String> labels(Family f) {
        Set<String> names = new TreeSet<>();
        for (Sample s : f.samples()) {
            names.addAll(s.labels().keySet());
        }
        return names;
    }

    /** The label names a table cell gives: its code spans outside parentheses, but for the suffix `_bucket`. */
    private static Set<String> documentedLabels(String cell) {
        Set<String> names = new TreeSet<>();
        Matcher m = Pattern.compile("`([a-z_]+)`").matcher(cell.replaceAll("\\([^)]*\\)", ""));
        while (m.find()) {
            if (!m.group(1).startsWith("_")) {
                names.add(m.group(1));
            }
        }
        return names;
    }

    /** A bucket bound as the doc writes it: 0.01, 1, 2.5. */
    private static String number(double d) {
        return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
    }
}
