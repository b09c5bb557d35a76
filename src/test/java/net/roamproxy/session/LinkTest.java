package net.roamproxy.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import net.roamproxy.metrics.LinkLoss;
import net.roamproxy.testkit.TestKeys;
import net.roamproxy.wire.FrameType;
import net.roamproxy.wire.FrameWriter;
import net.roamproxy.wire.Wire;

/** One link's ending: the last frame of a finished session must reach the peer; a wake-up is not a close. */
@Timeout(20)
class LinkTest {


    @Test
    void finishSendingDeliversEverythingQueuedAndThenTheEndEvenWithPeerFramesUnread() throws Exception {
        try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             Socket a = new Socket(InetAddress.getLoopbackAddress(), ss.getLocalPort());
             Socket b = ss.accept()) {
            Link ours = new Link(a);
            Link peer = new Link(b);
            TestKeys.asClient(ours);
            TestKeys.asServer(peer);
            // A heartbeat from the peer that we never read: closing a socket with unread data
            // makes the kernel send a reset and drop what we queued.
            new FrameWriter<>(peer, "peer").heartbeat(0, 0);
            int frames = 200; // 13 MB: far more than the socket buffers hold, so most is still queued
            CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
                try {
                    FrameWriter<Link> w = new FrameWriter<>(ours, "ours");
                    byte[] frame = new byte[Wire.MAX_FRAME];
                    for (int i = 0; i < frames; i++) {
                        w.data(frame, Wire.MAX_DATA, (long) i * Wire.MAX_DATA, 0);
                    }
                    w.end((long) frames * Wire.MAX_DATA, 0);
                    ours.finishSending();
                } catch (Exception e) {
                    throw new RuntimeException(e);
                }
            });

            for (int i = 0; i < frames; i++) {
                assertEquals(FrameType.DATA, peer.read(5000).type(), "frame " + i);
            }
            assertEquals(FrameType.END, peer.read(5000).type(), "the last frame arrives");
            assertThrows(EOFException.class, () -> peer.read(5000), "then an orderly end, not a reset");
            writer.get(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void abortWakesABlockedReaderAtOnceAndLeavesClosingToTheOwner() throws Exception {
        try (ServerSocket ss = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
             Socket a = new Socket(InetAddress.getLoopbackAddress(), ss.getLocalPort());
             Socket b = ss.accept()) {
            Link ours = new Link(a);
            CompletableFuture<Throwable> read = CompletableFuture.supplyAsync(() -> {
                try {
                    ours.read(60_000);
                    return null;
                } catch (Exception e) {
                    return e;
                }
            });

            ours.abort(LinkLoss.ADDRESS_REMOVED, "local address 192.0.2.2 removed");

            assertInstanceOf(EOFException.class, read.get(10, TimeUnit.SECONDS), "the read ends long before its timeout");
            assertFalse(ours.isClosed(), "the owner closes it, not whoever woke it");
            assertEquals("local address 192.0.2.2 removed", ours.abortReason());
            ours.close();
        }
    }
}
