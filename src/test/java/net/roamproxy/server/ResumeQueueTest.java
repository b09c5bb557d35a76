package net.roamproxy.server;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import net.roamproxy.session.Attachment;
import net.roamproxy.session.Link;
import net.roamproxy.session.LinkSettings;
import net.roamproxy.session.LinkUnavailableException;
import net.roamproxy.session.SessionView;
import net.roamproxy.testkit.MemorySocket;

@Timeout(30)
class ResumeQueueTest {
    /** A detach timeout far longer than the test: only a wake-up can end the wait. */
    private static final LinkSettings SETTINGS = new LinkSettings(Duration.ofSeconds(1), 3, 1 << 16,
            Duration.ofSeconds(5), Duration.ofHours(1));

    private static final SessionView SESSION = new SessionView() {
        @Override
        public String name() {
            return "session t";
        }

        @Override
        public long delivered() {
            return 0;
        }

        @Override
        public int window() {
            return 1 << 16;
        }

        @Override
        public boolean applicationFinished() {
            return false;
        }

        @Override
        public LinkSettings settings() {
            return SETTINGS;
        }

        @Override
        public boolean heardFromPeer() {
            return true;
        }
    };

    private static Attachment link() throws IOException {
        return new Attachment(new Link(MemorySocket.pair()[0]), 0, 1 << 16);
    }

    @Test
    void closingFromAnotherThreadWakesAReaderWaitingForTheNextLink() throws Exception {
        ResumeQueue q = new ResumeQueue(link());
        q.next(SESSION); // the first link, taken by the session
        CompletableFuture<Attachment> waiting = CompletableFuture.supplyAsync(() -> {
            try {
                return q.next(SESSION);
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });

        q.close(); // no interrupt: the queue alone must wake the waiting reader

        ExecutionException e = assertThrows(ExecutionException.class, () -> waiting.get(10, TimeUnit.SECONDS));
        assertTrue(e.getCause().getCause() instanceof LinkUnavailableException, String.valueOf(e.getCause()));
        assertFalse(q.hasWaiting(), "a closed queue offers no replacement link");
    }

    @Test
    void aLinkOfferedAfterCloseIsClosedAndTheReaderStillWakes() throws Exception {
        ResumeQueue q = new ResumeQueue(link());
        q.next(SESSION);
        q.close();
        Attachment late = link();

        q.offer(late);

        assertTrue(late.link().isClosed(), "the late link is closed by the queue");
        assertThrows(LinkUnavailableException.class, () -> q.next(SESSION));
    }

    @Test
    void ofSeveralQueuedLinksTheReaderGetsTheNewestAndTheOthersAreClosed() throws Exception {
        ResumeQueue q = new ResumeQueue(link());
        q.next(SESSION);
        Attachment older = link();
        Attachment newer = link();
        q.offer(older);
        q.offer(newer);

        assertSame(newer, q.next(SESSION));
        assertTrue(older.link().isClosed());
    }
}
