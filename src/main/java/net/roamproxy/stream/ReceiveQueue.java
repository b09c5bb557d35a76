package net.roamproxy.stream;

import net.roamproxy.wire.ProtocolException;

/**
 * Bytes received from the peer and not yet written to the application. The link reader
 * {@linkplain #accept accepts} frames without ever blocking, so a stalled application cannot
 * stop heartbeats; the session's deliver job writes them to the application from where they
 * are ({@link #peek}).
 *
 * <ul>
 *   <li>{@code received}: the next stream offset expected from the peer. Frames repeating
 *       bytes before it (replays) are trimmed, so nothing is delivered twice.</li>
 *   <li>{@code delivered}: bytes written to the application. This is the ack we send, so the
 *       peer never has more than our window in flight and this queue cannot overflow. The
 *       peer's END counts as one more once the application has been told of it
 *       ({@link #endDelivered()}), which is how the peer learns that its END arrived.</li>
 * </ul>
 *
 * With a {@link MemoryBudget}, the window is reserved there for the session's lifetime: the
 * peer may fill it at any moment and a frame cannot be refused, so the promise, not the array
 * (which still grows only as data arrives), is what must fit. The budget sizes it: the
 * {@code --buffer} size while memory is plentiful, less as the budget fills, never less than
 * the session's guarantee. Every link of the session advertises the same window.
 *
 * Thread-safe.
 */
public final class ReceiveQueue {
    private final ByteRing ring;
    private final MemoryBudget budget;
    private long received;
    private long delivered;
    private long lastAckSent;
    private boolean peerFinished;
    private boolean endDelivered;
    private boolean closed;

    /** A queue outside any budget, with a window of {@code window} bytes. */
    public ReceiveQueue(int window) {
        this(window, null);
    }

    /** A queue whose window, at most {@code capacity}, is reserved in {@code budget} (if not null). */
    public ReceiveQueue(int capacity, MemoryBudget budget) {
        this(budget, budget == null ? capacity : budget.reserveWindow(capacity));
    }

    private ReceiveQueue(MemoryBudget budget, int window) {
        this.budget = budget;
        ring = new ByteRing(window);
    }

    /** A queue with a window already {@linkplain MemoryBudget#reserveWindow reserved} in {@code budget}, which it now owns. */
    public static ReceiveQueue reserved(int window, MemoryBudget budget) {
        return new ReceiveQueue(budget, window);
    }

    /** Our receive window, advertised to the peer. */
    public int window() {
        return ring.capacity();
    }

    /**
     * Queues the part of a DATA frame at stream offset {@code seq} not received before.
     *
     * @return the number of new bytes queued
     * @throws ProtocolException if the frame leaves a gap, comes after the peer's END, or
     *                           overflows the window
     */
    public int accept(long seq, byte[] payload) throws ProtocolException {
        return accept(seq, payload, 0, payload.length);
    }

    /** {@link #accept(long, byte[])} for a payload at {@code src[off, off+len)}. */
    public synchronized int accept(long seq, byte[] src, int off, int len) throws ProtocolException {
        if (seq > received) {
            throw new ProtocolException("DATA at offset " + seq + " leaves a gap after " + received);
        }
        long skip = received - seq;
        if (skip >= len) {
            return 0;
        }
        if (peerFinished) {
            throw new ProtocolException("DATA at offset " + seq + " after the peer's END");
        }
        int n = len - (int) skip;
        if (n > ring.free()) {
            throw new ProtocolException("DATA overflows the receive window of " + ring.capacity() + " bytes");
        }
        ring.write(src, off + (int) skip, n);
        received += n;
        return n;
    }

    /**
     * Room for a DATA frame's {@code len} bytes at stream offset {@code seq} to be opened
     * straight into the queue, so that the cipher's output is their only copy: given only when
     * they are exactly the next bytes expected, fit the window, and lie in one piece in the
     * queue's array. {@code place} is set to it. Until {@link #commit} the bytes are not part of
     * the queue; the link reader, the only caller, commits them once they are authentic, or
     * leaves them to be overwritten. Otherwise the frame is opened where it is and
     * {@link #accept}ed, which copies it.
     *
     * @return whether {@code place} was set
     */
    public synchronized boolean reserve(long seq, int len, Segment place) {
        if (closed || peerFinished || seq != received || len <= 0 || len > ring.free()) {
            return false;
        }
        int at = ring.reserve(len);
        if (at < 0) {
            return false;
        }
        place.array = ring.array();
        place.offset = at;
        return true;
    }

