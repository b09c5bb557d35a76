package net.roamproxy.link;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.Collection;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import net.roamproxy.protocol.Frame;
import net.roamproxy.protocol.FrameType;
import net.roamproxy.protocol.ProtocolException;
import net.roamproxy.protocol.Welcome;
import net.roamproxy.protocol.Wire;
import net.roamproxy.session.InboundStream;
import net.roamproxy.session.Liveness;
import net.roamproxy.session.OutboundStream;
import net.roamproxy.session.SessionClosedException;

/**
 * One session: relays an application socket over a succession of links. Used by both proxies;
 * only the {@link LinkProvider} differs.
 *
 * <p>Two threads of its own and two jobs on the shared {@link IoPool}, so that no blocking
 * call can stop another duty:
 * <ul>
 *   <li><b>worker</b> (thread): the select-like loop. Reads frames from the current link with
 *       a socket timeout no longer than the next heartbeat or liveness deadline, requests
 *       heartbeats, detects a lost link and obtains the next one. It never writes to a socket,
 *       so a stuck write can never stop failure detection.</li>
 *   <li><b>app reader</b> (thread): application to replay buffer; blocks when the window is
 *       full, which is the backpressure that keeps memory bounded. When the link is free it
 *       also sends the bytes itself, sparing a thread hand-off per keystroke.</li>
 *   <li><b>send</b> (job): sends what is owed on the link: WELCOME, unsent data (after a new
 *       link: replay from the peer's ack), CLOSE, heartbeats and acks. If its write is stuck,
 *       the worker still sees the peer go silent and closes the link, which unblocks it.</li>
 *   <li><b>deliver</b> (job): receive queue to application; a stalled application blocks only
 *       this job's pool thread and fills the queue, whose size the peer respects, so the link
 *       stays healthy.</li>
 * </ul>
 * Every link write happens under the send lock, so frames leave in stream order. The session
 * ends once both CLOSEs are exchanged and all received bytes reached the application, or
 * through {@link #close(String)} for final failures and shutdown.
 */
public final class Relay {
    private static final Logger log = LogManager.getLogger(Relay.class);
    /** Per-thread buffer size of an idle session; grown in steps to a full frame under bulk reads. */
    private static final int SMALL_BUFFER = 4096;
    /** A thread with nothing to do for this long gives its bulk-sized buffer back. */
    private static final int IDLE_MILLIS = 1000;

    private final Socket app;
    private final LinkSettings settings;
    private final LinkProvider provider;
    private final Consumer<Relay> onClosed;
    private final LongSupplier clock;
    private final OutboundStream out;
    private final InboundStream in;
    /** Held by whoever writes the link (send job, app reader); taken by the worker to swap links safely. */
    private final ReentrantLock sendLock = new ReentrantLock();
    private final AtomicBoolean heartbeatRequested = new AtomicBoolean();
    private final AtomicBoolean closed = new AtomicBoolean();
    private final CountDownLatch finished = new CountDownLatch(1);
    private final String threadPrefix;

    private volatile String name;
    private volatile Link link;
    /** Guarded by sendLock: the WELCOME owed to the current link. */
    private Welcome pendingReply;
    private volatile boolean closeSent;
    private volatile boolean appWriterDone;
    private volatile long detachedAt;
    /** Worker-only: whether any link was attached yet. */
    private boolean everAttached;
    /** Whether any frame ever came from the peer after its first handshake. */
    private volatile boolean heardFromPeer;
    private volatile String closeReason;
    private final SerialJob sendJob = new SerialJob(IoPool.POOL, this::sendAll);
    private final SerialJob deliverJob = new SerialJob(IoPool.POOL, this::deliver);
    private OutputStream appOut;
    /** Deliver-job only: writing to the application failed; its bytes are dropped but still acked. */
    private boolean appGone;
    private Thread worker;

    public Relay(String name, String threadPrefix, Socket app, LinkSettings settings, LinkProvider provider,
                 Consumer<Relay> onClosed) {
        this.name = name;
        this.threadPrefix = threadPrefix;
        this.app = app;
        this.settings = settings;
        this.provider = provider;
        this.onClosed = onClosed;
        this.clock = System::nanoTime;
        this.out = new OutboundStream(settings.bufferBytes());
        this.in = new InboundStream(settings.bufferBytes());
        this.detachedAt = clock.getAsLong();
    }

    /** Starts the session's threads. */
    public void start() throws IOException {
        Sockets.tune(app);
        InputStream appIn = app.getInputStream();
        appOut = app.getOutputStream();
        worker = thread("link", this::workerLoop);
        thread("app-in", () -> appReadLoop(appIn));
    }

