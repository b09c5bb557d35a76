package net.roamproxy.e2e;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * End to end, as an attacker on the client's network sees roamproxy: {@code tcpdump} records
 * the client's link during the login and an address change, and a third host replays the
 * recorded resume to sproxy. Real inetd + telnetd, a real telnet on a pty running ping, the
 * packaged {@code bin/cproxy} and {@code bin/sproxy}, three network namespaces. Each test runs
 * one scenario of {@code src/test/e2e/security_e2e.py} (see its header), streams its output
 * here and requires exit status 0.
 *
 * <p>Skipped unless running as root. As root, a missing tool or a missing packaged tree is a
 * failure, not a skip.
 */
class SecurityIT {
    /** Upper bound per scenario; the harness caps itself at 150 s and cleans up on SIGTERM. */
    private static final long SCENARIO_LIMIT_SECONDS = 180;
    private static final long CLEANUP_GRACE_SECONDS = 30;
    private static final int TAIL_LINES = 80;

    private static Path dist;
    private static Path harness;

    @BeforeAll
    static void requireRootToolsAndPackagedTree() throws IOException {
        assumeTrue(effectiveUid() == 0,
                "end-to-end tests need root (network namespaces, inetd on port 23, tcpdump); skipped");

        List<String> missing = new ArrayList<>();
        for (String tool : List.of("python3", "ip", "ss", "inetd", "telnet", "ping", "setsid",
                "unshare", "mount", "sh", "tcpdump")) {
            if (!onPath(tool)) {
                missing.add(tool);
            }
        }
        if (!onPath("telnetd") && !onPath("in.telnetd")) {
            missing.add("telnetd");
        }
        assertTrue(missing.isEmpty(), "running as root but the end-to-end security tests need " + missing
                + " on PATH; on Debian: apt-get install -y telnetd openbsd-inetd telnet"
                + " iputils-ping iproute2 util-linux python3 tcpdump");

        String distProperty = System.getProperty("roamproxy.dist");
        String basedirProperty = System.getProperty("roamproxy.basedir");
        assertTrue(distProperty != null && basedirProperty != null,
                "system properties roamproxy.dist and roamproxy.basedir must be set (failsafe does)");
        dist = Path.of(distProperty).toAbsolutePath();
        harness = Path.of(basedirProperty, "src", "test", "e2e", "security_e2e.py").toAbsolutePath();
        assertTrue(Files.isExecutable(dist.resolve("bin/cproxy")) && Files.isExecutable(dist.resolve("bin/sproxy")),
                "no packaged tree with bin/cproxy and bin/sproxy at " + dist + " (run mvn package)");
        assertTrue(Files.isRegularFile(harness), "end-to-end harness missing: " + harness);
        assertTrue(Files.isRegularFile(harness.resolveSibling("roam_e2e.py")),
                "security_e2e.py builds on roam_e2e.py, which is missing beside it");
    }

    /**
     * Default settings: the resume cproxy sent after the address change, recorded with tcpdump
     * and replayed twice from a third host (step by step, then all at once), gets a fresh
     * CHALLENGE and WELCOME BAD_PROOF, one WARN naming the attacker, and leaves the live link
     * alone; ping in telnet shows every icmp_seq exactly once. The capture shows the typed
     * marker and the ping output in clear (the control for the TLS test).
     */
    @Test
    void resumeRecordedOnTheWireAndReplayedFromAThirdHostIsRefusedWhilePingStaysGapless() throws Exception {
        runScenario("replay");
    }

    /**
     * With --tls on both sides: the capture of the link holds neither the typed marker nor any
     * ping output, while the same check finds both on the client's loopback; the recorded resume
     * connection replayed from a third host fails sproxy's TLS handshake, and ping in telnet
     * shows every icmp_seq exactly once.
     */
    @Test
    void withTlsTheLinkCaptureHoldsNoPlaintextAndAReplayedResumeFailsTheTlsHandshake() throws Exception {
        runScenario("tls");
    }

    private static void runScenario(String scenario) throws Exception {
        ProcessBuilder pb = new ProcessBuilder("python3", "-u", harness.toString(),
                "--dist", dist.toString(), scenario)
                .directory(harness.getParent().toFile())
                .redirectErrorStream(true);
        String prefix = "[e2e-security " + scenario + "] ";
        Process process = pb.start();
        process.getOutputStream().close();
        Deque<String> tail = new ArrayDeque<>();
        Thread pump = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(
                    new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    System.out.println(prefix + line);
                    synchronized (tail) {
                        tail.addLast(line);
                        if (tail.size() > TAIL_LINES) {
                            tail.removeFirst();
                        }
                    }
                }
            } catch (IOException e) {
                System.out.println(prefix + "(output stream ended: " + e + ")");
            }
        }, "e2e-security-" + scenario + "-output");
        pump.setDaemon(true);
        pump.start();

        boolean finished = process.waitFor(SCENARIO_LIMIT_SECONDS, TimeUnit.SECONDS);
        if (!finished) {
            process.destroy(); // SIGTERM: the harness removes its namespaces and processes
            if (!process.waitFor(CLEANUP_GRACE_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        }
        pump.join(TimeUnit.SECONDS.toMillis(10));
        String lastLines;
        synchronized (tail) {
            lastLines = String.join(System.lineSeparator(), tail);
        }
        if (!finished) {
            fail("scenario " + scenario + " did not finish within " + SCENARIO_LIMIT_SECONDS
                    + " s; last output:" + System.lineSeparator() + lastLines);
        }
        assertEquals(0, process.exitValue(), () -> "scenario " + scenario + " failed (exit "
                + process.exitValue() + "); last output:" + System.lineSeparator() + lastLines);
    }

    private static boolean onPath(String tool) {
        String path = System.getenv("PATH");
        if (path == null) {
            return false;
        }
        for (String dir : path.split(java.io.File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
                return true;
            }
        }
        return false;
    }

    /** Effective uid from /proc/self/status ("Uid: real effective saved fs"); -1 if unknown. */
    private static long effectiveUid() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("Uid:")) {
                    return Long.parseLong(line.substring(4).trim().split("\\s+")[1]);
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
