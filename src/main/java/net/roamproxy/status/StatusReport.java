package net.roamproxy.status;

import java.util.List;
import java.util.Locale;

import net.roamproxy.session.SessionStatus;

/** Renders {@code --status}: a table for people, JSON for scripts (flat values only, so no library). */
final class StatusReport {
    private StatusReport() {
    }

    /** The daemon's buffer budget ({@code --memory}): bytes counted now, and the limit. */
    record Memory(long inUse, long limit) {
    }

    static String text(String daemon, List<Row> rows) {
        return text(daemon, rows, null);
    }

    static String text(String daemon, List<Row> rows, Memory memory) {
        StringBuilder b = new StringBuilder();
        b.append(daemon).append(": ").append(rows.size()).append(rows.size() == 1 ? " session" : " sessions");
        if (memory != null) {
            b.append(", buffers ").append(mib(memory.inUse())).append(" of ").append(mib(memory.limit()));
        }
        b.append('\n');
        for (Row r : rows) {
            SessionStatus s = r.session();
            b.append(s.name()).append("  service ").append(r.service()).append("  application ").append(s.application())
                    .append('\n');
            b.append("    ").append(s.state()).append(" for ").append(seconds(s.sinceMillis()));
            if (s.linkPeer() != null) {
                b.append(", link ").append(s.linkLocal()).append(" -> ").append(s.linkPeer())
                        .append(", last frame ").append(seconds(s.millisSinceFrame())).append(" ago");
            }
            b.append('\n');
            b.append("    resumes ").append(s.resumes()).append(", bytes sent ").append(s.bytesSent())
                    .append(" received ").append(s.bytesReceived()).append(", replay buffer ").append(s.replayBytes())
                    .append(" of ").append(s.replayBound()).append(" bytes");
            if (s.lastLoss() != null) {
                b.append(", last link lost: ").append(s.lastLoss());
            }
            b.append('\n');
        }
        return b.toString();
    }

    /** The daemon's version, as {@code --version} prints it, so scripts can tell what answered. */
    static String version() {
        String v = StatusReport.class.getPackage().getImplementationVersion();
        return v != null ? v : "development build";
    }

    static String json(String daemon, List<Row> rows) {
        return json(daemon, rows, null);
    }

    static String json(String daemon, List<Row> rows, Memory memory) {
        StringBuilder b = new StringBuilder("{\"daemon\":").append(str(daemon)).append(",\"version\":")
                .append(str(version()));
        if (memory != null) {
            b.append(",\"memory_in_use\":").append(memory.inUse()).append(",\"memory_limit\":").append(memory.limit());
        }
        b.append(",\"sessions\":[");
        for (int i = 0; i < rows.size(); i++) {
            SessionStatus s = rows.get(i).session();
            b.append(i == 0 ? "" : ",").append('{')
                    .append("\"session\":").append(str(s.name().replaceFirst("^session ", "")))
                    .append(",\"service\":").append(str(rows.get(i).service()))
                    .append(",\"application\":").append(str(s.application()))
                    .append(",\"state\":").append(str(s.state()))
                    .append(",\"state_ms\":").append(s.sinceMillis())
                    .append(",\"link_local\":").append(str(s.linkLocal()))
                    .append(",\"link_peer\":").append(str(s.linkPeer()))
                    .append(",\"link_age_ms\":").append(s.linkAgeMillis() < 0 ? "null" : s.linkAgeMillis())
                    .append(",\"last_frame_ms\":").append(s.millisSinceFrame() < 0 ? "null" : s.millisSinceFrame())
                    .append(",\"resumes\":").append(s.resumes())
                    .append(",\"bytes_sent\":").append(s.bytesSent())
                    .append(",\"bytes_received\":").append(s.bytesReceived())
                    .append(",\"replay_bytes\":").append(s.replayBytes())
                    .append(",\"replay_bound\":").append(s.replayBound())
                    .append(",\"last_loss\":").append(str(s.lastLoss()))
                    .append('}');
        }
        return b.append("]}\n").toString();
    }

    /** Bytes as MiB with one decimal: "1.2 MiB". */
    static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024.0));
    }

    private static String seconds(long millis) {
        return String.format(Locale.ROOT, "%.1f s", millis / 1000.0);
    }

    /** A JSON string, or null; escapes what RFC 8259 requires. */
    private static String str(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        b.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        return b.append('"').toString();
    }
}
