package net.roamproxy.session;

import java.util.Set;

import net.roamproxy.session.SessionState.Action;
import net.roamproxy.session.SessionState.Event;

/**
 * Drives one session's {@link SessionState}: feeds it an event and carries out the actions it
 * asks for, on the session's send job, its deliver job, or its close. The state machine itself
 * never calls out; this is where its answers turn into work.
 *
 * <p>Threading: any of the session's threads; it holds no state of its own.
 */
final class Transitions {
    private final Session s;

    Transitions(Session s) {
        this.s = s;
    }

    /** Carries out what the state machine asked for; {@code why} explains a close. */
    void perform(Set<Action> actions, String why) {
        for (Action a : actions) {
            // A switch expression, so that the compiler insists on a case for every action.
            Runnable step = switch (a) {
                case SEND_END, SEND_ABORT, SEND_ACK, FINISH_LINK -> s.sender::request;
                case DELIVER -> s.appWriter::request;
                case CLOSE_CLEAN -> () -> s.closeWith("both directions ended, everything delivered and acknowledged",
                        true);
                case RESET_APP_AND_CLOSE -> () -> s.closeWith(why, false);
                case DRAIN_THEN_CLOSE -> () -> s.appWriter.closeWhenDrained(why);
                // Only SessionStop.closeAll raises STOP, and carries this out itself: every session's flush
                // shares one time budget there.
                case FLUSH_THEN_STOPPING -> () -> {
                    throw new IllegalStateException("FLUSH_THEN_STOPPING outside closeAll");
                };
            };
            step.run();
        }
    }

    void perform(Event e, String why) {
        perform(s.state.on(e), why);
    }

    /**
     * Applies the stream bookkeeping that goes with {@code e} and the transition as one step,
     * under the state's monitor, then carries out the actions. Without this, another thread
     * could act on the bookkeeping before the transition: send an END, and see its ack, while
     * the state still says OPEN, and so lose the END_ACKED.
     */
    void perform(Event e, String why, Runnable bookkeeping) {
        Set<Action> actions;
        synchronized (s.state) {
            bookkeeping.run();
            actions = s.state.on(e);
        }
        perform(actions, why);
    }
}
