package net.roamproxy.session;

import static net.roamproxy.session.SessionState.Action.CLOSE_CLEAN;
import static net.roamproxy.session.SessionState.Action.DELIVER;
import static net.roamproxy.session.SessionState.Action.DRAIN_THEN_CLOSE;
import static net.roamproxy.session.SessionState.Action.FINISH_LINK;
import static net.roamproxy.session.SessionState.Action.FLUSH_THEN_STOPPING;
import static net.roamproxy.session.SessionState.Action.RESET_APP_AND_CLOSE;
import static net.roamproxy.session.SessionState.Action.SEND_ABORT;
import static net.roamproxy.session.SessionState.Action.SEND_ACK;
import static net.roamproxy.session.SessionState.Action.SEND_END;
import static net.roamproxy.session.SessionState.Event.APP_EOF;
import static net.roamproxy.session.SessionState.Event.APP_RESET;
import static net.roamproxy.session.SessionState.Event.END_ACKED;
import static net.roamproxy.session.SessionState.Event.LINK_EOF;
import static net.roamproxy.session.SessionState.Event.LINK_LOST;
import static net.roamproxy.session.SessionState.Event.LINK_UP;
import static net.roamproxy.session.SessionState.Event.PEER_ABORT;
import static net.roamproxy.session.SessionState.Event.PEER_END;
import static net.roamproxy.session.SessionState.Event.PEER_END_DELIVERED;
import static net.roamproxy.session.SessionState.Event.PEER_STOPPING;
import static net.roamproxy.session.SessionState.Event.STOP;
import static net.roamproxy.session.SessionState.Stream.ABORTED;
import static net.roamproxy.session.SessionState.Stream.FINISHED;
import static net.roamproxy.session.SessionState.Stream.FINISHING;
import static net.roamproxy.session.SessionState.Stream.OPEN;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

import net.roamproxy.session.SessionState.Action;
import net.roamproxy.session.SessionState.Event;

/** The session's state machine, state × event → actions, with no sockets and no threads. */
class SessionStateTest {

    /** Events that bring a fresh session (link up) to a named state. */
    enum Given {
        BOTH_OPEN(),
        OUT_FINISHING(APP_EOF),
        OUT_FINISHED(APP_EOF, END_ACKED),
        IN_FINISHING(PEER_END),
        IN_FINISHED(PEER_END, PEER_END_DELIVERED),
        OUT_FINISHED_IN_FINISHING(APP_EOF, END_ACKED, PEER_END),
        BOTH_FINISHED(APP_EOF, END_ACKED, PEER_END, PEER_END_DELIVERED),
        ABORTED_BY_US(APP_RESET);

        final Event[] events;

        Given(Event... events) {
            this.events = events;
        }

        SessionState apply(boolean resumesAfterEnd) {
            SessionState s = new SessionState(resumesAfterEnd);
            s.on(LINK_UP);
            for (Event e : events) {
                s.on(e);
            }
            return s;
        }
    }

