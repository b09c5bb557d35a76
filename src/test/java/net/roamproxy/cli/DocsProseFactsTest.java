package net.roamproxy.cli;

import static net.roamproxy.cli.DocsDefaultsTest.constant;
import static net.roamproxy.testkit.Docs.assertStates;
import static net.roamproxy.testkit.Docs.human;
import static net.roamproxy.testkit.Docs.seconds;
import static net.roamproxy.testkit.Docs.size;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import net.roamproxy.client.ClientConfig;
import net.roamproxy.net.Throttle;
import net.roamproxy.server.ServerConfig;
import net.roamproxy.session.LinkSettings;
import net.roamproxy.session.SessionStop;
import net.roamproxy.status.StatusClient;
import net.roamproxy.stream.MemoryBudget;
import net.roamproxy.testkit.Docs;
import net.roamproxy.wire.Wire;

/**
 * Defaults and timings that the docs state in sentences rather than tables: "a heartbeat every
 * second", "three missed heartbeats", "the detach timeout (15 min)". Each is found by a pattern
 * whose group must read as the code's value, written the way that doc writes it; a sentence
 * reworded so that its pattern no longer matches fails too, so that no statement silently
 * leaves the check. The tables are {@link DocsDefaultsTest}'s.
 */
class DocsProseFactsTest {
    private static final String REPORT = "src/docs/chapters/";
    private static final String[] WORDS = {"zero", "one", "two", "three", "four", "five", "six", "seven", "eight",
        "nine", "ten"};

    private static LinkSettings link;
    private static ClientConfig cproxy;
    private static ServerConfig sproxy;

    @BeforeAll
    static void defaults() throws Exception {
        cproxy = new CproxyMain().configure("192.0.2.1");
        sproxy = new SproxyMain().configure();
        link = sproxy.link();
    }

    @Test
    void theReportsProse() {
        String overview = REPORT + "01-overview.adoc";
        assertStates(overview, "the heartbeat interval", "heartbeat interval _H_ = (\\d+ \\w+),", human(heartbeat()));
        assertStates(overview, "the missed heartbeats", "missed heartbeats _M_ = (\\d+),", link.missedHeartbeats());
        assertStates(overview, "the buffer", "buffer _B_ =\\s+(\\d+ MiB)\\.", link.bufferBytes() / (1 << 20) + " MiB");
        String limits = REPORT + "05-limits-versions.adoc";
        assertStates(limits, "the heartbeat interval", "\\(`--heartbeat`, default (\\d+ \\w+)\\)", human(heartbeat()));
        assertStates(limits, "the missed heartbeats", "\\(`--missed`, default (\\d+)\\)", link.missedHeartbeats());
        String format = REPORT + "02-packet-format.adoc";
        assertStates(format, "the dropped handshakes logged a minute", "first (\\d+) such lines\\s+a minute",
                constant("server.DropLog", "PER_SOURCE"));
        // sproxy connects the service within the handshake timeout.
        assertStates(format, "the service connect's timeout", "not accept within (\\d+ \\w+)", human(handshakeMs()));
        assertStates(REPORT + "09-evidence.adoc", "the address watch", "knows within (\\d+ ms)", human(poll()));
        String handshake = REPORT + "03-handshake.adoc";
        assertStates(handshake, "the service connect's timeout", "connect the service within (\\d+ \\w+)", human(handshakeMs()));
        assertStates(handshake, "the first frame's deadline", "has (\\d+ \\w+) for its first frame", human(firstFrame()));
        assertStates(handshake, "the handshake timeout", "and (\\d+ \\w+) for the whole handshake", human(handshakeMs()));
        assertStates(handshake, "the handshake timeout", "the handshake timeout \\((\\d+ \\w+)\\)", human(handshakeMs()));
        assertStates(handshake, "the handshake timeout", "read the `TOKEN`\\s+within (\\d+ \\w+)", human(handshakeMs()));
        assertStates(handshake, "the first redial", "cproxy dials again (\\d+ ms) later",
                human((Long) constant("client.Dialer", "FIRST_RETRY_MS")));
        assertStates(handshake, "the longest redial", "doubling up to min\\((\\d+ ms), _H_\\)",
                human((Long) constant("client.Dialer", "MAX_RETRY_MS")));
        assertStates(handshake, "the detach timeout", "the detach timeout \\((\\d+ \\w+)\\)", human(detachMs()));
        assertStates(handshake, "the pre-shared key's smallest size", "\\(at least (\\d+), at most", SecretFile.MIN_SIZE);
        assertStates(handshake, "the pre-shared key's largest size", "at most (\\d+ KiB)\\)", SecretFile.MAX_SIZE / 1024 + " KiB");
        assertStates(handshake, "the size --new-secret writes", "key must be (\\d+)\\s+random bytes", SecretFile.MIN_SIZE);
        String diagrams = "src/docs/diagrams/";
        assertStates(diagrams + "seq-new.puml", "cproxy's port", "T -> C : connect 127\\.0\\.0\\.1:(\\d+)", cproxy.listenPort());
        assertStates(diagrams + "seq-new.puml", "the default target", "S -> D : connect (\\S+)",
                sproxy.targetHost() + ":" + sproxy.targetPort());
        assertStates(diagrams + "overview.ditaa", "cproxy's port", "loopback  \\|  port (\\d+)", cproxy.listenPort());
        assertStates(diagrams + "overview.ditaa", "sproxy's port", "\\|  port (\\d+)  \\| loopback", sproxy.listenPort());
        assertStates(diagrams + "overview.ditaa", "the default target's port", "loopback  \\| port (\\d+) \\|",
                sproxy.targetPort());
        String security = REPORT + "08-security.adoc";
        assertStates(security, "the detach timeout", "the detach timeout \\((\\d+ \\w+)\\)", human(detachMs()));
        assertStates(security, "the handshake timeout", "and (\\d+ \\w+) each", human(handshakeMs()));
        assertStates(security, "the handshake timeout", "the (\\d+ \\w+) timeout", human(handshakeMs()));
    }

