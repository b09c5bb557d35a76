package net.roamproxy.metrics;

import java.math.BigDecimal;
import java.util.Map;

/**
 * Renders a {@link Metrics} in the Prometheus text exposition format, version 0.0.4: per
 * family a {@code # HELP} and a {@code # TYPE} line, then its samples. Names start with
 * {@code roamproxy_}; counters end in {@code _total}; units are in the names.
 *
 * <p>Stateless; every call reads the metrics anew.
 */
public final class PrometheusText {
    /** The HTTP content type of this format. */
    public static final String CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8";

    private PrometheusText() {
    }

    public static String render(Metrics m) {
        Metrics.Live live = m.live();
        Histogram.Snapshot resumes = m.resumeSeconds();
        StringBuilder b = new StringBuilder(2048);

        family(b, "roamproxy_build_info", "gauge", "Always 1; the labels say which daemon and version answer.");
        sample(b, "roamproxy_build_info", "{daemon=\"" + label(m.daemon()) + "\",version=\"" + label(version())
                + "\"}", 1);

        family(b, "roamproxy_sessions", "gauge", "Live sessions, with or without a link.");
        sample(b, "roamproxy_sessions", "", live.sessions());
        family(b, "roamproxy_links", "gauge", "Sessions with a link attached now; the others are "
                + (isServer(m) ? "waiting for cproxy to resume them." : "reconnecting."));
        sample(b, "roamproxy_links", "", live.links());
        family(b, "roamproxy_buffer_memory_bytes", "gauge", "Memory the sessions' buffers hold now: replay "
                + "(sent, kept until acknowledged) and receive (arrived, not yet written to the application).");
        sample(b, "roamproxy_buffer_memory_bytes", "{buffer=\"replay\"}", live.replayBytes());
        sample(b, "roamproxy_buffer_memory_bytes", "{buffer=\"receive\"}", live.receiveBytes());

        family(b, "roamproxy_relayed_bytes_total", "counter", "Bytes of the applications' streams relayed, by "
                + "direction; each byte counts once, however often a resume resends it.");
        sample(b, "roamproxy_relayed_bytes_total", "{direction=\"application_to_link\"}", m.fromApplication());
        sample(b, "roamproxy_relayed_bytes_total", "{direction=\"link_to_application\"}", m.toApplication());

        family(b, "roamproxy_resumes_total", "counter", "Times a session got a link again after losing one.");
        sample(b, "roamproxy_resumes_total", "", resumes.count());
        family(b, "roamproxy_resume_duration_seconds", "histogram", "Time a session spent without a link before "
                + "it resumed.");
        for (int i = 0; i < resumes.cumulative().length; i++) {
            String le = i < resumes.bounds().length ? bound(resumes.bounds()[i]) : "+Inf";
            sample(b, "roamproxy_resume_duration_seconds_bucket", "{le=\"" + le + "\"}", resumes.cumulative()[i]);
        }
        b.append("roamproxy_resume_duration_seconds_sum ").append(number(resumes.sum())).append('\n');
        sample(b, "roamproxy_resume_duration_seconds_count", "", resumes.count());

        family(b, "roamproxy_link_losses_total", "counter", "Links lost while their session lived on, by reason.");
        for (Map.Entry<LinkLoss, Long> e : m.losses().entrySet()) {
            sample(b, "roamproxy_link_losses_total", "{reason=\"" + e.getKey().label() + "\"}", e.getValue());
        }
        family(b, "roamproxy_refusals_total", "counter", isServer(m)
                ? "New sessions and resumes this sproxy refused, by the refusal's status."
                : "Refusals from sproxy that checked out (each ends a session), by the refusal's status.");
        for (Map.Entry<String, Long> e : m.refusals().entrySet()) {
            sample(b, "roamproxy_refusals_total", "{reason=\"" + label(e.getKey()) + "\"}", e.getValue());
        }
        return b.toString();
    }

    /** sproxy refuses, cproxy is refused: the help texts say which. */
    private static boolean isServer(Metrics m) {
        return m.daemon().equals("sproxy");
    }

    private static void family(StringBuilder b, String name, String type, String help) {
        b.append("# HELP ").append(name).append(' ').append(help.replace("\\", "\\\\").replace("\n", "\\n"))
                .append('\n');
        b.append("# TYPE ").append(name).append(' ').append(type).append('\n');
    }

    private static void sample(StringBuilder b, String name, String labels, long value) {
        b.append(name).append(labels).append(' ').append(value).append('\n');
    }

    /** A label value escaped as the format requires: backslash, double quote and line feed. */
    static String label(String v) {
        return v.replace("\\", "\\\\").replace("\"", "\\\"").replace("\n", "\\n");
    }

    /** A bucket bound as people write it: 0.01, 1, 2.5 (not 1.0E-2 or 1.0). */
    static String bound(double d) {
        return BigDecimal.valueOf(d).stripTrailingZeros().toPlainString();
    }

    /** A float sample value; Prometheus parses Java's notation, exponent included. */
    static String number(double d) {
        if (Double.isNaN(d)) {
            return "NaN";
        }
        if (Double.isInfinite(d)) {
            return d > 0 ? "+Inf" : "-Inf";
        }
        return Double.toString(d);
    }

    /** The version the jar's manifest gives, as {@code --version} prints it. */
    static String version() {
        String v = PrometheusText.class.getPackage().getImplementationVersion();
        return v != null ? v : "development build";
    }
}
