package net.roamproxy.stream;

import net.roamproxy.wire.ProtocolException;

/**
 * The bytes this side has read from its application and not yet seen acknowledged: the replay
 * buffer. Offsets are positions in the stream since the session began.
 *
 * <pre>
 *   acked()          sendCursor()          end()   [END]
 *     |--- sent, unacked ---|--- not yet sent ---|    |
 * </pre>
 *
 * Once the application {@linkplain #finish finishes} its stream, the END that follows the last
 * byte takes one more sequence number, as TCP's FIN does: the peer acknowledges it with
 * {@code end() + 1} once its application has been told, and until then every new link
 * replays it after the bytes before it. So an end is never lost and never early.
 *
 * {@link #append} blocks while the unacknowledged bytes fill the limit (our capacity, or the
 * peer's receive window if smaller): that is the backpressure which stops reading from the
 * application, so memory stays bounded and nothing is ever dropped. A new link
 * {@linkplain #rewind rewinds} the send cursor to the peer's ack, so replay and ordinary
 * sending are one mechanism.
 *
 * <p>With a {@link MemoryBudget}, the buffer's array counts there, and {@link #append} (or
 * {@link #awaitRoom}) also waits while the array is full and the budget has nothing to grow it
 * with: every byte still fits in the session's guarantee or waits for an ack to make room, so
 * the application is slowed, never refused.
 *
 * <p>Thread-safe. {@link #append} is called by the application reader; {@link #ack} by the
 * link reader; {@link #sendCursor}, {@link #drainTo}, {@link #rewind} and
 * {@link #takeEndDue} only by a thread holding the session's send lock.
 */
public final class ReplayBuffer {
    /**
     * How often an appender held back by the budget (not by the window) looks again: budget
     * freed by other sessions comes without a notification, since waking another session's
     * monitor from inside ours could deadlock. Its own acks still wake it at once.
     */
    static final long BUDGET_RETRY_MILLIS = 50;

    private final ByteRing ring;
    private final MemoryBudget budget;
    private final int guaranteed;
    private long acked;
    private long sendCursor;
    /** The furthest offset ever sent, on any link: acks beyond it are impossible. */
    private long highWater;
    private long lastDrainOffset;
    private int limit;
    private long finalLength = -1;
    /** The END went out on the current link (it is due again on the next one until acked). */
    private boolean endSentOnLink;
    /** The END went out on some link: an ack of {@code finalLength + 1} is possible. */
    private boolean endEverSent;
    private boolean endAcked;
    private boolean closed;

    /** A buffer outside any budget: it holds up to {@code capacity} bytes. */
    public ReplayBuffer(int capacity) {
        this(capacity, null);
    }

    /** A buffer whose array counts in {@code budget} (if not null), with the session's guarantee taken at once. */
    public ReplayBuffer(int capacity, MemoryBudget budget) {
        this.budget = budget;
        this.guaranteed = budget == null ? 0 : Math.min(capacity, MemoryBudget.GUARANTEED);
        if (budget != null) {
            budget.guarantee(guaranteed);
        }
        ring = new ByteRing(capacity, budget, guaranteed);
        limit = capacity;
    }

    /** Appends all of {@code src[off, off+len)}, waiting for acks while the window (or the budget) is full. */
    public synchronized void append(byte[] src, int off, int len) throws SessionClosedException, InterruptedException {
        while (len > 0) {
            int n = awaitRoom(len, true);
            if (finalLength >= 0) {
                throw new SessionClosedException();
            }
            ring.write(src, off, n);
            off += n;
            len -= n;
        }
    }

    /**
     * Waits until at least one byte may be appended: the peer's window is not full and the
     * array has room, or can grow within the budget. The application reader asks before it
     * reads, so it never takes more from the application than it can hold: the rest waits in
     * the application's socket, which is TCP backpressure to the application. Nothing is
     * allocated here, so an idle session's reader that waits for input holds no array.
     *
     * @return how many bytes, at most {@code max}, fit now
     */
    public synchronized int awaitRoom(int max) throws SessionClosedException, InterruptedException {
        return awaitRoom(max, false);
    }

    /** {@link #awaitRoom(int)}; {@code grow}: grows the array for them (for {@link #append}). */
    private int awaitRoom(int max, boolean grow) throws SessionClosedException, InterruptedException {
        while (true) {
            if (closed) {
                throw new SessionClosedException();
            }
            int window = limit - ring.size();
            if (window <= 0) {
                wait(); // an ack, a new link or the close wakes us
                continue;
            }
            int n = grow ? ring.makeRoom(Math.min(max, window)) : ring.affordable(Math.min(max, window));
            if (n > 0) {
                return n;
            }
            wait(BUDGET_RETRY_MILLIS);
        }
    }

    /** Marks the end of the application's stream; an END becomes due once everything is sent. */
    public synchronized void finish() {
        if (finalLength < 0) {
            finalLength = end();
        }
    }

    public synchronized boolean finished() {
        return finalLength >= 0;
    }

