package net.roamproxy.session;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The session's current link: changed only by its owner, written only under its lock. */
@Timeout(20)
class LinkSlotTest {

    @Test
    void theWriterIsOnlyHandedOutUnderTheLock() {
        LinkSlot slot = new LinkSlot();

        assertThrows(IllegalStateException.class, slot::writer, "a write without the lock is a bug, not a race");
        slot.lock();
        try {
            assertNull(slot.writer(), "detached: nothing to write to");
        } finally {
            slot.unlock();
        }
    }

    @Test
    void attachingWithoutTheLockIsRefused() throws Exception {
        try (Pair p = new Pair()) {
            LinkSlot slot = new LinkSlot();

            assertThrows(IllegalStateException.class, () -> slot.attach(p.link, "s"));
            assertNull(slot.link(), "nothing attached");
        }
    }

    @Test
    void detachTakesOutOnlyTheCurrentLink() throws Exception {
        try (Pair first = new Pair(); Pair second = new Pair()) {
            LinkSlot slot = new LinkSlot();
            slot.lock();
            try {
                slot.attach(first.link, "s");
                slot.attach(second.link, "s"); // a resume replaced it before the old one was detached

                assertFalse(slot.detach(first.link), "the old link is not the current one any more");
                assertSame(second.link, slot.link());
                assertSame(second.link, slot.writer().link());
                assertTrue(slot.detach(second.link));
                assertNull(slot.link());
                assertNull(slot.writer());
            } finally {
                slot.unlock();
            }
        }
    }

    @Test
    void anotherThreadSeesTheLinkWithoutTheLockButCannotWriteWhileItIsHeld() throws Exception {
        try (Pair p = new Pair()) {
            LinkSlot slot = new LinkSlot();
            slot.lock();
            try {
                slot.attach(p.link, "s");
                Link seen = CompletableFuture.supplyAsync(slot::link).get(5, TimeUnit.SECONDS);
                boolean got = CompletableFuture.supplyAsync(slot::tryLock).get(5, TimeUnit.SECONDS);

                assertSame(p.link, seen, "status and metrics look without the lock");
                assertFalse(got, "a writer waits for the one holding it");
            } finally {
                slot.unlock();
            }
        }
    }

    /** A connected loopback pair, our end as a link. */
    private static final class Pair implements AutoCloseable {
        final ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
        final Socket a = new Socket(InetAddress.getLoopbackAddress(), server.getLocalPort());
        final Socket b = server.accept();
        final Link link = new Link(a);

        Pair() throws Exception {
        }

        @Override
        public void close() throws Exception {
            a.close();
            b.close();
            server.close();
        }
    }
}
