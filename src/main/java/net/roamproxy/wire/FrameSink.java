package net.roamproxy.wire;

import java.io.IOException;

/**
 * Where a {@link FrameWriter} puts its frames: one end of a link, which sends clear frames as
 * they are and seals the others under the link's keys on the way out.
 */
public interface FrameSink {
    /** Sends {@code len} bytes of a clear frame from {@code frame[off]}. */
    void send(byte[] frame, int off, int len) throws IOException;

    /**
     * Seals in place and sends the frame in {@code frame}: its header at 0, {@code plainLength}
     * payload bytes after it, and room for the tag after those.
     *
     * @return the frame's length on the wire
     */
    int sendSealed(byte[] frame, int plainLength) throws IOException;
}
