package net.roamproxy.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import net.roamproxy.testkit.PrometheusParser.Family;
import net.roamproxy.testkit.PrometheusParser.Scrape;
import net.roamproxy.testkit.PrometheusParser;

/** What a scrape says for given counters and live state, in the exposition format, read back strictly. */
class PrometheusTextTest {
    private static final List<String> REFUSALS = List.of("UNKNOWN_SESSION", "BUSY");

    private static Scrape scrape(Metrics m) {
        return PrometheusParser.parse(PrometheusText.render(m));
    }

    @Test
    void everyFamilyIsNamedTypedAndDescribedAsPrometheusNamesThem() {
        Scrape s = scrape(new Metrics("sproxy", REFUSALS, () -> Metrics.Live.NONE));
        assertEquals(List.of("roamproxy_build_info", "roamproxy_sessions", "roamproxy_links",
                "roamproxy_buffer_memory_bytes", "roamproxy_relayed_bytes_total", "roamproxy_resumes_total",
                "roamproxy_resume_duration_seconds", "roamproxy_link_losses_total", "roamproxy_refusals_total"),
                List.copyOf(s.families().keySet()));
        for (Family f : s.families().values()) {
            assertEquals(f.type().equals("counter"), f.name().endsWith("_total"), f.name() + ": counters, and only "
                    + "they, end in _total");
            assertTrue(!f.help().isBlank(), f.name() + " has a help text");
        }
        assertEquals("histogram", s.family("roamproxy_resume_duration_seconds").type());
    }

    @Test
    void aFreshDaemonShowsEverySeriesAtZero() {
        Scrape s = scrape(new Metrics("cproxy", REFUSALS, () -> Metrics.Live.NONE));
        assertEquals(1, s.value("roamproxy_build_info", "daemon", "cproxy", "version",
                PrometheusText.version()));
        assertEquals(0, s.value("roamproxy_sessions"));
        for (LinkLoss l : LinkLoss.values()) {
            assertEquals(0, s.value("roamproxy_link_losses_total", "reason", l.label()), l.label());
        }
        assertEquals(0, s.value("roamproxy_refusals_total", "reason", "BUSY"));
        assertEquals(0, s.value("roamproxy_refusals_total", "reason", "UNKNOWN_SESSION"));
        assertEquals(0, s.value("roamproxy_resume_duration_seconds_bucket", "le", "+Inf"));
        assertEquals(0, s.value("roamproxy_resume_duration_seconds_count"));
    }

    @Test
    void liveFiguresComeFromTheSessionTableAtEachScrape() {
        AtomicReference<Metrics.Live> table = new AtomicReference<>(new Metrics.Live(3, 2, 4096, 1024));
        Metrics m = new Metrics("sproxy", REFUSALS, table::get);

        Scrape s = scrape(m);
        assertEquals(3, s.value("roamproxy_sessions"));
        assertEquals(2, s.value("roamproxy_links"));
        assertEquals(4096, s.value("roamproxy_buffer_memory_bytes", "buffer", "replay"));
        assertEquals(1024, s.value("roamproxy_buffer_memory_bytes", "buffer", "receive"));

        table.set(new Metrics.Live(1, 0, 0, 0));
        Scrape later = scrape(m);
        assertEquals(1, later.value("roamproxy_sessions"));
        assertEquals(0, later.value("roamproxy_links"));
    }

    @Test
    void countersAddUpByDirectionAndReason() {
        Metrics m = new Metrics("sproxy", REFUSALS, () -> Metrics.Live.NONE);
        m.fromApplication(100);
        m.fromApplication(23);
        m.toApplication(7);
        m.linkLost(LinkLoss.HEARTBEATS_MISSED);
        m.linkLost(LinkLoss.REPLACED);
        m.linkLost(LinkLoss.REPLACED);
        m.refusal("BUSY");
        m.refusal("AUTH_FAILED");

        Scrape s = scrape(m);
        assertEquals(123, s.value("roamproxy_relayed_bytes_total", "direction", "application_to_link"));
        assertEquals(7, s.value("roamproxy_relayed_bytes_total", "direction", "link_to_application"));
        assertEquals(1, s.value("roamproxy_link_losses_total", "reason", "heartbeats_missed"));
        assertEquals(2, s.value("roamproxy_link_losses_total", "reason", "replaced"));
        assertEquals(0, s.value("roamproxy_link_losses_total", "reason", "reset"));
        assertEquals(1, s.value("roamproxy_refusals_total", "reason", "BUSY"));
        assertEquals(1, s.value("roamproxy_refusals_total", "reason", "AUTH_FAILED"), "a reason not declared is "
                + "still counted");
        assertEquals(0, s.value("roamproxy_refusals_total", "reason", "UNKNOWN_SESSION"));
    }