    private Thread thread(String role, Runnable body) {
        Thread t = new Thread(body, threadPrefix + "-" + role);
        t.setDaemon(true);
        t.start();
        return t;
    }

    // ---------------------------------------------------------------- worker

    private void workerLoop() {
        try {
            while (!closed.get()) {
                if (appWriterDone) {
                    // Everything the peer sent was delivered; only our CLOSE was lost with the link.
                    close("both sides closed the connection (the last link dropped before our CLOSE)");
                    return;
                }
                Attachment a = provider.next(this);
                if (a == null) {
                    close("no link to the peer can be made");
                    return;
                }
                if (attach(a)) {
                    runLink(a.link());
                }
                detach(a.link());
            }
        } catch (InterruptedException e) {
            close("shutting down");
        } catch (ProtocolException e) {
            close("protocol error: " + e.getMessage());
        } catch (RuntimeException e) {
            log.error("{}: unexpected failure", name, e);
            close("internal error: " + e);
        }
    }

    /** Makes {@code a} the current link; replay starts at the peer's ack. */
    private boolean attach(Attachment a) throws ProtocolException {
        sendLock.lock();
        try {
            if (closed.get()) {
                return false;
            }
            long resend = out.rewind(a.peerAck(), a.peerWindow());
            pendingReply = a.reply();
            link = a.link();
            if (!everAttached) {
                everAttached = true;
                log.info("{}: started over link {} -> {}", name, a.link().local(), a.link().peer());
            } else {
                log.info("{}: resumed over link {} -> {} after {} ms away; resending {} bytes the peer missed, "
                                + "asking it to resend from offset {}", name, a.link().local(), a.link().peer(),
                        (clock.getAsLong() - detachedAt) / 1_000_000, resend, in.delivered());
            }
        } finally {
            sendLock.unlock();
        }
        sendJob.request();
        return true;
    }

    private void runLink(Link l) {
        Liveness live = new Liveness(settings.heartbeatInterval().toNanos(), settings.missedHeartbeats(),
                clock.getAsLong());
        while (!closed.get()) {
            long now = clock.getAsLong();
            if (live.peerLost(now)) {
                log.info("{}: link {} lost: no frame for {} ms ({} heartbeats missed); keeping the session",
                        name, l.peer(), live.millisSinceLastFrame(now), settings.missedHeartbeats());
                return;
            }
            if (live.heartbeatDue(now)) {
                live.heartbeatSent(now);
                heartbeatRequested.set(true);
                sendJob.request();
                out.shrinkIfIdle();
                in.shrinkIfIdle();
            }
            if (provider.hasWaiting()) {
                log.info("{}: link {} replaced by a newer one", name, l.peer());
                return;
            }
            Wire.Header f;
            try {
                f = l.readInPlace(live.millisUntilNextEvent(now));
            } catch (SocketTimeoutException e) {
                continue;
            } catch (ProtocolException e) {
                log.warn("{}: dropping link {}: {}", name, l.peer(), e.getMessage());
                return;
            } catch (IOException e) {
                if (!closed.get() && !provider.hasWaiting()) {
                    String why = l.abortReason() != null ? l.abortReason() : e.getMessage();
                    log.info("{}: link {} lost: {} ({} ms since its last frame); keeping the session",
                            name, l.peer(), why, live.millisSinceLastFrame(clock.getAsLong()));
                }
                return;
            }
            live.frameReceived(clock.getAsLong());
            heardFromPeer = true;
            try {
                handle(f, l);
            } catch (ProtocolException e) {
                log.warn("{}: dropping link {}: {}", name, l.peer(), e.getMessage());
                return;
            }
            if (l.isClosed()) {
                return;
            }
        }
    }

    private void handle(Wire.Header f, Link l) throws ProtocolException {
        if (log.isTraceEnabled()) {
            log.trace("{} << {} seq={} ack={} len={}", name, f.type(), f.seq(), f.ack(), f.length());
        }
        out.ack(f.ack());
        if (out.sendable() > 0) {
            sendJob.request(); // the ack opened the peer's window
        }
        switch (f.type()) {
            case DATA -> {
                if (in.accept(f.seq(), l.payloadArray(), l.payloadOffset(), f.length()) > 0) {
                    deliverJob.request();
                }
            }
            case CLOSE -> {
                log.info("{}: peer closed its side after {} bytes", name, f.seq());
                in.peerFinished(f.seq());
                deliverJob.request();
            }
            case HEARTBEAT, ACK -> {
                // the ack above is all they carry
            }
            default -> throw new ProtocolException("unexpected " + f.type() + " on an established link");
        }
    }

