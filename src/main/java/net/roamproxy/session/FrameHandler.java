package net.roamproxy.session;

import java.util.Set;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import net.roamproxy.session.SessionState.Action;
import net.roamproxy.session.SessionState.Event;
import net.roamproxy.wire.ProtocolException;
import net.roamproxy.wire.Wire;

/**
 * What a frame from the peer means for the session, on an established link: its ack frees the
 * replay buffer (and may finish our direction), DATA goes to the receive queue, END / ABORT /
 * STOPPING become state-machine events. A frame that breaks the protocol throws, which drops
 * only that link. Only sealed frames count here, each opened and so authentic ({@link Link});
 * a clear frame is refused before anything of it is used, and a handshake frame's type is an
 * error either way.
 *
 * <p>Threading: called only by the session's link reader.
 */
final class FrameHandler {
    private static final Logger log = LogManager.getLogger(FrameHandler.class);

    private FrameHandler() {
    }

    static void handle(Session s, Wire.Header f, Link l) throws ProtocolException {
        if (log.isTraceEnabled()) {
            log.trace("{} << {} seq={} ack={} len={}", s.name(), f.type(), f.seq(), f.ack(), f.length());
        }
        if (!f.type().isSealed()) {
            // In clear, so anyone on the path may have written it: nothing of it may count, its ack least of all.
            throw new ProtocolException("a clear " + f.type() + " on an established link");
        }
        if (s.out.ack(f.ack())) {
            s.transitions.perform(Event.END_ACKED, null);
        }
        if (s.out.sendable() > 0) {
            s.sender.request(); // the ack opened the peer's window
        }
        switch (f.type()) {
            case DATA -> {
                int queued = l.payloadOpenedToTarget() ? s.in.commit(f.seq(), f.length())
                        : s.in.accept(f.seq(), l.payloadArray(), l.payloadOffset(), f.length());
                if (queued > 0) {
                    s.appWriter.request();
                }
            }
            case END -> {
                boolean first;
                Set<Action> actions = Set.of();
                synchronized (s.state) {
                    // With the transition, so the writer cannot deliver the end before the state knows of it.
                    first = s.in.peerFinished(f.seq());
                    if (first) {
                        actions = s.state.on(Event.PEER_END);
                    }
                }
                if (first) {
                    log.info("{}: the peer's application ended its stream after {} bytes; our application's writing "
                            + "side is shut once they are delivered, the other direction stays open",
                            s.name(), f.seq());
                    s.transitions.perform(actions, null);
                }
            }
            case ABORT -> s.transitions.perform(Event.PEER_ABORT, "the peer's application reset its connection after it "
                    + "received " + f.ack() + " bytes; resetting ours");
            case STOPPING -> s.transitions.perform(Event.PEER_STOPPING, "the peer proxy is stopping (it had received "
                    + f.ack() + " bytes); resetting our application connection after delivering what arrived");
            case HEARTBEAT, ACK -> {
                // the ack above is all they carry
            }
            case PROOF, TOKEN, HELLO, WELCOME, REFUSED -> throw new ProtocolException("unexpected " + f.type()
                    + " on an established link");
        }
    }
}
