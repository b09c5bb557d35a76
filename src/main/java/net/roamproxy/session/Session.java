package net.roamproxy.session;

import java.io.IOException;
import java.net.Socket;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import net.roamproxy.metrics.Metrics;
import net.roamproxy.net.Sockets;
import net.roamproxy.net.Threads;
import net.roamproxy.stream.MemoryBudget;
import net.roamproxy.stream.ReceiveQueue;
import net.roamproxy.stream.ReplayBuffer;

/**
 * One session: carries an application connection over a succession of links, each direction
 * of the stream ending on its own. Used by both proxies; only the {@link LinkProvider} differs.
 *
 * <p><b>States.</b> The session's state lives in one {@link SessionState}: each direction goes
 * OPEN → FINISHING → FINISHED (or ABORTED), and the link CONNECTING → UP → DETACHED → UP ...
 * The events and what they trigger ({@link Transitions} carries it out):
 * <ul>
 *   <li>Our application shuts down its writing side: an END follows its last byte (out
 *       FINISHING). The peer acknowledges it like a byte once its application's writing side
 *       is shut (out FINISHED); until then every new link replays it.</li>
 *   <li>The peer's END: everything before it is written to our application, then only the
 *       application's writing side is shut, and the ack is sent at once (in FINISHED). The
 *       other direction keeps flowing, across resumes too.</li>
 *   <li>Both directions FINISHED: we send what is owed and end our side of the link (FIN);
 *       when the peer's FIN arrives the session closes cleanly. If the link is lost instead,
 *       sproxy closes (nothing is left to learn) and cproxy resumes, so that sproxy still gets
 *       our last ack; a resume that sproxy no longer knows is then the expected end.</li>
 *   <li>Our application resets its connection: ABORT to the peer, then close. The peer's
 *       ABORT: reset our application connection, then close.</li>
 *   <li>This proxy stops ({@link SessionStop#closeAll}): flush what the peer will take within the stop
 *       budget, then STOPPING, then close. The peer's STOPPING: deliver what arrived, then
 *       reset our application connection, so a cut stream never looks like a clean end.</li>
 *   <li>Any final failure (a rejected resume, the detach timeout, a protocol error):
 *       {@link #close(String)}, which resets the application connection.</li>
 * </ul>
 *
 * <p><b>Threads.</b> Two of its own and two jobs on a shared executor, so that no blocking
 * call can stop another duty: the link reader ({@link SessionWorker}, writes no more than a
 * heartbeat that cannot block), the application reader ({@link ApplicationReader}), the send
 * job ({@link LinkSender}) and the deliver job ({@link ApplicationWriter}).
 *
 * <p><b>Who owns what.</b>
 * <ul>
 *   <li>The link reader alone attaches and detaches links ({@link LinkSlot}); every link write
 *       happens under the slot's lock, taken and released within one method.</li>
 *   <li>The {@link SessionState} is the one record of where each direction and the link stand.
 *       A transition and the stream bookkeeping that goes with it (our END queued, the peer's
 *       END received or delivered) happen as one step under the state's monitor
 *       ({@link Transitions}); the actions it returns are carried out after the monitor is
 *       released, by asking a job to run, never by blocking in it.</li>
 *   <li>Each buffer guards itself: the replay buffer is filled by the application reader and
 *       drained by whoever holds the slot's lock; the receive queue is filled by the link reader
 *       and drained by the deliver job.</li>
 *   <li>Each socket has one owner: the application socket and every attached link belong to
 *       this session, which alone closes them.</li>
 * </ul>
 * The lock order is the slot's lock, then the state's monitor, then a buffer's monitor
 * ({@link LinkSlot}).
 *
 * <p>The clock and executor are injectable; everything public is thread-safe.
 */
public final class Session implements SessionView {
    private static final Logger log = LogManager.getLogger(Session.class);
    /** At most this long a closing session reads a link it ended in order, waiting for the peer's FIN. */
    static final long MAX_LINGER_MILLIS = 1000;

    final Socket app;
    final LinkSettings settings;
    final LinkProvider provider;
    final LongSupplier clock;
    final ReplayBuffer out;
    final ReceiveQueue in;
    /** Where the buffers count, or {@code null}; also the application reader's bulk frame. */
    final MemoryBudget budget;
    final SessionState state;
    /** The current link and its writer, and the lock every link write takes. */
    final LinkSlot slot = new LinkSlot();
    final LinkSender sender;
    /** Feeds the state machine and carries out what it asks for. */
    final Transitions transitions;
    final ApplicationWriter appWriter;
    final LinkHistory history;
    /** The daemon's counters, shared by all its sessions. */
    final Metrics metrics;
    private final String threadPrefix;
    private final Consumer<Session> onClosed;
    private final CountDownLatch finished = new CountDownLatch(1);
    private volatile String name;
    private volatile String closeReason;
    /** Whether any frame ever came from the peer after its first handshake. */
    private volatile boolean heardFromPeer;
    private Thread worker;

    /**
     * @param resumesAfterEnd whether a link lost after both directions ended is resumed (cproxy)
     *                        or taken as the end (sproxy); see {@link SessionState}
     */
    public Session(String name, String threadPrefix, Socket app, LinkSettings settings, LinkProvider provider,
                   boolean resumesAfterEnd, Consumer<Session> onClosed, Metrics metrics) {
        this(name, threadPrefix, app, settings, provider, resumesAfterEnd, onClosed, metrics, null, 0);
    }