    /** Closes the link and waits for its writer to let go of it, so the next attach starts clean. */
    private void detach(Link l) {
        l.close();
        sendLock.lock();
        try {
            if (link == l) {
                link = null;
                detachedAt = clock.getAsLong();
            }
        } finally {
            sendLock.unlock();
        }
    }

    // ---------------------------------------------------------------- send job

    private void sendAll() {
        byte[] frame = IoPool.FRAME.get();
        do {
            sendLock.lock();
        } while (sendLocked(frame));
    }

    /**
     * The app reader's fast path: sends what it just buffered if nobody else is writing the
     * link. Otherwise the writer may already be past its data, so the send job picks it up.
     */
    private void sendNow(byte[] frame) {
        if (sendLock.tryLock()) {
            sendLocked(frame);
        } else {
            sendJob.request();
        }
    }

    /**
     * Sends whatever is owed on the current link; the caller holds the send lock, which this
     * releases.
     *
     * @return true if it did any work
     */
    private boolean sendLocked(byte[] frame) {
        Link l = link;
        try {
            if (l == null) {
                return false;
            }
            boolean worked = false;
            if (pendingReply != null) {
                Welcome r = pendingReply;
                pendingReply = null;
                l.send(new Frame(FrameType.WELCOME, out.sendCursor(), in.ackToSend(), r.encode()));
                worked = true;
            }
            int n;
            while ((n = out.drainTo(frame, Wire.HEADER_SIZE, frame.length - Wire.HEADER_SIZE)) > 0) {
                long seq = out.lastDrainOffset();
                Wire.writeHeader(frame, FrameType.DATA, n, seq, in.ackToSend());
                l.send(frame, 0, Wire.HEADER_SIZE + n);
                worked = true;
            }
            if (out.takeCloseDue()) {
                l.send(Frame.control(FrameType.CLOSE, out.sendCursor(), in.ackToSend()));
                closeSent = true;
                worked = true;
            } else if (heartbeatRequested.getAndSet(false)) {
                l.send(Frame.control(FrameType.HEARTBEAT, out.sendCursor(), in.ackToSend()));
            } else if (in.ackDue()) {
                l.send(Frame.control(FrameType.ACK, out.sendCursor(), in.ackToSend()));
            }
            return worked;
        } catch (IOException e) {
            // The worker sees the dead link too (it may already be closed); data stays buffered for replay.
            log.debug("{}: send on {} failed: {}", name, l.peer(), e.getMessage());
            l.close();
            return false;
        } finally {
            sendLock.unlock();
            finishIfDone();
        }
    }

    // ---------------------------------------------------------------- application side

    private void appReadLoop(InputStream appIn) {
        byte[] buf = new byte[SMALL_BUFFER];
        byte[] frame = new byte[Wire.HEADER_SIZE + SMALL_BUFFER];
        int fullReads = 0;
        String why = "application closed its connection";
        try {
            while (true) {
                int n;
                try {
                    n = appIn.read(buf);
                } catch (SocketTimeoutException e) {
                    // Idle for a while after bulk data (the timeout is only set then): shrink.
                    buf = small(buf, SMALL_BUFFER);
                    frame = small(frame, Wire.HEADER_SIZE + SMALL_BUFFER);
                    app.setSoTimeout(0);
                    continue;
                }
                if (n < 0) {
                    break;
                }
                out.append(buf, 0, n);
                sendNow(frame);
                fullReads = n == buf.length ? fullReads + 1 : 0;
                if (fullReads == 2 && buf.length < Wire.MAX_DATA) {
                    // Reads that keep filling the buffer mean bulk data: grow in steps (4, 16,
                    // 64 KiB). One full read is not enough (a paste of a few KiB), so typing does
                    // not cost a session a full frame here and a frame-sized direct buffer in the
                    // JDK's per-thread I/O cache.
                    fullReads = 0;
                    int size = Math.min(Wire.MAX_DATA, 4 * buf.length);
                    buf = new byte[size];
                    frame = new byte[Wire.HEADER_SIZE + size];
                    app.setSoTimeout(IDLE_MILLIS);
                }
            }
        } catch (SessionClosedException e) {
            return;
        } catch (IOException e) {
            why = "application connection failed: " + e.getMessage();
        } catch (InterruptedException e) {
            return;
        }
        if (!closed.get() && !out.finished()) {
            log.info("{}: {}; telling the peer after {} bytes", name, why, out.end());
            out.finish();
            sendJob.request();
        }
    }

    // ---------------------------------------------------------------- deliver job

