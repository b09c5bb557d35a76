package net.roamproxy.trust;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import net.roamproxy.wire.HostKey;

/**
 * The known-servers file: read, changed and renamed over under a lock, so that cproxy threads
 * and processes recording servers at once all keep their lines; mode 0600.
 */
@Timeout(60)
class KnownServersTest {
    private static final int PER_WRITER = 25;

    @TempDir Path dir;

    private static String fingerprint(int i) {
        byte[] key = new byte[32];
        key[0] = (byte) i;
        key[1] = (byte) (i >> 8);
        return HostKey.fingerprint(key);
    }

    /** Records {@value #PER_WRITER} servers named {@code PREFIX-N:6200} in FILE: a second process. */
    public static void main(String[] args) throws IOException {
        KnownServers known = new KnownServers(Path.of(args[0]));
        for (int i = 0; i < PER_WRITER; i++) {
            known.recordIfNew(args[1] + "-" + i + ":6200", fingerprint(i));
        }
    }

    private static List<String> servers(Path file) throws IOException {
        List<String> out = new ArrayList<>();
        for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
            if (!line.startsWith("#")) {
                out.add(line.split(" ")[0]);
            }
        }
        return out;
    }

    @Test
    void threadsRecordingDifferentServersAtOnceAllKeepTheirLines() throws Exception {
        Path file = dir.resolve("state/known_host_keys");
        int writers = 4;
        CountDownLatch go = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(writers);
        try {
            List<Future<?>> done = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                String prefix = "t" + w;
                // One instance each, as separate ServerTrusts for one file have.
                KnownServers known = new KnownServers(file);
                done.add(pool.submit(() -> {
                    go.await();
                    for (int i = 0; i < PER_WRITER; i++) {
                        assertEquals(fingerprint(i), known.recordIfNew(prefix + "-" + i + ":6200", fingerprint(i)));
                    }
                    return null;
                }));
            }
            go.countDown();
            for (Future<?> f : done) {
                f.get();
            }
        } finally {
            pool.shutdownNow();
        }

        List<String> servers = servers(file);
        assertEquals(writers * PER_WRITER, servers.size(), "every line kept, none twice: " + servers);
        assertEquals(writers * PER_WRITER, servers.stream().distinct().count(), servers.toString());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(file)));
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(
                file.resolveSibling("known_host_keys.lock"))));
        try (Stream<Path> left = Files.list(file.getParent())) {
            assertEquals(List.of("known_host_keys", "known_host_keys.lock"),
                    left.map(p -> p.getFileName().toString()).sorted().toList(), "no temporary file left");
        }
    }

    @Test
    void processesRecordingDifferentServersAtOnceAllKeepTheirLines() throws Exception {
        Path file = dir.resolve("known_host_keys");
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<Process> writers = new ArrayList<>();
        try {
            for (String prefix : new String[] {"p0", "p1", "p2"}) {
                writers.add(new ProcessBuilder(java, "-XX:TieredStopAtLevel=1", "-XX:-UsePerfData",
                        "-Dlog4j2.level=OFF", "-cp", System.getProperty("java.class.path"),
                        KnownServersTest.class.getName(), file.toString(), prefix)
                        .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectErrorStream(true).start());
            }
            new KnownServers(file).recordIfNew("this-process:6200", fingerprint(7));
            for (Process p : writers) {
                assertEquals(0, p.waitFor(), "the writer process failed");
            }
        } finally {
            writers.forEach(Process::destroyForcibly);
        }

        List<String> servers = servers(file);
        assertEquals(3 * PER_WRITER + 1, servers.size(), "every line kept: " + servers);
        assertTrue(servers.contains("this-process:6200") && servers.contains("p2-" + (PER_WRITER - 1) + ":6200"),
                servers.toString());
        assertEquals(3 * PER_WRITER + 1, servers.stream().distinct().count(), servers.toString());
    }

    @Test
    void aServerAlreadyRecordedKeepsItsFirstKey() throws Exception {
        Path file = dir.resolve("known_host_keys");
        KnownServers known = new KnownServers(file);

        assertEquals(fingerprint(1), known.recordIfNew("a:6200", fingerprint(1)));
        assertEquals(fingerprint(1), new KnownServers(file).recordIfNew("a:6200", fingerprint(2)));
        assertEquals(fingerprint(1), known.lookup("a:6200"));
    }
}