    /**
     * @param budget the daemon's memory budget, which this session's buffers count in
     *               ({@code null}: none)
     * @param window our receive window if it is reserved in {@code budget} already (sproxy
     *               promised it in its WELCOME), or 0 to reserve one now
     */
    public Session(String name, String threadPrefix, Socket app, LinkSettings settings, LinkProvider provider,
                   boolean resumesAfterEnd, Consumer<Session> onClosed, Metrics metrics, MemoryBudget budget,
                   int window) {
        this(name, threadPrefix, app, settings, provider, resumesAfterEnd, onClosed, System::nanoTime, IoPool.POOL,
                metrics, budget, window);
    }

    Session(String name, String threadPrefix, Socket app, LinkSettings settings, LinkProvider provider,
            boolean resumesAfterEnd, Consumer<Session> onClosed, LongSupplier clock, Executor executor,
            Metrics metrics) {
        this(name, threadPrefix, app, settings, provider, resumesAfterEnd, onClosed, clock, executor, metrics, null, 0);
    }

    Session(String name, String threadPrefix, Socket app, LinkSettings settings, LinkProvider provider,
            boolean resumesAfterEnd, Consumer<Session> onClosed, LongSupplier clock, Executor executor,
            Metrics metrics, MemoryBudget budget, int window) {
        this.name = name;
        this.metrics = metrics;
        this.threadPrefix = threadPrefix;
        this.app = app;
        this.settings = settings;
        this.provider = provider;
        this.onClosed = onClosed;
        this.clock = clock;
        this.budget = budget;
        this.out = new ReplayBuffer(settings.bufferBytes(), budget);
        this.in = window > 0 ? ReceiveQueue.reserved(window, budget) : new ReceiveQueue(settings.bufferBytes(), budget);
        this.state = new SessionState(resumesAfterEnd);
        this.sender = new LinkSender(this, executor);
        this.appWriter = new ApplicationWriter(this, executor);
        this.transitions = new Transitions(this);
        this.history = new LinkHistory(clock.getAsLong());
    }

    /**
     * The session as {@code --status} shows it.
     *
     * @param detachedWord what a session without a link is doing: "reconnecting" or "detached"
     */
    public SessionStatus status(String detachedWord) {
        return SessionStatus.of(this, detachedWord);
    }

    /** Starts the session's threads. */
    public void start() throws IOException {
        Sockets.tune(app);
        appWriter.open(app.getOutputStream());
        ApplicationReader reader = new ApplicationReader(this, app.getInputStream());
        try {
            worker = thread("link", new SessionWorker(this));
            thread("app-in", reader);
        } catch (RuntimeException | Error e) {
            // No thread could be made (out of memory, a process limit): half a session cannot
            // work, and nothing else would close it. The caller still hears of the failure.
            close("cannot start its threads: " + e);
            throw e;
        }
    }

    private Thread thread(String role, Runnable body) {
        return Threads.start(threadPrefix + "-" + role, body);
    }

    /** Ends the session for good, resetting the application connection: idempotent, any thread. */
    public void close(String reason) {
        closeWith(reason, false);
    }

    /**
     * Ends the session once. {@code clean}: both directions ended, so the application socket
     * is closed normally; otherwise it is reset, so that a stream cut short never looks like
     * a clean end. A link whose sending side we ended keeps its socket for the link reader,
     * which closes it after the peer's FIN (closing now could reset away our last frames).
     *
     * @return whether this call closed it (false: it was closed already)
     */
    boolean closeWith(String reason, boolean clean) {
        if (!state.close()) {
            return false;
        }
        closeReason = reason;
        log.info("{}: closed: {}", name, reason);
        out.close();
        in.close();
        Link l = slot.link();
        if (l != null && !l.sendingFinished()) {
            l.close();
        }
        if (clean) {
            Sockets.closeQuietly(app);
        } else {
            Link.reset(app);
        }
        provider.close();
        if (worker != null && worker != Thread.currentThread() && (l == null || !l.sendingFinished())) {
            worker.interrupt();
        }
        onClosed.accept(this);
        finished.countDown();
        return true;
    }

    public boolean awaitClosed(long timeout, TimeUnit unit) throws InterruptedException {
        return finished.await(timeout, unit);
    }

    public boolean isClosed() {
        return state.closed();
    }

    public String closeReason() {
        return closeReason;
    }

    @Override
    public String name() {
        return name;
    }

    /** Renames the session for logs, once the peer has named it. */
    void rename(String newName) {
        this.name = newName;
    }

    /** The link in use, or {@code null} while detached. */
    public Link currentLink() {
        return slot.link();
    }

    @Override
    public long delivered() {
        return in.delivered();
    }

    /** A frame came from the peer: the link reader says so for each one. */
    void heard() {
        heardFromPeer = true;
    }

    @Override
    public boolean heardFromPeer() {
        return heardFromPeer;
    }

    @Override
    public int window() {
        return in.window();
    }

    @Override
    public boolean applicationFinished() {
        return out.finished() || state.aborted();
    }

    @Override
    public LinkSettings settings() {
        return settings;
    }

    /** The state of both directions and the link, for logs and tests. */
    public String stateText() {
        return state.toString();
    }
}
