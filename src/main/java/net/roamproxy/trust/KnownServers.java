package net.roamproxy.trust;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;

import net.roamproxy.wire.HostKey;

/**
 * cproxy's record of the sproxy host keys it has trusted on first use, like ssh's known_hosts:
 * one {@code SERVER:PORT SHA256:...} per line, {@code #} comments. A server is named as cproxy
 * is told to reach it (a host name stays one entry whether it resolves to IPv4 or IPv6).
 * Each change is read, modified and written under an exclusive lock on a sibling
 * {@code .lock} file, and the new file (mode 0600) renamed over the old one at once, so two
 * cproxy processes (or sessions) recording at once both keep their line and a reader never
 * sees half a file. Without a file, it remembers in memory, for this process only. Thread-safe.
 */
final class KnownServers {
    /** The file, or {@code null} to remember in {@link #memory}. */
    private final Path file;
    private final Map<String, String> memory = new HashMap<>();
    /** One lock per lock file for this process's threads: see {@link #recordIfNew}. */
    private static final Map<Path, ReentrantLock> IN_PROCESS = new ConcurrentHashMap<>();

    KnownServers(Path file) {
        this.file = file;
    }

    Path file() {
        return file;
    }

    /** The fingerprint recorded for {@code server}, or {@code null}. */
    synchronized String lookup(String server) throws IOException {
        return read().get(server);
    }

    /**
     * Records {@code fingerprint} for {@code server} unless the file already names one.
     *
     * @return the fingerprint now recorded for {@code server}: {@code fingerprint}, or the
     *         one recorded before
     */
    synchronized String recordIfNew(String server, String fingerprint) throws IOException {
        if (file == null) {
            return memory.computeIfAbsent(server, k -> fingerprint);
        }
        Files0600.createParent(file);
        Path lockFile = file.toAbsolutePath().resolveSibling(file.getFileName() + ".lock");
        // A FileLock is held by the whole JVM: a second one on the same file from this process
        // throws instead of waiting. So threads of this process (other instances for the same
        // file included) take turns on a lock of their own first, and the FileLock keeps other
        // processes out.
        ReentrantLock inProcess = IN_PROCESS.computeIfAbsent(lockFile, k -> new ReentrantLock());
        inProcess.lock();
        try (FileChannel ch = FileChannel.open(lockFile, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
             FileLock ignored = ch.lock()) {
            Map<String, String> known = read();
            String before = known.get(server);
            if (before != null) {
                return before;
            }
            StringBuilder text = new StringBuilder();
            if (known.isEmpty() && !Files.exists(file)) {
                text.append("# sproxy host keys cproxy trusts: SERVER:PORT SHA256:fingerprint (see cproxy --help)\n");
            } else {
                text.append(Files.readString(file, StandardCharsets.UTF_8));
                if (text.length() > 0 && text.charAt(text.length() - 1) != '\n') {
                    text.append('\n');
                }
            }
            text.append(server).append(' ').append(fingerprint).append('\n');
            Files0600.write(file, text.toString().getBytes(StandardCharsets.UTF_8));
            return fingerprint;
        } finally {
            inProcess.unlock();
        }
    }

    private Map<String, String> read() throws IOException {
        if (file == null) {
            return memory;
        }
        Map<String, String> known = new LinkedHashMap<>();
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return known;
        }
        int n = 0;
        for (String line : lines) {
            n++;
            String t = line.strip();
            if (t.isEmpty() || t.startsWith("#")) {
                continue;
            }
            String[] parts = t.split("\\s+");
            if (parts.length != 2 || !HostKey.validFingerprint(parts[1])) {
                throw new IOException(file + ":" + n + ": expected 'SERVER:PORT SHA256:...', got '" + t + "'");
            }
            known.putIfAbsent(parts[0], parts[1]);
        }
        return known;
    }
}
