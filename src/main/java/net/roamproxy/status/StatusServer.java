package net.roamproxy.status;

import java.io.IOException;
import java.io.InputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import net.roamproxy.session.MemoryBudget;

/**
 * Serves {@code --status} on a Unix domain socket (no network port), for the daemon's user,
 * root and, under systemd, the group roamproxy: the socket is mode 0660, in a directory of
 * mode 0700 when the daemon makes it (only its user gets in) or 0750 as the units have
 * systemd make /run/roamproxy (the group gets in too). A client
 * writes one line, {@code text} or {@code json}, and reads the report until the end of the
 * stream. Also logs a one-line summary every {@value #SUMMARY_MINUTES} minutes while sessions
 * exist.
 *
 * <p>Threads: {@code <daemon>-status} answers requests one at a time (a report is a few
 * kilobytes; a client that does not read is cut off by its socket buffer's size and the
 * request timeout). Lifecycle: {@link #start} once, {@link #close} any time.
 */
public final class StatusServer implements AutoCloseable {
    private static final Logger log = LogManager.getLogger(StatusServer.class);
    static final long SUMMARY_MINUTES = 10;
    private static final int MAX_REQUEST = 16;

    private final String daemon;
    private final Path path;
    private final Supplier<List<Row>> rows;
    /** The daemon's buffer budget, reported in the header; {@code null}: none to report. */
    private final MemoryBudget budget;
    private volatile boolean closed;
    private ServerSocketChannel channel;
    private final ScheduledExecutorService timer =
            Executors.newSingleThreadScheduledExecutor(r -> {
                Thread t = new Thread(r, "status-summary");
                t.setDaemon(true);
                return t;
            });
    private final long summaryNanos;
    private long lastSummary = System.nanoTime();
    private int resumesAtLastSummary;

    public StatusServer(String daemon, Path path, Supplier<List<Row>> rows) {
        this(daemon, path, rows, null);
    }

    public StatusServer(String daemon, Path path, Supplier<List<Row>> rows, MemoryBudget budget) {
        this(daemon, path, rows, budget, TimeUnit.MINUTES.toNanos(SUMMARY_MINUTES));
    }

    /** For tests: a summary every {@code summaryNanos}. */
    StatusServer(String daemon, Path path, Supplier<List<Row>> rows, long summaryNanos) {
        this(daemon, path, rows, null, summaryNanos);
    }

    private StatusServer(String daemon, Path path, Supplier<List<Row>> rows, MemoryBudget budget, long summaryNanos) {
        this.daemon = daemon;
        this.path = path;
        this.rows = rows;
        this.budget = budget;
        this.summaryNanos = summaryNanos;
    }

    /**
     * A started status server, or {@code null} with a WARN if it cannot start: status is for
     * operators, and its failure must not stop the daemon.
     */
    public static StatusServer startOrWarn(String daemon, Path path, Supplier<List<Row>> rows) {
        return startOrWarn(daemon, path, rows, null);
    }

    /** {@link #startOrWarn(String, Path, Supplier)} that also reports {@code budget}. */
    public static StatusServer startOrWarn(String daemon, Path path, Supplier<List<Row>> rows, MemoryBudget budget) {
        StatusServer s = new StatusServer(daemon, path, rows, budget);
        try {
            s.start();
            return s;
        } catch (IOException | RuntimeException e) {
            log.warn("{}: no status socket at {} ({}); {} --status will not find this daemon", daemon, path,
                    e.getMessage(), daemon);
            s.close();
            return null;
        }
    }

    /** Binds the socket (replacing a stale one left by a daemon that died) and starts answering. */
    public void start() throws IOException {
        Path dir = path.toAbsolutePath().getParent();
        if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        }
        if (Files.exists(path)) {
            if (StatusClient.answers(path)) {
                throw new IOException("another " + daemon + " already answers on " + path);
            }
            Files.delete(path);
        }
        ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.bind(UnixDomainSocketAddress.of(path));
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-rw----"));
        } catch (IOException e) {
            ch.close();
            throw e;
        }
        channel = ch;
        Thread thread = new Thread(this::serve, daemon + "-status");
        thread.setDaemon(true);
        thread.start();
        timer.scheduleWithFixedDelay(this::summaryIfDue, 1, 1, TimeUnit.MINUTES);
        log.info("{} status: {} --status (socket {})", daemon, daemon, path);
    }

    private void serve() {
        while (!closed) {
            try (SocketChannel c = channel.accept()) {
                InputStream in = Channels.newInputStream(c);
                byte[] req = new byte[MAX_REQUEST];
                int n = 0;
                int b;
                while (n < req.length && (b = in.read()) >= 0 && b != '\n') {
                    req[n++] = (byte) b;
                }
                String what = new String(req, 0, n, StandardCharsets.US_ASCII).trim();
                List<Row> now = rows.get();
                StatusReport.Memory m = budget == null ? null : new StatusReport.Memory(budget.inUse(), budget.limit());
                String report = what.equals("json") ? StatusReport.json(daemon, now, m) : StatusReport.text(daemon, now, m);
                c.write(ByteBuffer.wrap(report.getBytes(StandardCharsets.UTF_8)));
            } catch (IOException e) {
                if (closed) {
                    return;
                }
                log.debug("{} status request failed: {}", daemon, e.getMessage());
            }
        }
    }

    /** Logs the summary if {@value #SUMMARY_MINUTES} minutes passed since the last one (timer thread). */
    void summaryIfDue() {
        long now = System.nanoTime();
        if (now - lastSummary < summaryNanos) {
            return;
        }
        lastSummary = now;
        List<Row> all = rows.get();
        int resumes = all.stream().mapToInt(r -> r.session().resumes()).sum();
        if (!all.isEmpty()) {
            long linked = all.stream().filter(r -> r.session().linkPeer() != null).count();
            log.info("{}: {} sessions, {} linked, {} without a link; {} resumes since the last summary", daemon,
                    all.size(), linked, all.size() - linked, Math.max(0, resumes - resumesAtLastSummary));
        }
        resumesAtLastSummary = resumes;
    }

    @Override
    public void close() {
        closed = true;
        timer.shutdownNow();
        try {
            if (channel != null) {
                channel.close();
                Files.deleteIfExists(path);
            }
        } catch (IOException e) {
            log.debug("{} status socket: {}", daemon, e.getMessage());
        }
    }
}
