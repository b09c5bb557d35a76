package net.roamproxy.cli;

import static net.roamproxy.testkit.Docs.human;
import static net.roamproxy.testkit.Docs.plain;
import static net.roamproxy.testkit.Docs.seconds;
import static net.roamproxy.testkit.Docs.size;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.commons.cli.Option;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import net.roamproxy.client.ClientConfig;
import net.roamproxy.server.ServerConfig;
import net.roamproxy.session.LinkSettings;
import net.roamproxy.session.SessionStop;
import net.roamproxy.stream.MemoryBudget;
import net.roamproxy.testkit.Docs.Table;
import net.roamproxy.testkit.Docs;

/**
 * The defaults that --help, README.md's and docs/operations.md's option tables, and the limit
 * tables of the design report and docs/operations.md state, against the defaults the commands
 * really use: the configuration {@link Launcher#configure(String...)} builds from a command line
 * without options, and the constants behind the timers. A default changed in the code, or
 * mistyped in one doc, fails here with the file, the option or limit, and both values.
 */
class DocsDefaultsTest {
    /**
     * The defaults of {@code command} as the docs write them, taken from the configuration a bare
     * command line gives; the options whose default is a value rather than a phrase ("all
     * interfaces", "half the maximum heap").
     */
    static Map<String, String> defaults(String command) throws IOException, UsageException {
        Map<String, String> d = new LinkedHashMap<>();
        LinkSettings link;
        if (command.equals("cproxy")) {
            ClientConfig c = new CproxyMain().configure("192.0.2.1");
            d.put("listen", c.listenAddress().getHostAddress());
            d.put("port", String.valueOf(c.listenPort()));
            d.put("server-port", String.valueOf(c.serverPort()));
            d.put("known-servers", c.trust().knownServers().getFileName().toString());
            d.put("max-sessions", String.valueOf(c.maxSessions()));
            link = c.link();
        } else {
            ServerConfig s = new SproxyMain().configure();
            d.put("port", String.valueOf(s.listenPort()));
            d.put("target", s.targetHost() + ":" + s.targetPort());
            d.put("host-key", net.roamproxy.trust.ServerKeys.HOST_KEY_FILE);
            d.put("max-sessions", String.valueOf(s.maxSessions()));
            d.put("max-handshakes", String.valueOf(s.maxHandshakes()));
            link = s.link();
        }
        d.put("heartbeat", String.valueOf(link.heartbeatInterval().toMillis()));
        d.put("missed", String.valueOf(link.missedHeartbeats()));
        d.put("buffer", size(link.bufferBytes()));
        d.put("detach-timeout", String.valueOf(link.detachTimeout().toSeconds()));
        return d;
    }

    /** Every "(default VALUE" in --help is the value the command uses, and every such default is stated. */
    @ParameterizedTest
    @ValueSource(strings = {"cproxy", "sproxy"})
    void helpStatesTheDefaultsTheCommandUses(String command) throws Exception {
        Map<String, String> expected = defaults(command);
        Map<String, String> stated = new LinkedHashMap<>();
        for (Option o : launcher(command).options().getOptions()) {
            Matcher m = Pattern.compile("\\(default ([^\\s,;)]*[^\\s,;:)])[\\s,;)]").matcher(o.getDescription());
            if (m.find()) {
                stated.put(o.getLongOpt(), m.group(1));
            }
        }
        for (String option : union(expected, stated)) {
            assertEquals(expected.get(option), stated.get(option),
                    command + " --help: the default of --" + option + " (left: the command's, right: --help's)");
        }
    }

    /** Where the --help says the default is a phrase, the command does what it says. */
    @Test
    void theDefaultsHelpGivesInWordsAreTheCommands() throws Exception {
        ServerConfig s = new SproxyMain().configure();
        assertEquals(null, s.listenAddress(), "sproxy's default listen address: all interfaces");
        assertEquals(0, s.maxSessionsPerSource(), "sproxy's default --max-sessions-per-source: no limit");
        assertEquals(0, s.instance(), "sproxy's default --instance: a single sproxy, 0");
        assertEquals(Math.max(MemoryBudget.MIN_LIMIT, Runtime.getRuntime().maxMemory() / 2), s.link().memoryBytes(),
                "the default --memory: half the maximum heap");
        assertEquals(null, s.presharedKey(), "the default --secret-file: none");
    }

