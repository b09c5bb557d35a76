package net.roamproxy.status;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import net.roamproxy.session.SessionStatus;
import net.roamproxy.testkit.Closer;
import net.roamproxy.testkit.LogCapture;

/** The periodic summary and the reports, on rows the test makes up (no sessions, no sockets needed). */
class StatusServerTest {
    @RegisterExtension final Closer closer = new Closer();
    @RegisterExtension final LogCapture logs = LogCapture.closedBy(closer);
    @TempDir Path dir;

    private static Row row(String service, boolean linked, int resumes) {
        return new Row(service, new SessionStatus("session 00000000000000" + resumes + "a", "127.0.0.1:4000",
                linked ? "linked" : "detached", 1500, linked ? "192.0.2.1:6200" : null,
                linked ? "192.0.2.3:40000" : null, linked ? 1600 : -1, linked ? 200 : -1, resumes, 10, 20, 5, 1 << 20, null));
    }

    @Test
    void theSummarySaysSessionsLinkedAndResumesSinceTheLastOneAndNothingWhenThereAreNone() throws Exception {
        List<Row> rows = new ArrayList<>();
        StatusServer s = new StatusServer("sproxy", dir.resolve("s.sock"), () -> List.copyOf(rows), 0, StatusServer.TIMEOUT);

        s.summaryIfDue();
        rows.add(row("default", true, 2));
        rows.add(row("ssh", false, 1));
        s.summaryIfDue();
        rows.set(0, row("default", true, 4));
        s.summaryIfDue();

        List<LogCapture.Line> lines = logs.find(Level.INFO, m -> m.startsWith("sproxy: "));
        assertEquals(2, lines.size(), "no line without sessions: " + lines);
        assertEquals("sproxy: 2 sessions, 1 linked, 1 without a link; 3 resumes since the last summary",
                lines.get(0).message());
        assertEquals("sproxy: 2 sessions, 1 linked, 1 without a link; 2 resumes since the last summary",
                lines.get(1).message());
    }

    @Test
    void theTextReportShowsEveryFieldAndJsonEscapesWhatItMust() {
        Row r = new Row("ssh", new SessionStatus("session 0123456789abcdef", "127.0.0.1:4000", "linked", 2500,
                "192.0.2.3:40000", "192.0.2.1:6200", 2600, 300, 1, 10, 20, 5, 1 << 20, "a \"quoted\" \\ reason\n"));
        String text = StatusReport.text("cproxy", List.of(r));
        for (String part : new String[] {"cproxy: 1 session", "session 0123456789abcdef", "service ssh",
            "application 127.0.0.1:4000", "linked for 2.5 s", "192.0.2.3:40000 -> 192.0.2.1:6200", "0.3 s ago",
            "resumes 1", "sent 10", "received 20", "replay buffer 5 of 1048576", "last link lost"}) {
            assertTrue(text.contains(part), part + " in:\n" + text);
        }
        String json = StatusReport.json("cproxy", List.of(r));
        assertTrue(json.contains("\"last_loss\":\"a \\\"quoted\\\" \\\\ reason\\u000a\""), json);
        assertTrue(json.contains("\"session\":\"0123456789abcdef\""), json);
        assertTrue(json.contains("\"state_ms\":2500,") && json.contains("\"link_age_ms\":2600,"), json);
        String detached = StatusReport.json("sproxy", List.of(row("default", false, 1)));
        assertTrue(detached.contains("\"link_age_ms\":null,") && detached.contains("\"last_frame_ms\":null,"), detached);
    }

    @Test
    void theHeaderAndTheJsonShowTheMemoryBudget() {
        StatusReport.Memory m = new StatusReport.Memory(1_258_291, 512L << 20);
        String text = StatusReport.text("sproxy", List.of(row("default", true, 0), row("ssh", false, 1)), m);
        assertTrue(text.startsWith("sproxy: 2 sessions, buffers 1.2 MiB of 512.0 MiB\n"), text);
        String json = StatusReport.json("sproxy", List.of(), m);
        assertTrue(json.contains(",\"memory_in_use\":1258291,\"memory_limit\":536870912,\"sessions\":[]"), json);
        assertTrue(StatusReport.text("cproxy", List.of()).startsWith("cproxy: 0 sessions\n"), "no budget, no figure");
    }
}