    /** Writes the receive queue to the application until it is empty. */
    private void deliver() {
        byte[] buf = IoPool.FRAME.get();
        try {
            int n;
            while ((n = in.poll(buf)) > 0) {
                if (!appGone) {
                    try {
                        appOut.write(buf, 0, n);
                    } catch (IOException e) {
                        // The app reader sees the same failure and ends our stream; keep acking.
                        appGone = true;
                    }
                }
                in.delivered(n);
                if (in.ackDue()) {
                    sendJob.request();
                }
            }
            if (n < 0 && !appWriterDone) {
                // The peer's stream ended and all of it reached the application. Finish our stream
                // first, so the app reader takes the socket closing below as the end, not a failure.
                out.finish();
                Sockets.closeQuietly(app);
                appWriterDone = true;
                sendJob.request();
                finishIfDone();
            }
        } catch (SessionClosedException e) {
            // nothing more to deliver
        }
    }

    /** {@code buf} if it is already {@code size} bytes, else a new array of that size. */
    private static byte[] small(byte[] buf, int size) {
        return buf.length == size ? buf : new byte[size];
    }

    private void finishIfDone() {
        if (appWriterDone && closeSent && !closed.get()) {
            // An orderly close, not a reset: our CLOSE may still be queued behind data in the
            // socket, and the peer keeps its session until it gets it.
            close("both sides closed the connection", true);
        }
    }

    // ---------------------------------------------------------------- lifecycle

    /** Ends the session for good: idempotent, callable from any thread. */
    public void close(String reason) {
        close(reason, false);
    }

    /** {@link #close(String)}; {@code orderly} ends the link with a FIN after what is queued, not a reset. */
    private void close(String reason, boolean orderly) {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        closeReason = reason;
        log.info("{}: closed: {}", name, reason);
        out.close();
        in.close();
        Link l = link;
        if (l != null) {
            if (orderly) {
                l.finishSending(); // the worker closes the socket when its read ends
            } else {
                l.close();
            }
        }
        Sockets.closeQuietly(app);
        provider.close();
        if (worker != null && worker != Thread.currentThread()) {
            worker.interrupt();
        }
        onClosed.accept(this);
        finished.countDown();
    }

    public boolean awaitClosed(long timeout, TimeUnit unit) throws InterruptedException {
        return finished.await(timeout, unit);
    }

    /**
     * Ends the session because this proxy is stopping: tells the peer with a CLOSE if the link
     * is up and free within {@code lockMillis} (so its application is closed at once instead of
     * hanging), then closes.
     */
    private void shutdown(String reason, long lockMillis) {
        try {
            if (sendLock.tryLock(lockMillis, TimeUnit.MILLISECONDS)) {
                try {
                    Link l = link;
                    if (l != null && !closed.get()) {
                        // Everything before sendCursor is already in the socket, so the peer has it first.
                        l.send(Frame.control(FrameType.CLOSE, out.sendCursor(), in.ackToSend()));
                    }
                } finally {
                    sendLock.unlock();
                }
            }
        } catch (IOException e) {
            // best effort: the peer will find out from the lost link
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        close(reason);
    }

    /** Shuts down every session in {@code relays}, then waits for them, at most {@code millis} in all. */
    public static void closeAll(Collection<Relay> relays, String reason, long millis) {
        long start = System.nanoTime();
        long deadline = start + TimeUnit.MILLISECONDS.toNanos(millis);
        // One budget for all: with many sessions stuck in writes, waiting 100 ms for each send
        // lock in turn would overrun the stop limit. Half of it may go to waiting for locks.
        long lockDeadline = start + TimeUnit.MILLISECONDS.toNanos(millis / 2);
        for (Relay r : relays) {
            long left = TimeUnit.NANOSECONDS.toMillis(lockDeadline - System.nanoTime());
            r.shutdown(reason, Math.max(0, Math.min(100, left)));
        }
        try {
            for (Relay r : relays) {
                r.awaitClosed(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    public boolean isClosed() {
        return closed.get();
    }

    public String closeReason() {
        return closeReason;
    }

    public String name() {
        return name;
    }

    /** Renames the session for logs, e.g. once sproxy has assigned its id. */
    public void rename(String newName) {
        this.name = newName;
    }

    /** The link in use, or {@code null} while detached. */
    public Link currentLink() {
        return link;
    }

    /** Bytes of the peer's stream delivered to our application: the ack a HELLO carries. */
    public long delivered() {
        return in.delivered();
    }

    /**
     * Whether the peer ever sent a frame after its first handshake; if not, it may never have
     * received our answer to that handshake.
     */
    public boolean heardFromPeer() {
        return heardFromPeer;
    }

    /** Our receive window, advertised in the handshake. */
    public int window() {
        return in.window();
    }

    /** Whether our application has closed its side. */
    public boolean applicationFinished() {
        return out.finished();
    }

    public LinkSettings settings() {
        return settings;
    }
}