    /**
     * README.md's and docs/operations.md's option tables: each "default `VALUE`" in a command's
     * column is that command's default, and each option with a default states it there.
     */
    @ParameterizedTest
    @ValueSource(strings = {"README.md|## Configuration", "docs/operations.md|## All options"})
    void theOptionTablesStateTheCommandsDefaults(String where) throws Exception {
        String[] fileAndHeading = where.split("\\|");
        Table t = Docs.markdownTable(fileAndHeading[0], fileAndHeading[1]);
        assertEquals(List.of("option", "cproxy", "sproxy"), t.rows().get(0), t.where() + ": the columns");
        Map<String, Map<String, String>> code = Map.of("cproxy", defaults("cproxy"), "sproxy", defaults("sproxy"));
        for (List<String> row : t.body()) {
            List<String> options = longOptions(row.get(0));
            for (int col = 1; col <= 2; col++) {
                String command = t.rows().get(0).get(col);
                String cell = row.get(col).startsWith("same") ? row.get(1) : row.get(col);
                if (cell.equals("—")) {
                    continue;
                }
                List<String> values = new ArrayList<>();
                Matcher m = Pattern.compile("default `([^`]+)`").matcher(cell);
                while (m.find()) {
                    values.add(m.group(1));
                }
                // One value per option the row names ("`--heartbeat MS`, `--missed N`"), in order.
                // --log-level's default is the environment's variable, which DocsProseFactsTest checks.
                for (int i = 0; i < options.size(); i++) {
                    String expected = code.get(command).get(options.get(i));
                    String said = values.size() == options.size() ? values.get(i) : null;
                    if (expected != null || said != null && !options.get(i).equals(LogLevel.OPTION)) {
                        assertEquals(expected, said, t.where() + ": " + command + "'s default of --" + options.get(i)
                                + " (left: the command's, right: the doc's)");
                    }
                }
            }
        }
    }

    /**
     * The shipped config files (installed in /etc/roamproxy) show every key commented out "with
     * the built-in default": where the default is a value, the line shows it (for a file, its name).
     */
    @ParameterizedTest
    @ValueSource(strings = {"cproxy", "sproxy"})
    void theShippedConfigFilesShowTheDefaults(String command) throws Exception {
        String file = "conf/" + command + ".conf";
        String text = Docs.read(file);
        for (Map.Entry<String, String> d : defaults(command).entrySet()) {
            Matcher m = Pattern.compile("(?m)^#" + d.getKey() + " = (.*)$").matcher(text);
            assertTrue(m.find(), file + " has no line '#" + d.getKey() + " = ...'");
            String shown = m.group(1).strip().replaceFirst(".*/", "");
            assertEquals(d.getValue(), shown, file + ": the default of " + d.getKey()
                    + " (left: the command's, right: the file's)");
        }
    }

    /**
     * The design report's table of limits and timers: each row's default against the code. A
     * row this test does not know fails, so a new limit gets checked when it is documented.
     */
    @Test
    void theReportsLimitsAreTheCode() throws Exception {
        ClientConfig c = new CproxyMain().configure("192.0.2.1");
        ServerConfig s = new SproxyMain().configure();
        LinkSettings link = c.link();
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("Window", "B per direction (--buffer, " + size(LinkSettings.MIN_BUFFER_BYTES).replace("K", " KiB")
                + " – " + size(SharedOptions.MAX_BUFFER).replace("G", " GiB") + "); on the wire 1 – 2^31−1");
        expected.put("All buffers of a daemon", "half the maximum heap");
        expected.put("Pre-shared key file", SecretFile.MIN_SIZE + " bytes – " + SecretFile.MAX_SIZE / 1024 + " KiB");
        assertEquals(c.maxSessions(), s.maxSessions(), "the two commands' default --max-sessions");
        expected.put("Live sessions", s.maxSessions() + " (sproxy, cproxy)");
        expected.put("Sessions per source", s.maxSessionsPerSource() == 0 ? "none" : "?");
        expected.put("Handshakes", s.maxHandshakes() + ", " + share(s.maxHandshakes()) + " per source");
        expected.put("First frame", human((Long) constant("server.HandshakeDeadline", "FIRST_FRAME_MILLIS")));
        expected.put("Handshake", human(link.handshakeTimeout().toMillis()));
        expected.put("Heartbeat", "H = " + human(link.heartbeatInterval().toMillis()) + " (minimum "
                + human(minimum("--heartbeat")) + ")");
        expected.put("Link loss", "M·H = " + human(link.deadAfter().toMillis()));
        expected.put("Address watch", human((Long) constant("client.AddressWatch", "POLL_MILLIS")));
        expected.put("Connect attempt", "M·H");
        expected.put("Redial", human((Long) constant("client.Dialer", "FIRST_RETRY_MS")) + " doubling to min("
                + human((Long) constant("client.Dialer", "MAX_RETRY_MS")) + ", H)");
        expected.put("Dials at once", String.valueOf(constant("client.ClientProxy", "MAX_DIALS")));
        expected.put("Detach timeout", human(link.detachTimeout().toMillis()));
        expected.put("Linger", "min(M·H, " + human((Long) constant("session.Session", "MAX_LINGER_MILLIS")) + ")");
        expected.put("Stop", human(Stopping.LIMIT.toMillis()));
        // Checked by ProtocolDocsTest, or no constant: a Java long's range, the window's bound.
        for (String elsewhere : List.of("Frame payload", "Offsets", "Replay buffer", "Key usage", "Service name")) {
            expected.put(elsewhere, null);
        }
        Table t = Docs.reportTable("tab-limits");
        for (List<String> row : t.body()) {
            String name = plain(row.get(0)).replaceFirst(" \\(.*", "");
            if (!expected.containsKey(name)) {
                fail(t.where() + " has a row '" + name + "' that DocsDefaultsTest does not check: add it there");
            }
            if (expected.get(name) != null) {
                assertEquals(expected.get(name), plain(row.get(1)), t.where() + ": the default of '" + name + "'");
            }
        }
        long stop = SessionStop.BUDGET_MILLIS;
        assertEquals("Flush for at most " + seconds(stop / 2) + ", then STOPPING (send lock within " + seconds(stop * 3 / 4)
                + "), sessions closed within " + seconds(stop) + ", exit 0 within " + seconds(Stopping.LIMIT.toMillis()),
                plain(t.row("Stop").get(2)).replaceFirst(";.*", ""), t.where() + ": the stop's steps");
        String connect = t.row("Connect attempt").get(2);
        Docs.assertStates(t.where(), connect, "the connect race's stagger", "the next address (\\d+ ms) after",
                human((Long) constant("client.ConnectRace", "STAGGER_MILLIS")));
        Docs.assertStates(t.where(), connect, "the connects in flight", "at most (\\d+) in flight",
                constant("client.ConnectRace", "MAX_PENDING"));
    }

