package net.roamproxy.session;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import net.roamproxy.metrics.Metrics;
import net.roamproxy.session.SessionState.Action;
import net.roamproxy.session.SessionState.Event;
import net.roamproxy.testkit.MemorySocket;

/** What the state machine asks for becomes the session's close with the right reason and kind of end. */
class TransitionsTest {
    private final MemorySocket[] app = MemorySocket.pair();
    private final Session session = new Session("session t", "test-session", app[0], LinkSettings.defaults(),
            s -> {
                throw new AssertionError("no link is asked for: the session is never started");
            }, true, s -> { }, () -> 0L, Runnable::run, Metrics.unshared("test"));

    @AfterEach
    void close() {
        session.close("test over");
    }

    @Test
    void resetAndCloseEndsTheSessionWithTheGivenReasonAndResetsTheApplication() {
        session.transitions.perform(EnumSet.of(Action.RESET_APP_AND_CLOSE), "the peer's application reset (test)");
        assertTrue(session.isClosed());
        assertEquals("the peer's application reset (test)", session.closeReason());
        assertTrue(app[0].wasReset());
    }

    @Test
    void aCleanCloseSaysBothDirectionsEndedAndDoesNotResetTheApplication() {
        session.transitions.perform(EnumSet.of(Action.CLOSE_CLEAN), "not used for a clean close");
        assertEquals("both directions ended, everything delivered and acknowledged", session.closeReason());
        assertFalse(app[0].wasReset());
        assertTrue(app[0].isClosed());
    }

    @Test
    void flushThenStoppingBelongsToTheProxysStopAlone() {
        assertThrows(IllegalStateException.class,
                () -> session.transitions.perform(EnumSet.of(Action.FLUSH_THEN_STOPPING), null));
        assertFalse(session.isClosed());
    }

    @Test
    void bookkeepingRunsUnderTheStatesMonitorBeforeTheTransition() {
        AtomicBoolean underMonitor = new AtomicBoolean();
        String before = session.stateText();
        session.transitions.perform(Event.APP_EOF, null, () -> {
            underMonitor.set(Thread.holdsLock(session.state));
            assertEquals(before, session.stateText(), "the transition comes after the bookkeeping");
        });
        assertTrue(underMonitor.get());
        assertFalse(before.equals(session.stateText()), "then the transition is taken");
    }
}
