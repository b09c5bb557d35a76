package net.roamproxy.cli;

import static net.roamproxy.cli.DocsDefaultsTest.launcher;
import static net.roamproxy.cli.DocsDefaultsTest.longOptions;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.apache.commons.cli.Option;
import org.apache.commons.cli.Options;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

import net.roamproxy.testkit.Docs.Table;
import net.roamproxy.testkit.Docs;

/**
 * The option names the docs use, against the commands' {@link Options} (what --help prints;
 * ManPageTest ties the man pages' OPTIONS to the same): every {@code --name} that README.md,
 * docs/*.md, the design report and the man pages mention exists, one given to {@code cproxy} or
 * {@code sproxy} on a command line is that command's, the option tables give each option to the
 * right commands with the right short name, and docs/operations.md's table, which says it has
 * them all, has every option of both commands. An option renamed or removed in the code, or
 * misspelt in a doc, fails here with the file and the name.
 */
class DocsOptionsTest {
    private static final Pattern LONG = Pattern.compile("(?<![\\w-])--([a-z][a-z0-9-]*)");

    /**
     * Options of other tools that the docs mention, with the tool: systemctl, systemd-analyze,
     * the demo script and the benchmark and test scripts. Anything else must be an option of
     * cproxy or sproxy.
     */
    private static final Map<String, String> OTHER_TOOLS = Map.ofEntries(
            Map.entry("now", "systemctl"), Map.entry("offline", "systemd-analyze"), Map.entry("man", "systemd-analyze"),
            Map.entry("root", "systemd-analyze"), Map.entry("interactive", "scripts/demo"),
            Map.entry("with-mosh", "bench/roaming"),
            Map.entry("changes", "bench/roaming"), Map.entry("sessions", "bench, soak_e2e.py"),
            Map.entry("hold", "bench"), Map.entry("dist", "soak_e2e.py"), Map.entry("minutes", "soak_e2e.py"),
            Map.entry("rate", "soak_e2e.py"), Map.entry("outage", "soak_e2e.py"), Map.entry("seed", "soak_e2e.py"),
            Map.entry("seconds", "route_load.py"), Map.entry("concurrency", "route_load.py"),
            Map.entry("cpu", "stress-ng"));

    /**
     * Where a table spells out an argument that --help names shortly (and explains in the
     * description): the option, --help's argument name, the table's.
     */
    private static final Map<String, List<String>> SPELT_OUT = Map.of(
            "forward", List.of("PORT=NAME", "[ADDR:]PORT=NAME"),
            "service", List.of("NAME=DEST", "NAME=HOST:PORT"),
            "metrics", List.of("ADDR:PORT", "[ADDR:]PORT"));

    /** README.md, docs/*.md, the report's chapters and the man pages: the docs that name options. */
    static List<String> docs() throws IOException {
        List<String> files = new ArrayList<>(List.of("README.md"));
        for (String dir : List.of("docs", Docs.CHAPTERS.toString(), "src/docs/man")) {
            try (Stream<Path> s = Files.list(Path.of(dir))) {
                s.map(Path::toString).filter(p -> p.endsWith(".md") || p.endsWith(".adoc")).sorted().forEach(files::add);
            }
        }
        return files;
    }

    /** Every {@code --name} the docs mention. */
    @ParameterizedTest
    @MethodSource("docs")
    void everyLongOptionTheDocsNameExists(String file) {
        Set<String> known = new TreeSet<>(names("cproxy"));
        known.addAll(names("sproxy"));
        Matcher m = LONG.matcher(Docs.read(file));
        while (m.find()) {
            String name = m.group(1);
            assertTrue(known.contains(name) || OTHER_TOOLS.containsKey(name), file + " names --" + name
                    + ", which neither cproxy nor sproxy has (nor a tool of DocsOptionsTest.OTHER_TOOLS)");
        }
    }