    static Stream<Arguments> table() {
        return Stream.of(
                //        given                               event               actions                         out        in
                row(Given.BOTH_OPEN, APP_EOF, Set.of(SEND_END), FINISHING, OPEN),
                row(Given.BOTH_OPEN, PEER_END, Set.of(DELIVER), OPEN, FINISHING),
                row(Given.BOTH_OPEN, END_ACKED, Set.of(), OPEN, OPEN),
                row(Given.BOTH_OPEN, PEER_END_DELIVERED, Set.of(), OPEN, OPEN),
                row(Given.BOTH_OPEN, APP_RESET, Set.of(SEND_ABORT), ABORTED, ABORTED),
                row(Given.BOTH_OPEN, PEER_ABORT, Set.of(RESET_APP_AND_CLOSE), ABORTED, ABORTED),
                row(Given.BOTH_OPEN, PEER_STOPPING, Set.of(DRAIN_THEN_CLOSE), OPEN, OPEN),
                row(Given.BOTH_OPEN, STOP, Set.of(FLUSH_THEN_STOPPING), OPEN, OPEN),
                row(Given.BOTH_OPEN, LINK_LOST, Set.of(), OPEN, OPEN),
                row(Given.BOTH_OPEN, LINK_EOF, Set.of(), OPEN, OPEN),
                row(Given.OUT_FINISHING, APP_EOF, Set.of(), FINISHING, OPEN),
                row(Given.OUT_FINISHING, END_ACKED, Set.of(), FINISHED, OPEN),
                row(Given.OUT_FINISHING, PEER_END, Set.of(DELIVER), FINISHING, FINISHING),
                row(Given.OUT_FINISHING, LINK_LOST, Set.of(), FINISHING, OPEN),
                row(Given.OUT_FINISHED, PEER_END, Set.of(DELIVER), FINISHED, FINISHING),
                row(Given.OUT_FINISHED, APP_RESET, Set.of(SEND_ABORT), ABORTED, ABORTED),
                row(Given.IN_FINISHING, PEER_END, Set.of(), OPEN, FINISHING),
                row(Given.IN_FINISHING, PEER_END_DELIVERED, Set.of(SEND_ACK), OPEN, FINISHED),
                row(Given.IN_FINISHED, APP_EOF, Set.of(SEND_END), FINISHING, FINISHED),
                row(Given.IN_FINISHED, LINK_EOF, Set.of(), OPEN, FINISHED),
                row(Given.OUT_FINISHED_IN_FINISHING, PEER_END_DELIVERED, Set.of(SEND_ACK, FINISH_LINK), FINISHED,
                        FINISHED),
                row(Given.BOTH_FINISHED, LINK_EOF, Set.of(CLOSE_CLEAN), FINISHED, FINISHED),
                row(Given.BOTH_FINISHED, LINK_UP, Set.of(FINISH_LINK), FINISHED, FINISHED),
                row(Given.BOTH_FINISHED, APP_RESET, Set.of(), FINISHED, FINISHED),
                row(Given.BOTH_FINISHED, PEER_ABORT, Set.of(), FINISHED, FINISHED),
                row(Given.BOTH_FINISHED, STOP, Set.of(), FINISHED, FINISHED),
                row(Given.ABORTED_BY_US, APP_RESET, Set.of(), ABORTED, ABORTED),
                row(Given.ABORTED_BY_US, PEER_ABORT, Set.of(), ABORTED, ABORTED),
                row(Given.ABORTED_BY_US, APP_EOF, Set.of(), ABORTED, ABORTED));
    }

    private static Arguments row(Given given, Event event, Set<Action> actions, SessionState.Stream out,
                                 SessionState.Stream in) {
        return Arguments.of(given, event, actions, out, in);
    }

    @ParameterizedTest(name = "{0} + {1} -> {2}, out {3}, in {4}")
    @MethodSource("table")
    void eachEventInEachStateYieldsItsActionsAndTransition(Given given, Event event, Set<Action> actions,
                                                          SessionState.Stream out, SessionState.Stream in) {
        SessionState s = given.apply(true);

        Set<Action> got = s.on(event);

        assertEquals(actions.isEmpty() ? EnumSet.noneOf(Action.class) : EnumSet.copyOf(actions), got);
        assertEquals(out, s.out(), "out");
        assertEquals(in, s.in(), "in");
    }

    @Test
    void endingOurSideLastFinishesTheLinkAndThePeersFinThenClosesCleanly() {
        SessionState s = Given.IN_FINISHED.apply(true);

        assertEquals(EnumSet.of(SEND_END), s.on(APP_EOF));
        assertEquals(EnumSet.of(FINISH_LINK), s.on(END_ACKED));
        assertTrue(s.ended());
        assertEquals(EnumSet.of(CLOSE_CLEAN), s.on(LINK_EOF));
    }

    @Test
    void aLinkLostAfterTheEndIsResumedByTheSideThatOwesTheLastAckAndTakenAsTheEndByTheOther() {
        assertEquals(Set.of(), Given.BOTH_FINISHED.apply(true).on(LINK_LOST), "cproxy resumes");
        assertEquals(EnumSet.of(CLOSE_CLEAN), Given.BOTH_FINISHED.apply(false).on(LINK_LOST), "sproxy ends");
    }

    @ParameterizedTest
    @EnumSource(Event.class)
    void aClosedSessionIgnoresEveryEvent(Event e) {
        SessionState s = Given.BOTH_OPEN.apply(true);
        assertTrue(s.close(), "the first close closes it");

        assertEquals(Set.of(), s.on(e));
        assertTrue(s.closed());
        assertFalse(s.close(), "a second close does nothing");
    }

    @Test
    void theLinkStateFollowsLinkEvents() {
        SessionState s = new SessionState(true);
        assertEquals(SessionState.Link.CONNECTING, s.link());
        for (Event e : List.of(LINK_UP, LINK_LOST, LINK_UP, LINK_EOF)) {
            s.on(e);
        }
        assertEquals(SessionState.Link.DETACHED, s.link());
        s.on(LINK_UP);
        assertEquals(SessionState.Link.UP, s.link());
    }
}
