package net.roamproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.apache.commons.cli.Option;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The bash completion ({@code src/main/dist/completion/roamproxy.bash}) offers exactly each
 * command's options, knows which take a value, and completes the way a user types.
 */
class CompletionTest {
    private static final Path SCRIPT = Path.of("src", "main", "dist", "completion", "roamproxy.bash");

    @ParameterizedTest
    @ValueSource(strings = {"cproxy", "sproxy"})
    void theCompletionOffersExactlyTheCommandsOptionsAndKnowsWhichTakeAValue(String command) throws IOException {
        Launcher<?> launcher = command.equals("cproxy") ? new CproxyMain() : new SproxyMain();
        Set<String> all = new TreeSet<>();
        Set<String> withValue = new TreeSet<>();
        for (Option o : launcher.options().getOptions()) {
            for (String name : new String[] {o.getOpt() == null ? null : "-" + o.getOpt(),
                o.getLongOpt() == null ? null : "--" + o.getLongOpt()}) {
                if (name != null) {
                    all.add(name);
                    if (o.hasArg()) {
                        withValue.add(name);
                    }
                }
            }
        }

        assertEquals(all, list("_roamproxy_options_" + command), "every option, and only those");
        assertEquals(withValue, list("_roamproxy_values_" + command), "the options that take a value");
    }

    @Test
    void optionsCompleteFromTheirStartAndFileOptionsCompleteFileNames() throws Exception {
        assumeTrue(Files.isExecutable(Path.of("/bin/bash")), "bash is not installed");
        assertEquals(List.of("--server-port", "--server-fingerprint", "--secret-file"), complete("cproxy", "--se"));
        assertEquals(List.of("--new-secret"), complete("sproxy", "--new"));
        assertEquals(List.of(SCRIPT.toString()), complete("sproxy", "--config", SCRIPT.toString().replace(".bash", "")));
        assertEquals(List.of(), complete("sproxy", "--port", "6"), "a port: nothing to guess");
    }

    private static Set<String> list(String variable) throws IOException {
        Matcher m = Pattern.compile("(?m)^" + variable + "=\"([^\"]*)\"$")
                .matcher(Files.readString(SCRIPT, StandardCharsets.UTF_8));
        if (!m.find()) {
            throw new AssertionError(variable + " is not set in " + SCRIPT);
        }
        return new TreeSet<>(Arrays.asList(m.group(1).split(" ")));
    }

    /** What the completion offers for the last of {@code words}, as bash runs it. */
    private static List<String> complete(String... words) throws Exception {
        String array = String.join(" ", Arrays.stream(words).map(w -> "'" + w + "'").toList());
        Process p = new ProcessBuilder("/bin/bash", "-c", "source '" + SCRIPT + "'; COMP_WORDS=(" + array + "); "
                + "COMP_CWORD=" + (words.length - 1) + "; _roamproxy; printf '%s\\n' \"${COMPREPLY[@]}\"")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(true, p.waitFor(10, TimeUnit.SECONDS));
        return out.lines().filter(l -> !l.isEmpty()).toList();
    }
}
