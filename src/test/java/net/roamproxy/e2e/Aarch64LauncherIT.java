package net.roamproxy.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import net.roamproxy.testkit.EchoServer;
import net.roamproxy.testkit.OutputLines;

/**
 * The packaged {@code bin/cproxy} and {@code bin/sproxy} on an aarch64 JVM: Debian's
 * {@code openjdk-17-jre-headless:arm64}, run on this machine through qemu-user (binfmt). An
 * aarch64 HotSpot refuses x86_64-only tuning such as {@code -XX:StackShadowPages=10} and then
 * does not start at all; here both commands start, print their version, and relay a session.
 *
 * <p>Skipped, with one line naming what is missing, unless that JVM is installed and this
 * kernel runs aarch64 programs (on Debian, as root: {@code dpkg --add-architecture arm64;
 * apt-get update; apt-get install qemu-user-static binfmt-support
 * openjdk-17-jre-headless:arm64}, as .ci/run does). Another JVM can be named with the system
 * property {@code roamproxy.aarch64.java.home}. Emulated, a JVM takes many seconds to start
 * and run, so the waits are long and nothing here measures time.
 */
@Timeout(value = 15, unit = TimeUnit.MINUTES)
class Aarch64LauncherIT {
    private static final long WAIT_MS = TimeUnit.MINUTES.toMillis(4);
    private static final Pattern LISTENING = Pattern.compile("listening on [^ ]*:(\\d+)");

    private static Path dist;
    private static Path javaHome;

    @TempDir
    Path tmp;

    /**
     * Per test, not once per class, so that a skip shows in the run's counts; the reason is
     * printed too, as one line in the build's output.
     */
    @BeforeEach
    void requireAnAarch64JvmThatRunsHere() throws IOException {
        javaHome = Path.of(System.getProperty("roamproxy.aarch64.java.home", "/usr/lib/jvm/java-17-openjdk-arm64"));
        if (!Files.isExecutable(javaHome.resolve("bin/java"))) {
            skip("no aarch64 JVM at " + javaHome
                    + " (apt-get install qemu-user-static binfmt-support openjdk-17-jre-headless:arm64)");
        }
        if (!"aarch64".equals(System.getProperty("os.arch"))) {
            Path binfmt = Path.of("/proc/sys/fs/binfmt_misc/qemu-aarch64");
            if (!Files.isRegularFile(binfmt) || !Files.readString(binfmt).startsWith("enabled")) {
                skip("this kernel runs no aarch64 programs: no enabled " + binfmt
                        + " (qemu-user-static, binfmt-support; update-binfmts --enable qemu-aarch64)");
            }
        }
        String distProperty = System.getProperty("roamproxy.dist");
        assertTrue(distProperty != null, "system property roamproxy.dist must be set (failsafe does)");
        dist = Path.of(distProperty).toAbsolutePath();
        assertTrue(Files.isExecutable(dist.resolve("bin/cproxy")) && Files.isExecutable(dist.resolve("bin/sproxy")),
                "no packaged tree with bin/cproxy and bin/sproxy at " + dist + " (run mvn package)");
    }

    private static void skip(String why) {
        E2eScript.skip("Aarch64LauncherIT", why);
    }

    /** A packaged command on the aarch64 JVM, its stderr collected line by line. */
    private static final class Command implements AutoCloseable {
        final Process process;
        private final OutputLines err;
        private final OutputLines out;

        Command(Path state, Map<String, String> env, String command, String... args) throws IOException {
            List<String> cmd = new ArrayList<>(List.of(dist.resolve("bin").resolve(command).toString()));
            cmd.addAll(List.of(args));
            ProcessBuilder pb = new ProcessBuilder(cmd);
            pb.environment().remove("JAVA_OPTS");
            pb.environment().remove("JOURNAL_STREAM");
            pb.environment().remove("ROAMPROXY_CONF_DIR");
            pb.environment().put("JAVA_HOME", javaHome.toString());
            pb.environment().put("ROAMPROXY_LOG_LEVEL", "INFO");
            // cproxy's known_host_keys (and anything else kept as state) goes here, not under ~.
            pb.environment().put("XDG_STATE_HOME", state.toString());
            pb.environment().putAll(env);
            process = pb.start();
            process.getOutputStream().close();
            err = new OutputLines(process.getErrorStream(), "stderr");
            out = new OutputLines(process.getInputStream(), "stdout");
        }