    @Test
    void readmesProse() {
        String readme = "README.md";
        assertStates(readme, "the ports", "telnet ──TCP──> cproxy :(\\d+)", cproxy.listenPort());
        assertStates(readme, "the ports", "sproxy :(\\d+) ──TCP──> telnetd", sproxy.listenPort());
        assertStates(readme, "sproxy's port", "it listens on TCP (\\d+) on every interface", sproxy.listenPort());
        assertStates(readme, "cproxy's port", "it listens on 127\\.0\\.0\\.1:(\\d+)", cproxy.listenPort());
        assertStates(readme, "cproxy's port", "telnet localhost (\\d+)", cproxy.listenPort());
        assertStates(readme, "the time to notice a silent link", "Within (\\w+) seconds of the removal",
                words(link.deadAfter().toSeconds()));
        assertStates(readme, "the missed heartbeats", "sproxy after (\\w+) missed heartbeats", words(link.missedHeartbeats()));
        assertStates(readme, "the detach timeout", "within the detach timeout, (\\d+ \\w+) by default", human(detachMs()));
        assertStates(readme, "sproxy's port", "TCP (\\d+) is open on the server", sproxy.listenPort());
    }

    @Test
    void designMdsProse() {
        String design = "docs/design.md";
        assertStates(design, "the heartbeat interval", "both send a heartbeat every (\\w+);", every(heartbeat()));
        assertStates(design, "the missed heartbeats", "(\\w+) missed heartbeats mean the link is lost",
                words(link.missedHeartbeats()));
        assertStates(design, "the redial interval", "retries every (\\d+–\\d+ ms)",
                constant("client.Dialer", "FIRST_RETRY_MS") + "–" + constant("client.Dialer", "MAX_RETRY_MS") + " ms");
        assertStates(design, "the wait without a route", "trying again every (\\d+ \\w+)\\)", human(link.deadAfter().toMillis()));
        assertStates(design, "the address watch", "\\| the address watch \\| within (\\d+ ms) \\|", human(poll()));
        assertStates(design, "the address watch", "addresses every (\\d+ ms)", human(poll()));
        assertStates(design, "the missed heartbeats", "\\| (\\w+) missed heartbeats \\|", words(link.missedHeartbeats()));
        assertStates(design, "the time to notice a silent link", "missed heartbeats \\| (\\d+ s) \\|",
                human(link.deadAfter().toMillis()));
        assertStates(design, "the connect race's stagger", "each new attempt (\\d+ ms) after the previous",
                human((Long) constant("client.ConnectRace", "STAGGER_MILLIS")));
        assertStates(design, "the connects in flight", "at\\s+most (\\w+) in flight per session",
                words((Integer) constant("client.ConnectRace", "MAX_PENDING")));
        assertStates(design, "the heartbeat interval", "on both sides: every (\\w+), and", every(heartbeat()));
        assertStates(design, "the missed heartbeats", "and (\\w+) missed close that", words(link.missedHeartbeats()));
    }

