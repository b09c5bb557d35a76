package net.roamproxy.session;

import java.util.Collections;
import java.util.EnumSet;
import java.util.Set;

/**
 * A session's state, in one place: each direction of the stream, the link, and whether the
 * session is over. Pure (no sockets, no threads, no clock): the session feeds it events and
 * carries out the actions it returns, so every transition is unit-tested on its own.
 *
 * <pre>
 *  each direction (out: our application to the peer; in: the peer to our application)
 *
 *     OPEN ──(out: APP_EOF / in: PEER_END)──> FINISHING ──(out: END_ACKED / in: PEER_END_DELIVERED)──> FINISHED
 *       └─────────┴──(APP_RESET, PEER_ABORT)──> ABORTED (both directions)
 *
 *  the link
 *
 *     CONNECTING (dialing, or handshaking) ──LINK_UP──> UP ──LINK_LOST / LINK_EOF──> DETACHED ──LINK_UP──> UP
 *
 *  the session
 *
 *     OPEN ──(both directions FINISHED, then the peer's FIN on the link)──> CLOSED, clean
 *       ├──(APP_RESET, PEER_ABORT, PEER_STOPPING, STOP, any final failure)──> CLOSED, not clean
 * </pre>
 *
 * <table>
 *   <caption>Events and the actions they return</caption>
 *   <tr><th>event</th><th>when</th><th>actions</th></tr>
 *   <tr><td>APP_EOF</td><td>out OPEN</td><td>SEND_END</td></tr>
 *   <tr><td>END_ACKED</td><td>out FINISHING</td><td>FINISH_LINK if in is FINISHED</td></tr>
 *   <tr><td>PEER_END</td><td>in OPEN</td><td>DELIVER (everything before it, then shut the
 *       application's writing side)</td></tr>
 *   <tr><td>PEER_END_DELIVERED</td><td>in FINISHING</td><td>SEND_ACK, and FINISH_LINK if out is
 *       FINISHED</td></tr>
 *   <tr><td>APP_RESET</td><td>not both FINISHED</td><td>SEND_ABORT (then close, not clean)</td></tr>
 *   <tr><td>PEER_ABORT</td><td>not both FINISHED</td><td>RESET_APP_AND_CLOSE</td></tr>
 *   <tr><td>PEER_STOPPING</td><td>any</td><td>DRAIN_THEN_CLOSE</td></tr>
 *   <tr><td>LINK_UP</td><td>any</td><td>FINISH_LINK if both FINISHED (a resume to say so)</td></tr>
 *   <tr><td>LINK_EOF</td><td>both FINISHED</td><td>CLOSE_CLEAN</td></tr>
 *   <tr><td>LINK_LOST</td><td>both FINISHED</td><td>CLOSE_CLEAN, unless this side resumes
 *       after the end (cproxy: the peer may still wait for our last ack)</td></tr>
 *   <tr><td>STOP</td><td>not both FINISHED</td><td>FLUSH_THEN_STOPPING</td></tr>
 * </table>
 * Any other combination changes nothing and returns no action; after {@link #closed()} every
 * event is ignored.
 *
 * <p>Thread-safe: events come from the link reader, the application reader and writer, and
 * shutdown. The link reader applies the link's events under the lock of the session's
 * {@link LinkSlot}, in one step with the change of link they describe; {@code --status} and
 * the metrics read the link's state here.
 */
public final class SessionState {

    /** One direction of the stream. */
    public enum Stream { OPEN, FINISHING, FINISHED, ABORTED }

    /** The session's current link. */
    public enum Link { CONNECTING, UP, DETACHED }

    /** What happened. */
    public enum Event {
        /** Our application shut down its writing side (EOF). */
        APP_EOF,
        /** Our application reset its connection, or writing to it failed. */
        APP_RESET,
        /** The peer acknowledged our END. */
        END_ACKED,
        /** The peer's END arrived (first time). */
        PEER_END,
        /** Everything before the peer's END reached our application, whose writing side is now shut. */
        PEER_END_DELIVERED,
        /** The peer's application reset its connection. */
        PEER_ABORT,
        /** The peer proxy is stopping. */
        PEER_STOPPING,
        /** A link finished its handshake and carries the session. */
        LINK_UP,
        /** The link failed or went silent. */
        LINK_LOST,
        /** The peer ended the link in order (FIN). */
        LINK_EOF,
        /** This proxy is stopping. */
        STOP
    }

