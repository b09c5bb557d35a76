package net.roamproxy.cli;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The link options both commands share, and the exit-status contract: bad input is status 2
 * with one line on stderr that names the offending option and points to {@code --help}.
 * Every case runs against both commands; cproxy gets a valid SERVER so only the option is wrong.
 */
@Timeout(30)
class LauncherTest {

    /**
     * Runs both commands with {@code args} on an ephemeral loopback port, so that should a bad
     * option ever be accepted, what starts is closed again and collides with nothing.
     */
    private static List<Cli.Result> both(String... args) {
        List<String> sproxyArgs = new ArrayList<>(List.of("-l", "127.0.0.1", "-p", "0"));
        sproxyArgs.addAll(List.of(args));
        List<String> cproxyArgs = new ArrayList<>(sproxyArgs);
        cproxyArgs.add("127.0.0.1");
        return List.of(Cli.runAndClose("cproxy", new CproxyMain(), cproxyArgs.toArray(String[]::new)),
                Cli.runAndClose("sproxy", new SproxyMain(), sproxyArgs.toArray(String[]::new)));
    }

    private static void assertUsageErrorNaming(String option, String value, List<Cli.Result> results) {
        List<org.junit.jupiter.api.function.Executable> checks = new ArrayList<>();
        for (Cli.Result r : results) {
            checks.add(() -> assertEquals(2, r.status(), r.toString()));
            checks.add(() -> assertEquals(1, r.errLines().size(), r.err()));
            checks.add(() -> assertTrue(r.err().contains("(try --help)"), r.err()));
            checks.add(() -> assertTrue(r.err().contains("--" + option), "names --" + option + ": " + r.err()));
            if (value != null) {
                checks.add(() -> assertTrue(r.err().contains(value), "names the value " + value + ": " + r.err()));
            }
            checks.add(() -> assertEquals("", r.out()));
        }
        assertAll(checks);
    }

    @ParameterizedTest(name = "--{0} {1}")
    @CsvSource({
        "heartbeat, abc",
        "heartbeat, 1.5",
        "missed, abc",
        "buffer, 12Q",
        "buffer, 9999999999G",
        "detach-timeout, soon",
    })
    void valueThatIsNotANumberIsAUsageErrorNamingTheOption(String option, String value) {
        assertUsageErrorNaming(option, value, both("--" + option, value));
    }

    @ParameterizedTest(name = "--{0} {1}")
    @CsvSource({
        "missed, 0",
        "heartbeat, 5",
        "buffer, 1K",
        "detach-timeout, 0",
        "heartbeat, 3600001",
        "buffer, 2G",
    })
    void numberOutsideTheAllowedRangeIsAUsageErrorNamingTheOption(String option, String value) {
        assertUsageErrorNaming(option, null, both("--" + option, value));
    }

    @Test
    void optionMissingItsValueIsAUsageError() {
        for (Cli.Result r : List.of(Cli.cproxy("127.0.0.1", "--heartbeat"), Cli.sproxy("--heartbeat"))) {
            assertEquals(2, r.status(), r.toString());
            assertTrue(r.err().contains("heartbeat"), r.err());
        }
    }

    @Test
    void helpListsTheSharedLinkOptionsWithTheirDefaults() {
        for (Supplier<Cli.Result> help : List.<Supplier<Cli.Result>>of(() -> Cli.cproxy("--help"), () -> Cli.sproxy("--help"))) {
            String out = help.get().out().replaceAll("\\s+", " "); // wherever the help wraps its lines
            assertTrue(out.contains("--heartbeat"), out);
            assertTrue(out.contains("(default 1000)"), out);
            assertTrue(out.contains("--missed"), out);
            assertTrue(out.contains("(default 3)"), out);
            assertTrue(out.contains("--buffer"), out);
            assertTrue(out.contains("--detach-timeout"), out);
            assertTrue(out.contains("(default 900)"), out);
            assertTrue(out.contains("Exit status"), out);
        }
    }

    @Test
    void sizeSuffixesAreAcceptedForTheBuffer() throws Exception {
        try (Cli.Capturing<?> sproxy = new Cli.Capturing<>("sproxy", new SproxyMain())) {
            Cli.Result r = Cli.run(sproxy, "-l", "127.0.0.1", "-p", "0", "--buffer", "512k", "--heartbeat", "250",
                    "--missed", "2", "--detach-timeout", "5");

            assertEquals(0, r.status(), r.toString());
        }
    }

    @Test
    void aMemoryBudgetTooSmallForOneSessionOrNotASizeIsRefusedInOneLine() throws Exception {
        for (String[] c : new String[][] {
            {"16K", "sproxy: --memory must be at least 32K (what one session needs), got 16K (try --help)"},
            {"lots", "sproxy: --memory needs a size such as 1048576, 512K or 1M, got 'lots' (try --help)"}}) {
            try (Cli.Capturing<?> sproxy = new Cli.Capturing<>("sproxy", new SproxyMain())) {
                Cli.Result r = Cli.run(sproxy, "-l", "127.0.0.1", "-p", "0", "--memory", c[0]);
                assertEquals(2, r.status(), r.toString());
                assertEquals(c[1], r.err().strip());
            }
        }
        try (Cli.Capturing<?> cproxy = new Cli.Capturing<>("cproxy", new CproxyMain())) {
            Cli.Result r = Cli.run(cproxy, "-l", "127.0.0.1", "-p", "0", "--memory", "32K", "127.0.0.1");
            assertEquals(0, r.status(), r.toString());
        }
    }
}
