package net.roamproxy.cli;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The {@code bin/} scripts (src/main/dist/bin) before they start Java: which JVM flags they
 * choose for the runtime's architecture and version, and what they refuse with one line on
 * stderr (a Java older than 17: status 1; an unknown {@code ROAMPROXY_LOG_LEVEL}: status 2).
 * JAVA_HOME points at a stand-in runtime, a {@code release} file and a {@code bin/java} that
 * only records its arguments, so any architecture and version can be played on this machine.
 * {@link #theFlagsChosenForThisMachinesJavaAreAcceptedByIt} then hands the flags chosen for
 * the real runtime running this test to that runtime.
 */
@Timeout(60)
class LauncherScriptTest {
    private static final Path BIN = Path.of("src", "main", "dist", "bin").toAbsolutePath();

    @TempDir
    Path home;

    /** What the stand-in java received, one argument a line; absent if it was never run. */
    private Path argsFile;

    private record Run(int status, String out, String err, List<String> javaArgs) {
        List<String> errLines() {
            return err.isEmpty() ? List.of() : err.lines().toList();
        }

        boolean javaStarted() {
            return javaArgs != null;
        }

        @Override
        public String toString() {
            return "status " + status + ", stdout [" + out + "], stderr [" + err + "], java args " + javaArgs;
        }
    }

    @BeforeAll
    static void needsAPosixShell() {
        assumeTrue(Files.isExecutable(Path.of("/bin/sh")), "the bin/ scripts need /bin/sh; skipped");
        assumeTrue(Files.isRegularFile(BIN.resolve("cproxy")), "tests run from the project directory; no " + BIN);
    }

    @BeforeEach
    void standInJava() throws IOException {
        argsFile = home.resolve("args");
        Path java = Files.createDirectories(home.resolve("bin")).resolve("java");
        // Answers -XshowSettings:properties from the file "settings" as a JVM does (on stderr),
        // and otherwise records its arguments.
        Files.writeString(java, """
                #!/bin/sh
                here=$(dirname "$0")/..
                if [ "$1" = -XshowSettings:properties ]; then
                  cat "$here/settings" >&2 2>/dev/null
                  exit 0
                fi
                printf '%s\\n' "$@" > "$here/args"
                """);
        Files.setPosixFilePermissions(java, PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private void release(String version, String arch) throws IOException {
        StringBuilder text = new StringBuilder("IMPLEMENTOR=\"Test\"\n");
        if (version != null) {
            text.append("JAVA_VERSION=\"").append(version).append("\"\n");
        }
        if (arch != null) {
            text.append("OS_ARCH=\"").append(arch).append("\"\n");
        }
        Files.writeString(home.resolve("release"), text);
    }

    private Run run(String command, Map<String, String> env, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("/bin/sh", BIN.resolve(command).toString()));
        cmd.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        Map<String, String> e = pb.environment();
        e.remove("JAVA_OPTS");
        e.remove("ROAMPROXY_LOG_LEVEL");
        e.remove("ROAMPROXY_CONF_DIR");
        e.remove("JOURNAL_STREAM");
        e.put("JAVA_HOME", home.toString());
        e.putAll(env);
        Process p = pb.start();
        p.getOutputStream().close();
        byte[] out = p.getInputStream().readAllBytes();
        byte[] err = p.getErrorStream().readAllBytes();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS), "bin/" + command + " did not finish");
        List<String> javaArgs = Files.exists(argsFile) ? Files.readAllLines(argsFile) : null;
        Files.deleteIfExists(argsFile);
        return new Run(p.exitValue(), new String(out, StandardCharsets.UTF_8),
                new String(err, StandardCharsets.UTF_8), javaArgs);
    }

    private Run run(String command, String... args) throws Exception {
        return run(command, Map.of(), args);
    }

    @Test
    void onX86_64TheShadowZoneIsHalvedWithStackShadowPages10() throws Exception {
        release("17.0.13", "x86_64");
        for (String command : List.of("cproxy", "sproxy")) {
            Run r = run(command, "--version");

            assertEquals(0, r.status(), r.toString());
            assertTrue(r.javaArgs().contains("-XX:StackShadowPages=10"), r.toString());
            assertTrue(r.javaArgs().contains("-XX:+UseSerialGC"), r.toString());
            assertEquals("--version", r.javaArgs().get(r.javaArgs().size() - 1), r.toString());
        }
    }

    /** Java 8's release file and os.arch spell x86_64 {@code amd64}. */
    @Test
    void anX86_64RuntimeThatCallsItselfAmd64GetsTheSameShadowZone() throws Exception {
        release("21.0.5", "amd64");

        Run r = run("sproxy", "--version");

        assertTrue(r.javaArgs().contains("-XX:StackShadowPages=10"), r.toString());
    }

    /**
     * HotSpot on these allows StackShadowPages only from its default, 20, so 10 stops the JVM
     * ("outside the allowed range"); the scripts leave the default alone there. The machine
     * running this test is not what decides: the runtime's release file is.
     */
    @ParameterizedTest
    @ValueSource(strings = {"aarch64", "riscv64", "ppc64le", "s390x", "arm", "x86"})
    void onOtherArchitecturesNoStackShadowPagesIsPassed(String arch) throws Exception {
        release("17.0.13", arch);
        for (String command : List.of("cproxy", "sproxy")) {
            Run r = run(command, "--version");

            assertEquals(0, r.status(), r.toString());
            assertTrue(r.javaStarted(), r.toString());
            assertTrue(r.javaArgs().stream().noneMatch(a -> a.startsWith("-XX:StackShadowPages")), r.toString());
            assertTrue(r.javaArgs().contains("-Xms16m"), "the other defaults stay: " + r);
        }
    }

    @Test
    void aRuntimeWithoutAReleaseFileIsAskedForItsArchitecture() throws Exception {
        Files.writeString(home.resolve("settings"), """
                Property settings:
                    java.home = /somewhere
                    java.version = 17.0.13
                    os.arch = aarch64
                    os.name = Linux

                """);

        Run r = run("cproxy", "--version");

        assertEquals(0, r.status(), r.toString());
        assertTrue(r.javaArgs().stream().noneMatch(a -> a.startsWith("-XX:StackShadowPages")), r.toString());

        Files.writeString(home.resolve("settings"), "    java.version = 17.0.13\n    os.arch = amd64\n");
        assertTrue(run("cproxy", "--version").javaArgs().contains("-XX:StackShadowPages=10"));
    }

    @Test
    void fromJava24TheCollectorIsG1AndTheShadowZoneStillFollowsTheArchitecture() throws Exception {
        release("25.0.1", "aarch64");

        Run r = run("sproxy", "--version");

        assertTrue(r.javaArgs().contains("-XX:+UseG1GC"), r.toString());
        assertFalse(r.javaArgs().contains("-XX:+UseSerialGC"), r.toString());
        assertTrue(r.javaArgs().stream().noneMatch(a -> a.startsWith("-XX:StackShadowPages")), r.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"11.0.25", "1.8.0_432", "16", "16.0.2"})
    void javaOlderThan17IsRefusedWithOneLineNamingItAndWhatToDo(String version) throws Exception {
        release(version, "x86_64");
        for (String command : List.of("cproxy", "sproxy")) {
            Run r = run(command, "--version");

            assertAll(
                    () -> assertEquals(1, r.status(), r.toString()),
                    () -> assertFalse(r.javaStarted(), "java must not be started: " + r),
                    () -> assertEquals(1, r.errLines().size(), r.toString()),
                    () -> assertTrue(r.err().startsWith(command + ": Java " + version + " at " + home), r.err()),
                    () -> assertTrue(r.err().contains("needs Java 17 or later"), r.err()),
                    () -> assertTrue(r.err().contains("JAVA_HOME"), r.err()),
                    () -> assertTrue(r.err().contains("openjdk-17-jre-headless"), r.err()),
                    () -> assertEquals("", r.out()));
        }
    }

    @Test
    void javaOlderThan17WithoutAReleaseFileIsRefusedToo() throws Exception {
        Files.writeString(home.resolve("settings"), "    java.version = 1.8.0_432\n    os.arch = amd64\n");

        Run r = run("cproxy", "--version");

        assertEquals(1, r.status(), r.toString());
        assertTrue(r.err().startsWith("cproxy: Java 1.8.0_432 at "), r.err());
        assertFalse(r.javaStarted(), r.toString());
    }

    @ParameterizedTest
    @ValueSource(strings = {"17", "17.0.13", "21.0.5", "25", "26-ea"})
    void java17AndLaterIsStarted(String version) throws Exception {
        release(version, "x86_64");

        Run r = run("sproxy", "--version");

        assertEquals(0, r.status(), r.toString());
        assertTrue(r.javaStarted(), r.toString());
        assertEquals("", r.err());
    }

    @Test
    void noJavaAtJavaHomeIsOneLineWithStatus1() throws Exception {
        Path nowhere = home.resolve("no-such-jdk");

        Run r = run("cproxy", Map.of("JAVA_HOME", nowhere.toString()), "--version");

        assertEquals(1, r.status(), r.toString());
        assertEquals(List.of("cproxy: cannot find " + nowhere + "/bin/java; set JAVA_HOME to a Java 17+ runtime "
                + "or install one (apt install openjdk-17-jre-headless)"), r.errLines());
    }

    @ParameterizedTest
    @ValueSource(strings = {"INFOO", "verbose", "5", "INFO,DEBUG", "IN FO", " ", "debug\nINFO"})
    void anUnknownLogLevelIsRefusedWithStatus2BeforeJavaStarts(String level) throws Exception {
        release("17.0.13", "x86_64");
        for (String command : List.of("cproxy", "sproxy")) {
            Run r = run(command, Map.of("ROAMPROXY_LOG_LEVEL", level), "-p", "5200");

            assertAll(
                    () -> assertEquals(2, r.status(), r.toString()),
                    () -> assertFalse(r.javaStarted(), "java must not be started: " + r),
                    () -> assertTrue(r.err().startsWith(command + ": ROAMPROXY_LOG_LEVEL must be one of OFF, FATAL, "
                            + "ERROR, WARN, INFO, DEBUG, TRACE, ALL, got '" + level + "'"), r.err()),
                    () -> assertEquals(level.contains("\n") ? 2 : 1, r.errLines().size(),
                            "one line (the value quoted as it is): " + r.err()));
        }
    }

    /** log4j's own parsing: any case, blanks around the name ignored; empty means the default. */
    @ParameterizedTest
    @ValueSource(strings = {"OFF", "fatal", "Error", "warn", "INFO", "debug", "TRACE", "all", " debug ", ""})
    void logLevelsLog4jKnowsAreAcceptedInAnyCase(String level) throws Exception {
        release("17.0.13", "x86_64");

        Run r = run("cproxy", Map.of("ROAMPROXY_LOG_LEVEL", level), "--version");

        assertEquals(0, r.status(), r.toString());
        assertTrue(r.javaStarted(), r.toString());
    }

    @Test
    void underSystemdTheScriptsErrorLineIsMarkedAsAnErrorForTheJournal() throws Exception {
        release("11.0.25", "x86_64");

        Run badLevel = run("sproxy", Map.of("JOURNAL_STREAM", "8:12345", "ROAMPROXY_LOG_LEVEL", "INFOO"));
        Run oldJava = run("sproxy", Map.of("JOURNAL_STREAM", "8:12345"));

        assertTrue(badLevel.err().startsWith("<3>sproxy: ROAMPROXY_LOG_LEVEL must be"), badLevel.err());
        assertTrue(oldJava.err().startsWith("<3>sproxy: Java 11.0.25 at "), oldJava.err());
    }

    /** The two scripts are one launcher; a fix made in one and not the other shows here. */
    @Test
    void bothScriptsAreTheSameButForTheCommandTheyStart() throws IOException {
        String cproxy = Files.readString(BIN.resolve("cproxy"));
        String sproxy = Files.readString(BIN.resolve("sproxy"));

        assertEquals(cproxy.replace("CproxyMain", "SproxyMain").replace("cproxy", "sproxy"), sproxy);
    }

    /**
     * The flags the script picks for the runtime running this test (its release file, so its
     * version and architecture), given to that runtime: it starts. On an aarch64 machine this
     * is the check that StackShadowPages=10 stays away from it.
     */
    @Test
    void theFlagsChosenForThisMachinesJavaAreAcceptedByIt() throws Exception {
        Path realHome = Path.of(System.getProperty("java.home"));
        assumeTrue(Files.isRegularFile(realHome.resolve("release")), "no release file in " + realHome + "; skipped");
        Files.copy(realHome.resolve("release"), home.resolve("release"));
        List<String> jvmFlags = new ArrayList<>();
        for (String a : run("sproxy", "--version").javaArgs()) {
            if (a.startsWith("-Dlog4j2")) {
                break;
            }
            jvmFlags.add(a);
        }
        assertTrue(jvmFlags.contains("-Xms16m"), jvmFlags.toString());
        List<String> cmd = new ArrayList<>(List.of(realHome.resolve("bin").resolve("java").toString()));
        cmd.addAll(jvmFlags);
        cmd.add("-version");

        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);

        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        assertEquals(0, p.exitValue(), cmd + ":\n" + out);
    }
}
