package net.roamproxy.session;

import net.roamproxy.stream.ReceiveQueue;
import net.roamproxy.wire.FrameReader;

/**
 * Lets a link open the peer's DATA frames straight into the session's receive queue, where
 * the queue has room for them in one piece: the cipher's output is then the bytes' only copy
 * between the socket's buffer and the application. {@link FrameHandler} commits them once the
 * frame has opened. Used by the session's link reader only, like the links it reads.
 */
final class OpenIntoQueue implements FrameReader.DataTarget {
    private final ReceiveQueue in;
    private final ReceiveQueue.Segment place = new ReceiveQueue.Segment();

    OpenIntoQueue(ReceiveQueue in) {
        this.in = in;
    }

    @Override
    public boolean reserve(long seq, int len) {
        return in.reserve(seq, len, place);
    }

    @Override
    public byte[] array() {
        return place.array();
    }

    @Override
    public int offset() {
        return place.offset();
    }
}