    /**
     * The peer has delivered everything before {@code offset}: drop it from the buffer.
     *
     * @return true if this ack is the first to acknowledge our END: this direction is over,
     *         and the caller raises that event (exactly once, whichever thread acks)
     * @throws ProtocolException if the peer acknowledges bytes that were never sent
     */
    public synchronized boolean ack(long offset) throws ProtocolException {
        long max = highWater + (endEverSent ? 1 : 0);
        if (offset > max) {
            throw new ProtocolException("ack " + offset + " is beyond the " + max + " bytes sent");
        }
        boolean endAckedNow = false;
        if (endEverSent && offset == finalLength + 1) {
            endAckedNow = !endAcked;
            endAcked = true;
            offset = finalLength;
        }
        if (offset > acked) {
            ring.discard((int) (offset - acked));
            acked = offset;
            // After a rewind the peer may deliver bytes it already had queued before our replay
            // reaches them: it has them, so there is no need to send them again.
            sendCursor = Math.max(sendCursor, acked);
            notifyAll();
        }
        return endAckedNow;
    }

    /**
     * What a {@link #rewind} found.
     *
     * @param resend   the bytes that will be resent or sent
     * @param endAcked whether the peer's ack acknowledged our END, for the first time
     */
    public record Rewound(long resend, boolean endAcked) {
    }

    /**
     * A new link starts: the peer has delivered {@code peerAck} bytes and can queue
     * {@code peerWindow} more. Everything after {@code peerAck} will be sent again.
     *
     * @return how many bytes will be resent or sent, and whether the peer's ack acknowledged our END
     * @throws ProtocolException if {@code peerAck} is outside what is buffered
     */
    public synchronized Rewound rewind(long peerAck, int peerWindow) throws ProtocolException {
        long max = end() + (endEverSent ? 1 : 0);
        if (peerAck < acked || peerAck > max) {
            throw new ProtocolException("peer resumes at offset " + peerAck + " but only " + acked + ".." + max
                    + " can be replayed");
        }
        boolean endAckedNow = ack(peerAck);
        sendCursor = acked;
        limit = Math.min(ring.capacity(), peerWindow);
        endSentOnLink = false;
        notifyAll();
        return new Rewound(end() - acked, endAckedNow);
    }

    public synchronized long sendCursor() {
        return sendCursor;
    }

    /**
     * Copies up to {@code max} {@linkplain #sendable() sendable} bytes to {@code dst} and advances the send cursor past them.
     *
     * @return the number of bytes copied, 0 if nothing may be sent now
     */
    public synchronized int drainTo(byte[] dst, int dstOff, int max) {
        int n = (int) Math.min(max, sendable());
        ring.copy((int) (sendCursor - acked), dst, dstOff, n);
        lastDrainOffset = sendCursor;
        sendCursor += n;
        highWater = Math.max(highWater, sendCursor);
        return n;
    }

    /**
     * Unsent bytes the peer's window allows now. Bytes buffered before the peer's (smaller)
     * window was known wait here until acks make room.
     */
    public synchronized long sendable() {
        return Math.max(0, Math.min(end(), acked + limit) - sendCursor);
    }

    /**
     * @return true once per link while the END is unacknowledged, when the stream is finished
     *         and every byte before it sent: the caller sends the END now
     */
    public synchronized boolean takeEndDue() {
        if (finalLength >= 0 && sendCursor == finalLength && !endSentOnLink && !endAcked) {
            endSentOnLink = true;
            endEverSent = true;
            return true;
        }
        return false;
    }

    /** Whether the peer acknowledged our END: this direction is over. */
    public synchronized boolean endAcked() {
        return endAcked;
    }

    /** Whether everything the application gave us has been sent at least once. */
    public synchronized boolean allSent() {
        return sendCursor == end();
    }

    /** Whether the peer acknowledged everything the application gave us. */
    public synchronized boolean allAcked() {
        return acked == end();
    }

    /**
     * Waits up to {@code millis} until the peer has acknowledged everything buffered (a stop
     * flushing what it can), or the buffer is closed.
     *
     * @return whether everything was acknowledged
     */
    public synchronized boolean awaitAllAcked(long millis) throws InterruptedException {
        long deadline = System.nanoTime() + millis * 1_000_000;
        while (!closed && acked < end()) {
            long left = (deadline - System.nanoTime()) / 1_000_000;
            if (left <= 0) {
                break;
            }
            wait(left);
        }
        return acked == end();
    }

    /** The stream offset of the bytes the last {@link #drainTo} returned: the seq of their DATA frame. */
    public synchronized long lastDrainOffset() {
        return lastDrainOffset;
    }

    public synchronized long acked() {
        return acked;
    }

    public synchronized long end() {
        return acked + ring.size();
    }

    /** Bytes held for replay: never more than the capacity. */
    public synchronized int buffered() {
        return ring.size();
    }

    /** Wakes and fails any waiting appender; the stream accepts nothing more. Gives its memory back to the budget. */
    public synchronized void close() {
        if (!closed && budget != null) {
            ring.releaseBudget();
            budget.release(guaranteed);
        }
        closed = true;
        notifyAll();
    }

    /** Gives memory back once the session is idle again; call about once a second. */
    public synchronized void shrinkIfIdle() {
        ring.shrinkIfIdle();
    }

    /** Bytes of memory the replay buffer holds now (not its capacity). */
    public synchronized int allocated() {
        return ring.allocated();
    }
}
