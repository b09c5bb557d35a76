package net.roamproxy.status;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import net.roamproxy.stream.MemoryBudget;
import net.roamproxy.trust.PrivateFiles;

/**
 * Serves {@code --status} on a Unix domain socket (no network port), for the daemon's user,
 * root and, under systemd, the group roamproxy: the socket is mode 0660, in a directory of
 * mode 0700 when the daemon makes it (only its user gets in) or 0750 as the units have
 * systemd make /run/roamproxy (the group gets in too). A client
 * writes one line, {@code text} or {@code json}, and reads the report until the end of the
 * stream. Also logs a one-line summary every {@value #SUMMARY_MINUTES} minutes while sessions
 * exist.
 *
 * <p>Threads: {@code <daemon>-status} accepts; each request is answered on a short-lived
 * {@code <daemon>-status-answer} thread, at most {@value #AT_ONCE} at once (a fifth client
 * waits in the socket's backlog until one is done). Each must send its request line within
 * {@link #TIMEOUT} of being accepted, and then keep taking the report (no pause of
 * {@link #TIMEOUT}), all of it within {@link StatusClient#WITHIN}, or is cut off: a client
 * that connects and sends or reads nothing holds one thread for a few seconds, never the
 * others' answers. Lifecycle: {@link #start} once, {@link #close} any time.
 */
public final class StatusServer implements AutoCloseable {
    private static final Logger log = LogManager.getLogger(StatusServer.class);
    static final long SUMMARY_MINUTES = 10;
    private static final int MAX_REQUEST = 16;
    /** How long a client has to send its request, and at most to pause while taking the report. */
    static final Duration TIMEOUT = Duration.ofSeconds(2);
    /** Requests answered at once: enough for people and scripts, too few to matter if all hang. */
    static final int AT_ONCE = 4;

    private final String daemon;
    private final Path path;
    private final Supplier<List<Row>> rows;
    /** The daemon's buffer budget, reported in the header; {@code null}: none to report. */
    private final MemoryBudget budget;
    private volatile boolean closed;
    private ServerSocketChannel channel;
    private Thread acceptor;
    private final Semaphore answering = new Semaphore(AT_ONCE);
    private final Duration timeout;
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

    /** With the daemon's buffer budget, which the report's header shows. */
    public StatusServer(String daemon, Path path, Supplier<List<Row>> rows, MemoryBudget budget) {
        this(daemon, path, rows, budget, TimeUnit.MINUTES.toNanos(SUMMARY_MINUTES), TIMEOUT);
    }

    /** For tests: a summary every {@code summaryNanos}, and {@code timeout} for a client's request and answer. */
    StatusServer(String daemon, Path path, Supplier<List<Row>> rows, long summaryNanos, Duration timeout) {
        this(daemon, path, rows, null, summaryNanos, timeout);
    }

    private StatusServer(String daemon, Path path, Supplier<List<Row>> rows, MemoryBudget budget, long summaryNanos,
                         Duration timeout) {
        this.daemon = daemon;
        this.path = path;
        this.rows = rows;
        this.budget = budget;
        this.summaryNanos = summaryNanos;
        this.timeout = timeout;
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

    /**
     * Binds the socket (replacing a stale one left by a daemon that died) and starts answering.
     *
     * @throws RuntimeDir.Refused if the directory is one another user could have made or changed
     */
    public void start() throws IOException {
        RuntimeDir.prepare(path.toAbsolutePath().getParent());
        if (Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            if (StatusClient.answers(path)) {
                throw new IOException("another " + daemon + " already answers on " + path);
            }
            Files.delete(path); // the link itself, should it be one
        }
        // Bound under a name of its own, given its mode, then renamed into place: the socket is
        // never found at its path with the mode bind() gave it (from the umask) before 0660.
        Path fresh = path.resolveSibling(path.getFileName() + "." + ProcessHandle.current().pid() + ".new");
        ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            Files.deleteIfExists(fresh);
            ch.bind(UnixDomainSocketAddress.of(fresh));
            allowGroup(fresh);
            Files.move(fresh, path, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException | RuntimeException e) {
            ch.close();
            Files.deleteIfExists(fresh);
            throw e;
        }
        channel = ch;
        acceptor = new Thread(this::serve, daemon + "-status");
        acceptor.setDaemon(true);
        acceptor.start();
        timer.scheduleWithFixedDelay(this::summaryIfDue, 1, 1, TimeUnit.MINUTES);
        log.info("{} status: {} --status (socket {})", daemon, daemon, path);
    }

    /**
     * Gives the socket bind() just made mode 0660. Java changes a socket's mode only through
     * chmod, which follows a link: with NOFOLLOW_LINKS it opens the file, which a socket does
     * not allow. That is safe because nobody but this user (and root) may write in the
     * directory, so nobody can swap a link in between: RuntimeDir.prepare made sure of that where
     * other users could have made the directory, and elsewhere it is systemd's or the user's
     * own. lstat checks it all the same, so that a surprise fails rather than chmods elsewhere.
     */
    private static void allowGroup(Path socket) throws IOException {
        PrivateFiles.Attributes a = PrivateFiles.attributes(socket, LinkOption.NOFOLLOW_LINKS);
        if (a != null && (!a.isSocket() || a.uid() != PrivateFiles.uid())) {
            throw new IOException(socket + " is not the socket just made");
        }
        Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw----"));
    }

    private void serve() {
        while (!closed) {
            try {
                answering.acquire();
            } catch (InterruptedException e) {
                return; // closed
            }
            SocketChannel c;
            try {
                c = channel.accept();
            } catch (IOException e) {
                answering.release();
                if (closed) {
                    return;
                }
                log.debug("{} status: accept failed: {}", daemon, e.getMessage());
                continue;
            }
            try {
                Thread t = new Thread(() -> answer(c), daemon + "-status-answer");
                t.setDaemon(true);
                t.start();
            } catch (RuntimeException | OutOfMemoryError e) { // no thread to be had: this client goes unanswered
                answering.release();
                closeQuietly(c);
                log.debug("{} status: no thread to answer: {}", daemon, e.toString());
            }
        }
    }

    /**
     * Reads one request within {@link #timeout} and writes the report, which the client must
     * keep taking (no pause of {@link #timeout}), all of it within the time a client waits
     * ({@link StatusClient#WITHIN}). On its own thread.
     */
    private void answer(SocketChannel c) {
        try (TimedChannel t = new TimedChannel(c)) {
            String what = t.within(timeout).readLine(MAX_REQUEST).trim();
            List<Row> now = rows.get();
            StatusReport.Memory m = budget == null ? null : new StatusReport.Memory(budget.inUse(), budget.limit());
            String report = what.equals("json") ? StatusReport.json(daemon, now, m) : StatusReport.text(daemon, now, m);
            t.writeAll(ByteBuffer.wrap(report.getBytes(StandardCharsets.UTF_8)), timeout, StatusClient.WITHIN);
        } catch (IOException e) {
            log.debug("{} status request failed: {}", daemon, e.getMessage());
        } finally {
            answering.release();
        }
    }

    private static void closeQuietly(SocketChannel c) {
        try {
            c.close();
        } catch (IOException e) {
            // gone already
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
        if (acceptor != null) {
            acceptor.interrupt(); // should it wait for a free answering thread
        }
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