    /** docs/operations.md's table of sproxy's limits, row by row. */
    @Test
    void operationsMdsLimitsAreSproxys() throws Exception {
        ServerConfig s = new SproxyMain().configure();
        Map<String, String> expected = new LinkedHashMap<>();
        expected.put("live sessions;", String.valueOf(s.maxSessions()));
        expected.put("live sessions opened from one client address", s.maxSessionsPerSource() == 0 ? "none" : "?");
        expected.put("connections still in their handshake", String.valueOf(s.maxHandshakes()));
        expected.put("connections in their handshake from one address", share(s.maxHandshakes()) + " of `--max-handshakes`");
        expected.put("time for a connection's first frame",
                human((Long) constant("server.HandshakeDeadline", "FIRST_FRAME_MILLIS")));
        expected.put("time to complete the handshake", human(s.link().handshakeTimeout().toMillis()));
        expected.put("time a session whose cproxy never sent a frame", s.link().missedHeartbeats() + " heartbeats");
        expected.put("time a session without a link is kept", human(s.link().detachTimeout().toMillis()));
        Table t = Docs.markdownTable("docs/operations.md", "## Limits");
        for (List<String> row : t.body()) {
            String key = expected.keySet().stream().filter(row.get(0)::startsWith).findFirst().orElseThrow(
                    () -> new AssertionError(t.where() + " has a row '" + row.get(0) + "' this test does not check"));
            assertEquals(expected.get(key), row.get(1), t.where() + ": the default of '" + row.get(0) + "'");
        }
    }

    /** How the docs name the share of {@code max} handshake places one source may hold: "a quarter". */
    private static String share(int max) throws ReflectiveOperationException {
        var perSource = Class.forName("net.roamproxy.server.HandshakeAdmission").getDeclaredMethod("perSource", int.class);
        perSource.setAccessible(true);
        int n = (Integer) perSource.invoke(null, max);
        return n * 4 == max ? "a quarter" : n * 2 == max ? "half" : n + " places";
    }

    /** The smallest value {@code option} takes, from the error for one below: 10 ms for --heartbeat. */
    private static long minimum(String option) {
        UsageException e = assertThrows(UsageException.class, () -> new CproxyMain().configure(option, "0", "h"));
        Matcher m = Pattern.compile("must be from (\\d+) to").matcher(e.getMessage());
        assertTrue(m.find(), e.getMessage());
        return Long.parseLong(m.group(1));
    }

    static Object constant(String className, String field) {
        return Docs.constant("net.roamproxy." + className, field);
    }

    /** The long options a table's first cell names, in order: {@code `--heartbeat MS`, `--missed N`}. */
    static List<String> longOptions(String cell) {
        List<String> out = new ArrayList<>();
        Matcher m = Pattern.compile("--([a-z][a-z0-9-]*)").matcher(cell);
        while (m.find()) {
            out.add(m.group(1));
        }
        return out;
    }

    static Launcher<?> launcher(String command) {
        return command.equals("cproxy") ? new CproxyMain() : new SproxyMain();
    }

    private static List<String> union(Map<String, String> a, Map<String, String> b) {
        List<String> all = new ArrayList<>(a.keySet());
        b.keySet().stream().filter(k -> !a.containsKey(k)).forEach(all::add);
        return all;
    }
}