    /** What the session must do about it. */
    public enum Action {
        /** An END is owed to the peer, after every byte before it. */
        SEND_END,
        /** An ABORT is owed to the peer; the session then closes, not clean. */
        SEND_ABORT,
        /** Write the receive queue to the application (and then shut its writing side). */
        DELIVER,
        /** An ack is owed now, not at half the window. */
        SEND_ACK,
        /** Both directions are over: send what is owed, then end our side of the link (FIN). */
        FINISH_LINK,
        /** Close the session cleanly: both directions delivered and acknowledged. */
        CLOSE_CLEAN,
        /** Reset the application connection and close the session. */
        RESET_APP_AND_CLOSE,
        /** Deliver what arrived, then reset the application connection and close the session. */
        DRAIN_THEN_CLOSE,
        /** Flush within the stop budget, send STOPPING, close the session. */
        FLUSH_THEN_STOPPING
    }

    private final boolean resumesAfterEnd;
    private Stream out = Stream.OPEN;
    private Stream in = Stream.OPEN;
    private Link link = Link.CONNECTING;
    private boolean closed;

    /**
     * @param resumesAfterEnd whether a link lost after both directions finished is resumed
     *                        (cproxy, whose peer may still wait for its last ack) rather than
     *                        taken as the end (sproxy, which has nothing left to learn)
     */
    public SessionState(boolean resumesAfterEnd) {
        this.resumesAfterEnd = resumesAfterEnd;
    }

    /** Applies {@code e} and returns what to do about it (possibly nothing). */
    public synchronized Set<Action> on(Event e) {
        if (closed) {
            return Collections.emptySet();
        }
        Set<Action> a = EnumSet.noneOf(Action.class);
        // A switch expression, not a statement: the compiler then insists on a case for every event.
        Runnable step = switch (e) {
            case APP_EOF -> () -> {
                if (out == Stream.OPEN) {
                    out = Stream.FINISHING;
                    a.add(Action.SEND_END);
                }
            };
            case END_ACKED -> () -> {
                if (out == Stream.FINISHING) {
                    out = Stream.FINISHED;
                    ifEnded(a);
                }
            };
            case PEER_END -> () -> {
                if (in == Stream.OPEN) {
                    in = Stream.FINISHING;
                    a.add(Action.DELIVER);
                }
            };
            case PEER_END_DELIVERED -> () -> {
                if (in == Stream.FINISHING) {
                    in = Stream.FINISHED;
                    a.add(Action.SEND_ACK);
                    ifEnded(a);
                }
            };
            case APP_RESET -> () -> abort(a, Action.SEND_ABORT);
            case PEER_ABORT -> () -> abort(a, Action.RESET_APP_AND_CLOSE);
            case PEER_STOPPING -> () -> a.add(Action.DRAIN_THEN_CLOSE);
            case LINK_UP -> () -> {
                link = Link.UP;
                ifEnded(a);
            };
            case LINK_EOF, LINK_LOST -> () -> {
                link = Link.DETACHED;
                if (ended() && (e == Event.LINK_EOF || !resumesAfterEnd)) {
                    a.add(Action.CLOSE_CLEAN);
                }
            };
            case STOP -> () -> {
                if (!ended()) {
                    a.add(Action.FLUSH_THEN_STOPPING);
                }
            };
        };
        step.run();
        return a;
    }

    /** Both directions abort, unless the session already ended or aborted; then {@code action}. */
    private void abort(Set<Action> a, Action action) {
        if (!ended() && !aborted()) {
            out = Stream.ABORTED;
            in = Stream.ABORTED;
            a.add(action);
        }
    }

    private void ifEnded(Set<Action> a) {
        if (ended()) {
            a.add(Action.FINISH_LINK);
        }
    }

    /**
     * The session is over: every later event is ignored.
     *
     * @return whether this call closed it (false: it was closed already), so that exactly one
     *         caller goes on to close the session's sockets
     */
    public synchronized boolean close() {
        if (closed) {
            return false;
        }
        closed = true;
        return true;
    }

    public synchronized boolean closed() {
        return closed;
    }

    /** Both directions finished: delivered and acknowledged both ways. */
    public synchronized boolean ended() {
        return out == Stream.FINISHED && in == Stream.FINISHED;
    }

    public synchronized boolean aborted() {
        return out == Stream.ABORTED;
    }

    /** Whether the peer's stream reached its end at our application. */
    public synchronized boolean inFinished() {
        return in == Stream.FINISHED;
    }

    public synchronized Stream out() {
        return out;
    }

    public synchronized Stream in() {
        return in;
    }

    public synchronized Link link() {
        return link;
    }

    @Override
    public synchronized String toString() {
        return "out " + out + ", in " + in + ", link " + link + (closed ? ", closed" : "");
    }
}