        Matcher awaitLine(Pattern p) throws InterruptedException {
            return err.await(p, WAIT_MS);
        }

        int finish() throws InterruptedException {
            assertTrue(process.waitFor(WAIT_MS, TimeUnit.MILLISECONDS), "still running; stderr:\n" + stderr());
            err.awaitEnd(10_000);
            out.awaitEnd(10_000);
            return process.exitValue();
        }

        String stdout() {
            return out.text();
        }

        String stderr() {
            return err.text();
        }

        @Override
        public void close() {
            if (process.isAlive()) {
                process.destroy();
                try {
                    if (!process.waitFor(60, TimeUnit.SECONDS)) {
                        process.destroyForcibly();
                        process.waitFor(30, TimeUnit.SECONDS);
                    }
                } catch (InterruptedException e) {
                    process.destroyForcibly();
                    Thread.currentThread().interrupt();
                }
            }
        }
    }

    /**
     * {@code --version} of both commands on the aarch64 JVM; {@code -XshowSettings:properties}
     * in JAVA_OPTS makes the JVM itself say it is an aarch64 one.
     */
    @Test
    void bothCommandsStartOnAnAarch64JvmAndPrintTheirVersion() throws Exception {
        for (String command : List.of("cproxy", "sproxy")) {
            try (Command c = new Command(tmp, Map.of("JAVA_OPTS", "-XshowSettings:properties"), command,
                    "--version")) {
                int status = c.finish();

                assertEquals(0, status, command + " --version; stderr:\n" + c.stderr());
                assertTrue(c.stdout().startsWith(command + " (roamproxy) "), c.stdout());
                assertTrue(c.stderr().contains("os.arch = aarch64"), "ran on an aarch64 JVM:\n" + c.stderr());
                assertFalse(c.stderr().contains("outside the allowed range"), c.stderr());
            }
        }
    }

    /** sproxy and cproxy both on the aarch64 JVM, relaying bytes to an echo server and back. */
    @Test
    void aSessionThroughBothCommandsOnAnAarch64JvmEchoesItsBytes() throws Exception {
        try (EchoServer echo = new EchoServer();
             Command sproxy = new Command(tmp, Map.of(), "sproxy", "-l", "127.0.0.1", "-p", "0",
                     "--target", "127.0.0.1:" + echo.port(), "--host-key", tmp.resolve("host_key").toString())) {
            int linkPort = Integer.parseInt(sproxy.awaitLine(LISTENING).group(1));
            try (Command cproxy = new Command(tmp, Map.of(), "cproxy", "-l", "127.0.0.1", "-p", "0",
                    "-s", String.valueOf(linkPort), "127.0.0.1")) {
                int appPort = Integer.parseInt(cproxy.awaitLine(LISTENING).group(1));

                byte[] sent = "hello from an aarch64 JVM\n".getBytes(StandardCharsets.US_ASCII);
                try (Socket app = new Socket(InetAddress.getLoopbackAddress(), appPort)) {
                    app.setSoTimeout((int) WAIT_MS);
                    app.getOutputStream().write(sent);
                    app.getOutputStream().flush();
                    byte[] got = app.getInputStream().readNBytes(sent.length);

                    assertEquals(new String(sent, StandardCharsets.US_ASCII), new String(got, StandardCharsets.US_ASCII),
                            "echoed through cproxy and sproxy; sproxy:\n" + sproxy.stderr() + "\ncproxy:\n"
                                    + cproxy.stderr());
                }
                sproxy.awaitLine(Pattern.compile("new session"));
                assertTrue(Files.isRegularFile(tmp.resolve("host_key")), "sproxy's host key where --host-key says");
            }
        }
    }
}
