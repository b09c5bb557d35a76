package net.roamproxy.session;

import net.roamproxy.protocol.ProtocolException;

/**
 * The bytes this side has read from its application and not yet seen acknowledged: the replay
 * buffer. Offsets are positions in the stream since the session began.
 *
 * <pre>
 *   acked()          sendCursor()          end()
 *     |--- sent, unacked ---|--- not yet sent ---|
 * </pre>
 *
 * {@link #append} blocks while the unacknowledged bytes fill the limit (our capacity, or the
 * peer's receive window if smaller): that is the backpressure which stops reading from the
 * application, so memory stays bounded and nothing is ever dropped. A new link
 * {@linkplain #rewind rewinds} the send cursor to the peer's ack, so replay and ordinary
 * sending are one mechanism.
 *
 * <p>Thread-safe. {@link #append} is called by the application reader; {@link #ack} by the
 * link reader; {@link #sendCursor}, {@link #drainTo}, {@link #rewind} and
 * {@link #takeCloseDue} only by a thread holding the session's send lock.
 */
public final class OutboundStream {
    private final ByteRing ring;
    private long acked;
    private long sendCursor;
    /** The furthest offset ever sent, on any link: acks beyond it are impossible. */
    private long highWater;
    private long lastDrainOffset;
    private int limit;
    private long finalLength = -1;
    private boolean closeSent;
    private boolean closed;

    public OutboundStream(int capacity) {
        ring = new ByteRing(capacity);
        limit = capacity;
    }

    /** Appends all of {@code src[off, off+len)}, waiting for acks while the window is full. */
    public void append(byte[] src, int off, int len) throws SessionClosedException, InterruptedException {
        synchronized (this) {
            while (len > 0) {
                while (!closed && ring.size() >= limit) {
                    wait();
                }
                if (closed || finalLength >= 0) {
                    throw new SessionClosedException();
                }
                int n = Math.min(len, limit - ring.size());
                ring.write(src, off, n);
                off += n;
                len -= n;
            }
        }
    }

    /** Marks the end of the application's stream; a CLOSE becomes due once everything is sent. */
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
     * @throws ProtocolException if the peer acknowledges bytes that were never sent
     */
    public synchronized void ack(long offset) throws ProtocolException {
        if (offset > highWater) {
            throw new ProtocolException("ack " + offset + " is beyond the " + highWater + " bytes sent");
        }
        if (offset > acked) {
            ring.discard((int) (offset - acked));
            acked = offset;
            // After a rewind the peer may deliver bytes it already had queued before our replay
            // reaches them: it has them, so there is no need to send them again.
            sendCursor = Math.max(sendCursor, acked);
            notifyAll();
        }
    }

    /**
     * A new link starts: the peer has delivered {@code peerAck} bytes and can queue
     * {@code peerWindow} more. Everything after {@code peerAck} will be sent again.
     *
     * @return the number of bytes that will be resent or sent
     * @throws ProtocolException if {@code peerAck} is outside what is buffered
     */
    public synchronized long rewind(long peerAck, int peerWindow) throws ProtocolException {
        if (peerAck < acked || peerAck > end()) {
            throw new ProtocolException("peer resumes at offset " + peerAck + " but only " + acked + ".." + end()
                    + " can be replayed");
        }
        ack(peerAck);
        sendCursor = peerAck;
        limit = Math.min(ring.capacity(), peerWindow);
        closeSent = false;
        notifyAll();
        return end() - peerAck;
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

    /** @return true exactly once per link, when the stream is finished and fully sent */
    public synchronized boolean takeCloseDue() {
        if (finalLength >= 0 && sendCursor == finalLength && !closeSent) {
            closeSent = true;
            return true;
        }
        return false;
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

    /** Wakes and fails any waiting appender; the stream accepts nothing more. */
    public synchronized void close() {
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