    @Test
    void theOtherDocsProse() {
        String ops = "docs/operations.md";
        assertStates(ops, "the time to stop", "exit within (\\S+ s)\\b", human(Stopping.LIMIT.toMillis()));
        assertStates(ops, "the time to stop", "exits with status 0 within (\\S+ s)", human(Stopping.LIMIT.toMillis()));
        assertStates(ops, "the stop's flush", "\\(for at most (\\S+ s)\\)", seconds(SessionStop.BUDGET_MILLIS / 2));
        assertStates(ops, "the stop's flush", "flushed for at most (\\S+ s)", seconds(SessionStop.BUDGET_MILLIS / 2));
        assertStates(ops, "the sessions' stop", "sessions closed within (\\S+ s)", seconds(SessionStop.BUDGET_MILLIS));
        assertStates(ops, "the sessions' stop", "\\(all within (\\S+ s)\\)", seconds(SessionStop.BUDGET_MILLIS));
        assertStates(ops, "the dropped handshakes logged a minute", "up to (\\d+) from one address in a minute",
                constant("server.DropLog", "PER_SOURCE"));
        assertStates(ops, "the dials at once", "cproxy dials at most (\\d+) links at once",
                constant("client.ClientProxy", "MAX_DIALS"));
        assertStates(ops, "cproxy's --max-sessions", "On cproxy, `--max-sessions` \\(default (\\d+)\\)", cproxy.maxSessions());
        assertStates(ops, "the limits a reload reports", "at most (\\d+\\s+sessions and \\d+ handshakes)",
                sproxy.maxSessions() + " sessions and " + sproxy.maxHandshakes() + " handshakes");
        assertStates(ops, "the detach timeout", "waiting up to (\\d+ \\w+) for cproxy", human(detachMs()));
        assertStates(ops, "the guaranteed buffer", "keeps (\\d+ KiB) per direction", MemoryBudget.GUARANTEED / 1024 + " KiB");
        assertStates(ops, "the smallest --memory", "A value below (\\d+K)", MemoryBudget.MIN_LIMIT / 1024 + "K");
        assertStates(ops, "the smallest --memory", "at least `(\\d+K)`", MemoryBudget.MIN_LIMIT / 1024 + "K");
        assertStates(ops, "the --buffer range", "from `(\\w+)` to `\\w+`, default", size(LinkSettings.MIN_BUFFER_BYTES));
        assertStates(ops, "the --buffer range", "from `\\w+` to `(\\w+)`, default", size(SharedOptions.MAX_BUFFER));
        assertStates(ops, "the time --status waits", "A daemon has (\\d+ s) to answer", human(StatusClient.WITHIN.toMillis()));
        assertStates(ops, "the time --status waits", "did not answer\\s+within (\\d+ s)", human(StatusClient.WITHIN.toMillis()));
        assertStates(ops, "the time a status client has", "gives a client (\\d+ s) to send",
                human(((Duration) constant("status.StatusServer", "TIMEOUT")).toMillis()));
        assertStates(ops, "the summary's period", "summary every (\\d+) minutes", constant("status.StatusServer", "SUMMARY_MINUTES"));
        assertStates(ops, "the pause after a failed accept", "pauses (\\d+ ms) and keeps accepting",
                human((Long) constant("net.AcceptFailures", "PAUSE_MILLIS")));
        assertStates(ops, "the --new-secret size", "write a new pre-shared key \\((\\d+) random bytes", SecretFile.MIN_SIZE);
        assertStates("docs/security.md", "the detach timeout", "within the detach timeout \\((\\d+ \\w+) by\\s+default",
                human(detachMs()));
        assertStates("docs/security.md", "the pre-shared key's sizes", "at least (\\d+ bytes \\(at most \\d+ KiB\\))",
                SecretFile.MIN_SIZE + " bytes (at most " + SecretFile.MAX_SIZE / 1024 + " KiB)");
        assertStates("docs/scale-out.md", "the detach timeout", "detach timeout \\((\\d+ \\w+) by default\\)",
                human(detachMs()));
        assertStates(ops, "the period of a limit's count", "then every (\\d+ s) a line",
                human(Throttle.PERIOD_NANOS / 1_000_000));
        assertStates("src/docs/chapters/03-handshake.adoc", "the period of the INFO on failed dials",
                "and one every (\\d+ s) are logged at INFO", human((Long) constant("client.Dialer", "REPORT_EVERY_NANOS") / 1_000_000));
        String levels = String.join(", ", LogLevel.NAMES.subList(0, LogLevel.NAMES.size() - 1).stream()
                .map(n -> "`" + n + "`").toList()) + " or `" + LogLevel.NAMES.get(LogLevel.NAMES.size() - 1) + "`";
        assertStates(ops, "the log levels", "(`OFF`, [^\\n]*? or `\\w+`)", levels);
        assertStates(ops, "the default level", "default `ROAMPROXY_LOG_LEVEL`, else `(\\w+)`", LogLevel.DEFAULT.name());
        for (Launcher<?> l : new Launcher<?>[] {new CproxyMain(), new SproxyMain()}) {
            assertStates(l.command() + " --help", l.options().getOption(LogLevel.OPTION).getDescription(),
                    "the default level", "else (\\w+)\\)", LogLevel.DEFAULT.name());
        }
        assertStates(ops, "the frame reader's first buffer", "the frame reader starts at (\\d+ KiB)",
                (Integer) constant("wire.FrameReader", "INITIAL_SIZE") / 1024 + " KiB");
        assertStates(ops, "the application reader's first frame", "application reader at one\\s+(\\d+ KiB) frame",
                (Integer) constant("session.ApplicationReader", "SMALL_BUFFER") / 1024 + " KiB");
        assertStates(ops, "the largest frame", "growing in steps to (\\d+ KiB)", Wire.MAX_DATA / 1024 + " KiB");
        String source = "the source of a limit, in IPv6";
        int prefix = (Integer) constant("server.Source", "IPV6_PREFIX_BYTES") * 8;
        assertStates(ops, source, "\\(IPv6: one /(\\d+)\\)", prefix);
        assertStates(REPORT + "03-handshake.adoc", source, "\\(IPv6: one /(\\d+)\\)", prefix);
        assertStates("sproxy --help", new SproxyMain().options().getOption("max-sessions-per-source").getDescription(),
                source, "\\(IPv6: one /(\\d+)\\)", prefix);
        for (String file : new String[] {"README.md", ops}) {
            assertStates(file, "the replay buffer's bound in --status", "replay buffer \\d+ of (\\d+) bytes",
                    link.bufferBytes());
        }
        String trouble = "docs/troubleshooting.md";
        assertStates(trouble, "cproxy's port", "cannot listen on 127\\.0\\.0\\.1:(\\d+)", cproxy.listenPort());
        assertStates(trouble, "sproxy's port", "TCP (\\d+)\\s+is open", sproxy.listenPort());
        assertStates(trouble, "sproxy's port", "tcp port (\\d+)", sproxy.listenPort());
        assertStates(trouble, "the default target", "service default at (\\S+:\\d+) unavailable",
                sproxy.targetHost() + ":" + sproxy.targetPort());
        assertStates(trouble, "a connect attempt's limit", "no answer from \\.\\.\\. in (\\d+) ms", link.deadAfter().toMillis());
        assertStates(trouble, "the time to notice a silent link", "reconnects only after (\\d+ s)",
                human(link.deadAfter().toMillis()));
        assertStates(trouble, "the time --status waits", "did not answer within (\\d+ s)", human(StatusClient.WITHIN.toMillis()));
        // The version the packages and --version carry, as README.md and operations.md show them.
        Matcher pom = Pattern.compile("</artifactId>\\s*<version>([^<]+)</version>").matcher(Docs.read("pom.xml"));
        assertTrue(pom.find(), "pom.xml: no project version");
        for (String file : new String[] {"README.md", ops}) {
            assertStates(file, "the version", "roamproxy_(\\S+)_all\\.deb", pom.group(1));
            assertStates(file, "the version", "# cproxy \\(roamproxy\\) (\\S+)", pom.group(1));
            assertStates(file, "the version", "roamproxy-(\\d\\S*)\\.tar\\.gz", pom.group(1));
        }
    }