    @Test
    void resumeTimesFallIntoCumulativeBucketsWithSumAndCount() {
        Metrics m = new Metrics("cproxy", REFUSALS, () -> Metrics.Live.NONE);
        m.resumed(TimeUnit.MILLISECONDS.toNanos(10)); // on a bound: in that bucket
        m.resumed(TimeUnit.MILLISECONDS.toNanos(20));
        m.resumed(TimeUnit.MILLISECONDS.toNanos(700));
        m.resumed(TimeUnit.SECONDS.toNanos(30)); // above every bound

        Scrape s = scrape(m);
        assertEquals(4, s.value("roamproxy_resumes_total"));
        assertEquals(4, s.value("roamproxy_resume_duration_seconds_count"));
        assertEquals(30.73, s.value("roamproxy_resume_duration_seconds_sum"), 1e-9);
        assertEquals(1, s.value("roamproxy_resume_duration_seconds_bucket", "le", "0.01"));
        assertEquals(2, s.value("roamproxy_resume_duration_seconds_bucket", "le", "0.025"));
        assertEquals(2, s.value("roamproxy_resume_duration_seconds_bucket", "le", "0.5"));
        assertEquals(3, s.value("roamproxy_resume_duration_seconds_bucket", "le", "1"));
        assertEquals(3, s.value("roamproxy_resume_duration_seconds_bucket", "le", "10"));
        assertEquals(4, s.value("roamproxy_resume_duration_seconds_bucket", "le", "+Inf"));
        assertEquals(Metrics.RESUME_BUCKETS.length + 1, s.family("roamproxy_resume_duration_seconds").samples()
                .stream().filter(x -> x.name().endsWith("_bucket")).count());
    }

    @Test
    void labelValuesAreEscaped() {
        Metrics m = new Metrics("sproxy", List.of(), () -> Metrics.Live.NONE);
        m.refusal("a \"quoted\" \\ reason\nover two lines");
        String text = PrometheusText.render(m);
        assertTrue(text.contains("reason=\"a \\\"quoted\\\" \\\\ reason\\nover two lines\""), text);
        assertEquals(1, PrometheusParser.parse(text).value("roamproxy_refusals_total", "reason",
                "a \"quoted\" \\ reason\nover two lines"));
    }

    @Test
    void theExactLinesOfOneFamily() {
        Metrics m = new Metrics("sproxy", REFUSALS, () -> new Metrics.Live(2, 1, 0, 0));
        String text = PrometheusText.render(m);
        assertTrue(text.contains("# HELP roamproxy_sessions Live sessions, with or without a link.\n"
                + "# TYPE roamproxy_sessions gauge\n"
                + "roamproxy_sessions 2\n"), text);
        assertTrue(text.contains("roamproxy_resume_duration_seconds_bucket{le=\"0.025\"} 0\n"), text);
        assertTrue(text.contains("roamproxy_resume_duration_seconds_sum 0.0\n"), text);
    }

    /** The parser the tests rely on turns down what Prometheus would, and more. */
    @ParameterizedTest
    @ValueSource(strings = {
        "x 1\n",                                                   // no HELP or TYPE
        "# TYPE x gauge\nx 1\n",                                   // no HELP
        "# HELP x h\n# TYPE x gauge\nx 1",                         // no final line feed
        "# HELP x h\n# TYPE x gauge\n\nx 1\n",                     // blank line
        "# HELP x h\n# TYPE x gauge\nx 1\nx 2\n",                  // duplicate series
        "# HELP x h\n# TYPE x summary\nx 1\n",                     // a type we do not serve
        "# HELP x h\n# TYPE x gauge\nx{a=\"1\",a=\"2\"} 1\n",      // duplicate label
        "# HELP x h\n# TYPE x gauge\nx{a=1} 1\n",                  // unquoted label value
        "# HELP x h\n# TYPE x gauge\nx 1 1700000000\n",            // timestamp
        "# HELP x h\n# TYPE x gauge\nx  1\n",                      // two spaces
        "# HELP 1x h\n# TYPE 1x gauge\n1x 1\n",                    // bad name
        "# HELP x h\n# TYPE x counter\nx -1\n",                    // negative counter
        "# comment\n",                                             // other comment
        "# HELP h h\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
        "# HELP h h\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 2\n",
        "# HELP h h\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",
        "# HELP x h\n# TYPE x gauge\n# HELP y h\n# TYPE y gauge\nx 1\ny 1\nx{a=\"b\"} 1\n", // not together
    })
    void theStrictParserRefusesWhatTheFormatDoesNotAllow(String text) {
        assertThrows(AssertionError.class, () -> PrometheusParser.parse(text));
    }
}
