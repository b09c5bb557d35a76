package net.roamproxy.session;

import java.io.IOException;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import net.roamproxy.net.SerialJob;
import net.roamproxy.wire.FrameProtection;
import net.roamproxy.wire.FrameWriter;
import net.roamproxy.wire.Wire;

/**
 * Sends what a session owes on its current link, in this order: an ABORT (nothing after it), unsent data (after a new link: replay from the peer's
 * ack), the END once every byte before it is out, then a heartbeat or a prompt ack; once both
 * directions have ended, our side of the link (FIN) after the last of these.
 *
 * <p>Threading: runs as a {@link SerialJob} on the shared executor, and inline on the
 * application reader's thread when the link is free ({@link #sendNow}). Every write happens
 * under the lock of the session's {@link LinkSlot}, taken and released in the same method. If a
 * write is stuck, the link reader still sees the peer go silent and closes the link, which
 * unblocks it.
 */
final class LinkSender {
    private static final Logger log = LogManager.getLogger(LinkSender.class);

    /** What one pass achieved. */
    private enum Outcome { IDLE, WORKED, ABORT_SENT }

    private final Session s;
    private final SerialJob job;
    private final AtomicBoolean heartbeatRequested = new AtomicBoolean();
    /** A frame buffer with no room for data, for sends that carry control frames only. */
    private static final byte[] NO_DATA = new byte[Wire.HEADER_SIZE + Wire.TAG_SIZE];

    LinkSender(Session s, Executor executor) {
        this.s = s;
        this.job = new SerialJob(executor, this::sendAll, e -> SessionFailure.close(s, "its send job", e));
    }

    /** Makes sure what is owed gets sent soon. */
    void request() {
        job.request();
    }

    void heartbeat() {
        heartbeatRequested.set(true);
        job.request();
    }

    /**
     * The link reader's heartbeat, written on its own thread when nobody else is writing and the
     * peer has acknowledged every byte we sent: the socket's send buffer then holds at most a
     * few control frames, so this small write cannot block, and the reader, which must never
     * block on a write (it is what notices a dead link), saves waking a pool thread for it.
     * Otherwise the send job writes it.
     */
    void heartbeatFromReader() {
        heartbeatRequested.set(true);
        if (!s.slot.tryLock()) {
            job.request();
            return;
        }
        Outcome o = null;
        try {
            // Checked under the lock, which every write of data takes: nothing unacknowledged
            // can be written behind this check. No room for data in this frame either: bytes
            // the application gives meanwhile go with the send job, which the application
            // reader requests when it finds the lock taken.
            if (s.out.allAcked()) {
                o = sendOwed(NO_DATA);
            }
        } finally {
            s.slot.unlock();
        }
        if (o == null) {
            job.request();
        } else {
            after(o);
        }
    }

    private void sendAll() {
        byte[] frame = IoPool.FRAME.get();
        Outcome o;
        do {
            s.slot.lock();
            try {
                o = sendOwed(frame);
            } finally {
                s.slot.unlock();
            }
            after(o);
        } while (o == Outcome.WORKED);
    }

    /**
     * The application reader's fast path: sends what it just buffered if nobody else is
     * writing the link. Otherwise the writer may already be past its data, so the job picks it up.
     */
    void sendNow(byte[] frame) {
        if (!s.slot.tryLock()) {
            job.request();
            return;
        }
        Outcome o;
        try {
            o = sendOwed(frame);
        } finally {
            s.slot.unlock();
        }
        after(o);
    }

    /**
     * Both directions are over and the peer has ended the link: sends what is still owed now
     * (the ack of the peer's END) with our FIN behind it, on the link reader's thread, rather
     * than leave it to the send job the close would overtake. Otherwise the close resets the
     * link, the reset can discard that last ack, and the peer, its END unacknowledged, redials a
     * session that no longer exists. Waits at most {@code millis} for the slot's lock.
     */
    void finishBeforeClose(long millis) {
        try {
            if (!s.slot.tryLock(millis)) {
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        try {
            sendOwed(IoPool.FRAME.get());
        } finally {
            s.slot.unlock();
        }
    }

    private void after(Outcome o) {
        if (o == Outcome.ABORT_SENT) {
            s.closeWith("our application reset its connection; told the peer", false);
        }
    }

    /** One pass over what is owed; the caller holds the slot's lock. */
    private Outcome sendOwed(byte[] frame) {
        FrameWriter<Link> w = s.slot.writer();
        if (w == null || w.link().sendingFinished()) {
            return Outcome.IDLE;
        }
        try {
            boolean worked = false;
            if (s.state.aborted()) {
                w.abort(s.out.sendCursor(), s.in.ackToSend());
                w.link().finishSending();
                return Outcome.ABORT_SENT;
            }
            int n;
            while ((n = s.out.drainTo(frame, Wire.HEADER_SIZE, frame.length - Wire.HEADER_SIZE - Wire.TAG_SIZE)) > 0) {
                w.data(frame, n, s.out.lastDrainOffset(), s.in.ackToSend());
                worked = true;
            }
            if (s.out.takeEndDue()) {
                w.end(s.out.sendCursor(), s.in.ackToSend());
                worked = true;
            } else if (heartbeatRequested.getAndSet(false)) {
                w.heartbeat(s.out.sendCursor(), s.in.ackToSend());
            } else if (s.in.ackDue()) {
                w.ack(s.out.sendCursor(), s.in.ackToSend());
            }
            boolean finished;
            synchronized (s.state) {
                // Under the state's monitor: the END's delivery and its ack due are one step.
                finished = s.state.ended() && !s.in.ackDue();
            }
            if (finished) {
                // Both directions are over and the peer has our last ack: FIN behind it.
                w.link().finishSending();
            }
            return worked ? Outcome.WORKED : Outcome.IDLE;
        } catch (FrameProtection.KeyLimitException e) {
            log.info("{}: link {}: {}", s.name(), w.link().peer(), e.getMessage());
            w.link().close();
            return Outcome.IDLE;
        } catch (IOException e) {
            // The link reader sees the dead link too; data stays buffered for replay.
            log.debug("{}: send on {} failed: {}", s.name(), w.link().peer(), e.getMessage());
            w.link().close();
            return Outcome.IDLE;
        }
    }

    /**
     * STOPPING on the current link; then our side of the link ends. The caller holds the slot's lock.
     *
     * @return whether it went out
     */
    boolean sendStopping() {
        FrameWriter<Link> w = s.slot.writer();
        if (w == null || w.link().sendingFinished() || s.isClosed()) {
            return false;
        }
        try {
            w.stopping(s.out.sendCursor(), s.in.ackToSend());
            w.link().finishSending();
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