    /** The man pages' DESCRIPTION and ENVIRONMENT; their OPTIONS are ManPageTest's. */
    @Test
    void theManPagesProse() {
        for (String command : new String[] {"cproxy", "sproxy"}) {
            String page = "src/docs/man/" + command + ".adoc";
            assertStates(page, "the detach timeout", "\\((\\d+) minutes by default\\)", link.detachTimeout().toMinutes());
            assertStates(page, "the time to stop", "within about (\\S+) seconds", Stopping.LIMIT.toMillis() / 1000.0);
            assertStates(page, "the time --status waits", "does not answer within (\\d+ s)", human(StatusClient.WITHIN.toMillis()));
            Matcher env = Pattern.compile("\\*ROAMPROXY_LOG_LEVEL\\*::\\s+Log level: ([^.]+)\\.").matcher(Docs.read(page));
            assertTrue(env.find(), page + " no longer describes ROAMPROXY_LOG_LEVEL's levels");
            Set<String> named = new TreeSet<>();
            Matcher level = Pattern.compile("\\*([A-Z]+)\\*").matcher(env.group(1));
            while (level.find()) {
                named.add(level.group(1));
            }
            assertEquals(new TreeSet<>(LogLevel.NAMES), named, page + ": the levels ROAMPROXY_LOG_LEVEL takes");
            assertStates(page, env.group(1), "the default level", "\\*(\\w+)\\* \\(the default\\)", LogLevel.DEFAULT.name());
        }
        String c = "src/docs/man/cproxy.adoc";
        assertStates(c, "cproxy's port", "by default on port (\\d+) of the loopback", cproxy.listenPort());
        assertStates(c, "cproxy's port", "\\*telnet localhost (\\d+)\\*", cproxy.listenPort());
        assertStates(c, "sproxy's port", "on _SERVER_, port (\\d+),", cproxy.serverPort());
        assertStates(c, "the address watch", "addresses \\(every (\\d+ ms)", human(poll()));
        assertStates(c, "the time to notice a silent link", "have not come back \\((\\d+) seconds by\\s+default\\)",
                link.deadAfter().toSeconds());
        String s = "src/docs/man/sproxy.adoc";
        assertStates(s, "the default target", "telnet\\s+daemon at (\\S+, port \\d+)\\.",
                sproxy.targetHost() + ", port " + sproxy.targetPort());
        assertStates(s, "sproxy's port", "on port (\\d+) of every", sproxy.listenPort());
    }

    private static long heartbeat() {
        return link.heartbeatInterval().toMillis();
    }

    private static long handshakeMs() {
        return link.handshakeTimeout().toMillis();
    }

    private static long detachMs() {
        return link.detachTimeout().toMillis();
    }

    private static long firstFrame() {
        return (Long) constant("server.HandshakeDeadline", "FIRST_FRAME_MILLIS");
    }

    private static long poll() {
        return (Long) constant("client.AddressWatch", "POLL_MILLIS");
    }

    /** "every second" for 1 s, else "every 2 s". */
    private static String every(long ms) {
        return ms == 1000 ? "second" : human(ms);
    }

    /** A small count as a word, as the docs write it in sentences: 3 is "three". */
    private static String words(long n) {
        return n < WORDS.length ? WORDS[(int) n] : String.valueOf(n);
    }
}