    /**
     * The {@code len} bytes {@link #reserve}d for stream offset {@code seq} are in place and
     * authentic: they are queued.
     *
     * @return the number of new bytes queued, {@code len}
     * @throws ProtocolException if the peer's stream has ended meanwhile
     */
    public synchronized int commit(long seq, int len) throws ProtocolException {
        if (seq != received) {
            throw new IllegalStateException("commit at " + seq + " but " + received + " received");
        }
        if (peerFinished) {
            throw new ProtocolException("DATA at offset " + seq + " after the peer's END");
        }
        ring.wrote(len);
        received += len;
        return len;
    }

    /**
     * The peer's stream ended at {@code finalLength} (an END, perhaps replayed).
     *
     * @return true the first time, false for a replay of an END already received
     * @throws ProtocolException if bytes before that offset are missing, or the peer's stream
     *                           already ended elsewhere
     */
    public synchronized boolean peerFinished(long finalLength) throws ProtocolException {
        if (finalLength != received) {
            throw new ProtocolException("END at offset " + finalLength + " but " + received + " bytes received");
        }
        boolean first = !peerFinished;
        peerFinished = true;
        return first;
    }

    /**
     * Where the oldest queued bytes are, so that the deliver job writes them to the application
     * straight from the queue, without a copy: {@code segment} is set to them. They stay queued,
     * and unchanged, until {@link #delivered(int)} takes them out.
     *
     * @return how many bytes {@code segment} shows, all in one piece (there may be more after
     *         them); 0 if none are queued (or the end was delivered already); -1 once the peer's
     *         stream has ended and everything was delivered: the caller tells the application,
     *         then calls {@link #endDelivered()}
     * @throws SessionClosedException if the session closed
     */
    public synchronized int peek(Segment segment) throws SessionClosedException {
        if (closed) {
            throw new SessionClosedException();
        }
        if (ring.size() == 0) {
            return peerFinished && !endDelivered ? -1 : 0;
        }
        segment.array = ring.array();
        segment.offset = ring.headIndex();
        return ring.contiguous();
    }

    /**
     * Records that the first {@code n} queued bytes reached the application: they leave the
     * queue, their room is free for the peer again, and the ack grows by {@code n}.
     */
    public synchronized void delivered(int n) {
        ring.discard(n);
        delivered += n;
    }

    /** A view of queued bytes ({@link #peek}); one per reader, reused. */
    public static final class Segment {
        private byte[] array;
        private int offset;

        public byte[] array() {
            return array;
        }

        public int offset() {
            return offset;
        }
    }

    /**
     * The application has been told that the peer's stream ended (its writing side shut down):
     * the END counts as delivered, and its ack is due at once.
     */
    public synchronized void endDelivered() {
        if (peerFinished && !endDelivered && ring.size() == 0) {
            endDelivered = true;
            delivered++;
        }
    }

    /** Whether the peer's END reached the application: this direction is over. */
    public synchronized boolean endWasDelivered() {
        return endDelivered;
    }

    /**
     * Whether an ack should go out now: so much is delivered but unacknowledged that the peer
     * may soon stall on its window, or the peer's END was delivered and not yet acknowledged
     * (the peer waits for that ack to end its direction).
     */
    public synchronized boolean ackDue() {
        return delivered - lastAckSent >= ring.capacity() / 2 || endDelivered && lastAckSent < delivered;
    }

    /** The ack to put on an outgoing frame; remembers it as sent. */
    public synchronized long ackToSend() {
        lastAckSent = delivered;
        return delivered;
    }

    public synchronized long received() {
        return received;
    }

    public synchronized long delivered() {
        return delivered;
    }

    public synchronized boolean peerHasFinished() {
        return peerFinished;
    }

    /** Bytes waiting for the application: never more than the window. */
    public synchronized int queued() {
        return ring.size();
    }

    /** Nothing more is delivered; the window goes back to the budget. */
    public synchronized void close() {
        if (!closed && budget != null) {
            budget.releaseWindow(ring.capacity());
        }
        closed = true;
    }

    /** Gives memory back once the session is idle again; call about once a second. */
    public synchronized void shrinkIfIdle() {
        ring.shrinkIfIdle();
    }

    /** Bytes of memory the receive queue holds now (not its capacity). */
    public synchronized int allocated() {
        return ring.allocated();
    }
}