    /**
     * A command line in the docs, "cproxy --forward 5222=ssh SERVER" or "`sproxy --fingerprint`":
     * each option after the command's name, up to the end of the code span or a comment, is that
     * command's.
     */
    @ParameterizedTest
    @MethodSource("docs")
    void anOptionGivenToACommandIsThatCommands(String file) {
        Map<String, Set<String>> options = Map.of("cproxy", names("cproxy"), "sproxy", names("sproxy"));
        Matcher line = Pattern.compile("(?<![\\w/@.-])(cproxy|sproxy)((?: +(?!#)[^\\s`|]+)+)").matcher(Docs.read(file));
        int commandLines = 0;
        while (line.find()) {
            Matcher m = LONG.matcher(line.group(2));
            while (m.find()) {
                commandLines++;
                assertTrue(options.get(line.group(1)).contains(m.group(1)), file + ": '" + line.group().strip()
                        + "' gives " + line.group(1) + " --" + m.group(1) + ", which it does not have");
            }
        }
        if (file.equals("README.md")) {
            assertTrue(commandLines > 5, "README.md: the command lines were not found; is the pattern still right?");
        }
    }

    /**
     * README.md's and docs/operations.md's option tables: a row's option belongs to exactly the
     * commands whose column is not "—", with the short name and the argument the row gives.
     */
    @ParameterizedTest
    @ValueSource(strings = {"README.md|## Configuration", "docs/operations.md|## All options"})
    void theOptionTablesGiveEachOptionToItsCommands(String where) {
        String[] fileAndHeading = where.split("\\|");
        Table t = Docs.markdownTable(fileAndHeading[0], fileAndHeading[1]);
        for (List<String> row : t.body()) {
            Matcher shortName = Pattern.compile("^`-([A-Za-z]), --").matcher(row.get(0));
            for (String name : longOptions(row.get(0))) {
                for (int col = 1; col <= 2; col++) {
                    String command = t.rows().get(0).get(col);
                    Option o = launcher(command).options().getOption(name);
                    if (row.get(col).equals("—")) {
                        assertEquals(null, o, t.where() + ": the row of --" + name + " says " + command
                                + " has no such option, but it has");
                        continue;
                    }
                    assertNotNull(o, t.where() + ": the row of --" + name + " gives it to " + command
                            + ", which has no --" + name);
                    if (o.getLongOpt().equals(name) && longOptions(row.get(0)).get(0).equals(name)) {
                        assertEquals(o.getOpt(), shortName.find(0) ? shortName.group(1) : null,
                                t.where() + ": the short name of " + command + " --" + name);
                    }
                    Matcher arg = Pattern.compile("--" + name + "(?: (?!\\[--)([^`]+))?[` \\]]").matcher(row.get(0));
                    assertTrue(arg.find(), t.where() + ": --" + name + " is not in a code span of its own");
                    String help = o.hasArg() ? o.getArgName() : null;
                    List<String> spelt = SPELT_OUT.get(name);
                    if (spelt != null) {
                        assertEquals(spelt.get(0), help, "--help's argument of --" + name + " (update SPELT_OUT)");
                        help = spelt.get(1);
                    }
                    assertEquals(help, arg.group(1), t.where() + ": the argument of " + command + " --" + name
                            + " (left: --help's, right: the table's)");
                }
            }
        }
    }

    /** docs/operations.md's "All options" has a row for every option of each command, in its column. */
    @ParameterizedTest
    @ValueSource(strings = {"cproxy", "sproxy"})
    void operationsMdHasEveryOption(String command) {
        Table t = Docs.markdownTable("docs/operations.md", "## All options");
        int col = t.rows().get(0).indexOf(command);
        Set<String> documented = new TreeSet<>();
        for (List<String> row : t.body()) {
            if (!row.get(col).equals("—")) {
                documented.addAll(longOptions(row.get(0)));
            }
        }
        Set<String> missing = new TreeSet<>(names(command));
        missing.removeAll(documented);
        assertEquals(Set.of(), missing, t.where() + ": the options of " + command + " --help it lacks");
    }

    /** The long names of {@code command}'s options. */
    private static Set<String> names(String command) {
        Set<String> names = new TreeSet<>();
        for (Option o : launcher(command).options().getOptions()) {
            names.add(o.getLongOpt());
        }
        return names;
    }
}
