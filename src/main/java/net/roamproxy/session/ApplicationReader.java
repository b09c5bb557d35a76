package net.roamproxy.session;

import java.io.IOException;
import java.io.InputStream;
import java.net.SocketTimeoutException;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import net.roamproxy.session.SessionState.Event;
import net.roamproxy.stream.SessionClosedException;
import net.roamproxy.wire.Wire;

/**
 * A session's application reader, on its own {@code -app-in} thread: application to replay
 * buffer. It reads no more than the replay buffer can take now, and waits while the peer's
 * window or the daemon's memory budget is full: the application's bytes then stay in its socket,
 * which is the backpressure that keeps memory bounded. When the link is free it also sends the bytes itself, sparing a thread hand-off per
 * keystroke. The application's EOF ends our direction (END); a reset aborts the session.
 */
final class ApplicationReader implements Runnable {
    private static final Logger log = LogManager.getLogger(ApplicationReader.class);
    /** Per-thread buffer size of an idle session; grown in steps to a full frame under bulk reads. */
    private static final int SMALL_BUFFER = 1024;
    /** A thread with nothing to do for this long gives its bulk-sized buffer back. */
    private static final int IDLE_MILLIS = 1000;

    private final Session s;
    private final InputStream appIn;
    /** Bytes of the frame above {@link #SMALL_BUFFER}, taken from the session's budget. */
    private int taken;

    ApplicationReader(Session s, InputStream appIn) {
        this.s = s;
        this.appIn = appIn;
    }

    @Override
    public void run() {
        try {
            readAll();
        } finally {
            release(taken);
        }
    }

    private boolean take(int bytes) {
        if (s.budget != null && !s.budget.tryTake(bytes)) {
            return false;
        }
        taken += bytes;
        return true;
    }

    private void release(int bytes) {
        if (s.budget != null) {
            s.budget.release(bytes);
        }
        taken -= bytes;
    }

    private void readAll() {
        // Read straight into the payload of a frame: the bytes are copied once, into the replay
        // buffer, and sendNow drains them back into the same array behind the header, where they are
        // sealed in place: the array keeps room for the tag after the payload.
        byte[] frame = new byte[Wire.HEADER_SIZE + SMALL_BUFFER + Wire.TAG_SIZE];
        int fullReads = 0;
        try {
            while (true) {
                int room = frame.length - Wire.HEADER_SIZE - Wire.TAG_SIZE;
                int n;
                try {
                    n = appIn.read(frame, Wire.HEADER_SIZE, s.out.awaitRoom(room));
                } catch (SocketTimeoutException e) {
                    // Idle for a while after bulk data (the timeout is only set then): shrink.
                    if (room != SMALL_BUFFER) {
                        frame = new byte[Wire.HEADER_SIZE + SMALL_BUFFER + Wire.TAG_SIZE];
                        release(room - SMALL_BUFFER);
                    }
                    s.app.setSoTimeout(0);
                    continue;
                }
                if (n < 0) {
                    break;
                }
                s.out.append(frame, Wire.HEADER_SIZE, n);
                s.metrics.fromApplication(n);
                s.sender.sendNow(frame);
                fullReads = n == room ? fullReads + 1 : 0;
                int bigger = Math.min(Wire.MAX_DATA, 4 * room);
                if (fullReads == 2 && room < Wire.MAX_DATA && take(bigger - room)) {
                    // Reads that keep filling the buffer mean bulk data: grow in steps (4, 16,
                    // 64 KiB). One full read is not enough (a paste of a few KiB), so typing does
                    // not cost a session a full frame here and a frame-sized direct buffer in the
                    // JDK's per-thread I/O cache. The growth counts in the memory budget: near its
                    // limit the reader keeps reading in small pieces.
                    fullReads = 0;
                    frame = new byte[Wire.HEADER_SIZE + bigger + Wire.TAG_SIZE];
                    s.app.setSoTimeout(IDLE_MILLIS);
                }
            }
        } catch (SessionClosedException | InterruptedException e) {
            return;
        } catch (IOException e) {
            if (!s.isClosed()) {
                log.info("{}: application connection failed: {}; aborting the session", s.name(), e.getMessage());
                s.transitions.perform(Event.APP_RESET, "application connection failed: " + e.getMessage());
            }
            return;
        } catch (RuntimeException | Error e) {
            SessionFailure.close(s, "its application reader", e);
            return;
        }
        if (!s.isClosed()) {
            log.info("{}: application ended its stream after {} bytes; telling the peer, the other direction "
                    + "stays open", s.name(), s.out.end());
            s.transitions.perform(Event.APP_EOF, null, s.out::finish);
        }
    }
}
