package net.roamproxy.session;

import java.io.EOFException;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import net.roamproxy.metrics.LinkLoss;
import net.roamproxy.session.SessionState.Action;
import net.roamproxy.session.SessionState.Event;
import net.roamproxy.stream.ReplayBuffer;
import net.roamproxy.wire.FrameType;
import net.roamproxy.wire.ProtocolException;
import net.roamproxy.wire.Wire;

/**
 * A session's link reader, on the session's own {@code -link} thread: the select-like loop.
 * Obtains each link from the provider, reads its frames with a socket timeout no longer than
 * the next heartbeat or liveness deadline, sends heartbeats, detects a lost link, and closes
 * each link it is done with. It writes only a heartbeat, and only when that write cannot block
 * ({@link LinkSender#heartbeatFromReader}), so a stuck write can never stop failure detection.
 *
 * <p>After the session ended a link in order (our FIN is out), it keeps reading that link
 * until the peer's FIN, at most {@link Session#MAX_LINGER_MILLIS}, and only then closes the
 * socket: closing earlier, with the peer's frames unread, would send a reset that can discard
 * our own last frames.
 */
final class SessionWorker implements Runnable {
    private static final Logger log = LogManager.getLogger(SessionWorker.class);

    private final Session s;
    private final LinkEnds ends;
    private final OpenIntoQueue intoQueue;
    private boolean everAttached;
    private long detachedAt;

    SessionWorker(Session s) {
        this.s = s;
        this.ends = new LinkEnds(s);
        this.intoQueue = new OpenIntoQueue(s.in);
        this.detachedAt = s.clock.getAsLong();
    }

    @Override
    public void run() {
        try {
            while (!s.isClosed()) {
                Attachment a;
                try {
                    a = s.provider.next(s);
                } catch (LinkUnavailableException e) {
                    if (e.peerEnded() && s.state.inFinished() && s.out.finished()) {
                        // Our last ack was lost with the link, but the peer had what it needed.
                        s.closeWith("both directions ended; the peer had already closed the session", true);
                    } else {
                        s.close(e.getMessage());
                    }
                    return;
                }
                if (a.sessionName() != null) {
                    s.rename(a.sessionName());
                }
                boolean eof = false;
                Set<Action> afterLink;
                try {
                    if (attach(a)) {
                        eof = runLink(a.link(), a.settled());
                    }
                } finally {
                    // Also when attach refuses the link: the session owns it from the hand-off on.
                    afterLink = detach(a.link(), eof);
                    a.settled().run();
                }
                s.transitions.perform(afterLink, null);
            }
        } catch (InterruptedException e) {
            s.close("shutting down");
        } catch (ProtocolException e) {
            s.close("protocol error: " + e.getMessage());
        } catch (RuntimeException | Error e) {
            SessionFailure.close(s, "its link reader", e);
        }
    }

    /** Makes {@code a} the current link; replay starts at the peer's ack. */
    private boolean attach(Attachment a) throws ProtocolException {
        Link l = a.link();
        boolean resumed;
        ReplayBuffer.Rewound rewound;
        Set<Action> up;
        s.slot.lock();
        try {
            if (s.isClosed()) {
                return false;
            }
            rewound = s.out.rewind(a.peerAck(), a.peerWindow());
            l.openDataInto(intoQueue);
            // The link and the state's word for it change together, under the slot's lock.
            s.slot.attach(l, s.name());
            up = s.state.on(Event.LINK_UP);
            s.history.attached(s.clock.getAsLong());
            resumed = everAttached;
            if (!everAttached) {
                everAttached = true;
                log.info("{}: started over link {} -> {}", s.name(), l.local(), l.peer());
            } else {
                long away = s.clock.getAsLong() - detachedAt;
                s.metrics.resumed(away);
                log.info("{}: resumed over link {} -> {} after {} ms away; resending {} bytes the peer missed, "
                                + "asking it to resend from offset {} ({})", s.name(), l.local(), l.peer(),
                        away / 1_000_000, rewound.resend(), s.in.delivered(), s.state);
            }
        } finally {
            s.slot.unlock();
        }
        s.transitions.perform(up, null);
        if (rewound.endAcked()) {
            s.transitions.perform(Event.END_ACKED, null);
        }
        if (resumed && s.provider.peerAwaitsFirstFrame()) {
            // Said at once, so the peer learns the link is taken up without waiting for data or
            // the next heartbeat: a cproxy resuming many sessions paces its dials by it. (sproxy
            // needs no such word: cproxy's PROOF already told it.)
            s.sender.heartbeat();
        } else {
            s.sender.request();
        }
        return true;
    }

    /** Reads {@code l} until it is lost, replaced or the session closes. @return whether it ended with the peer's FIN */
    private boolean runLink(Link l, Runnable settled) {
        Liveness live = new Liveness(s.settings.heartbeatInterval().toNanos(), s.settings.missedHeartbeats(),
                s.clock.getAsLong());
        long lingerNanos = Math.min(s.settings.deadAfter().toMillis(), Session.MAX_LINGER_MILLIS) * 1_000_000;
        long lingerUntil = 0;
        boolean lingering = false;
        // Set when the peer looks lost: one last read that waits 1 ms, because a process that
        // fell behind (a GC pause, a starved CPU) finds the peer's frames waiting in the socket,
        // and its own delay is not the peer's silence.
        boolean lastLook = false;
        boolean heardOnThisLink = false;
        while (true) {
            long now = s.clock.getAsLong();
            int timeout;
            if (s.isClosed()) {
                if (!l.sendingFinished()) {
                    return false;
                }
                if (!lingering) {
                    lingering = true;
                    lingerUntil = now + lingerNanos;
                }
                if (now - lingerUntil >= 0) {
                    return false;
                }
                timeout = (int) Math.max(1, (lingerUntil - now) / 1_000_000);
            } else {
                lastLook = live.peerLost(now);
                if (live.heartbeatDue(now)) {
                    heartbeat(live, now);
                }
                if (s.provider.hasWaiting()) {
                    ends.replaced(l, sinceFrame(live));
                    return false;
                }
                timeout = lastLook ? 1 : live.millisUntilNextEvent(now);
            }
            Wire.Header f;
            try {
                f = l.readInPlace(timeout);
            } catch (SocketTimeoutException e) {
                if (lastLook) {
                    ends.silent(l, sinceFrame(live));
                    return false;
                }
                continue;
            } catch (EOFException e) {
                if (l.abortReason() != null) {
                    // Not the peer's FIN: someone woke us because the link is dead or replaced.
                    ends.lostOrReplaced(l, sinceFrame(live), l.abortKind(), l.abortReason());
                    return false;
                }
                if (!s.isClosed() && !s.state.ended()) {
                    ends.peerEnded(l, sinceFrame(live));
                } else if (s.state.ended() && !l.sendingFinished()) {
                    // The session is over and the peer's FIN came before our send job's last ack
                    // and FIN: send them now, or closing the link would reset them away.
                    s.sender.finishBeforeClose(s.settings.heartbeatInterval().toMillis());
                }
                return true;
            } catch (ProtocolException e) {
                ends.protocolError(l, e);
                return false;
            } catch (IOException e) {
                if (l.abortReason() != null) {
                    ends.lostOrReplaced(l, sinceFrame(live), l.abortKind(), l.abortReason());
                } else {
                    ends.lostOrReplaced(l, sinceFrame(live), LinkLoss.RESET, e.getMessage());
                }
                return false;
            }
            if (lastLook) {
                LocalStalls.record(s.name(), l.peer(), sinceFrame(live));
            }
            if (!heardOnThisLink) {
                heardOnThisLink = true;
                settled.run();
            }
            long at = s.clock.getAsLong();
            live.frameReceived(at);
            // Only a heartbeat, not data: a busy link would otherwise send ours twice as often.
            if (!lingering && f.type() == FrameType.HEARTBEAT && live.heartbeatDueSoon(at)) {
                heartbeat(live, at);
            }
            s.history.frame(at);
            s.heard();
            if (lingering) {
                continue; // the session is over: frames are read only so that closing sends no reset
            }
            try {
                FrameHandler.handle(s, f, l);
            } catch (ProtocolException e) {
                ends.protocolError(l, e);
                return false;
            }
            if (f.type() == FrameType.STOPPING) {
                awaitDrained();
                return false;
            }
            if (l.isClosed()) {
                return false;
            }
        }
    }

    private long sinceFrame(Liveness live) {
        return live.millisSinceLastFrame(s.clock.getAsLong());
    }

    /** Sends our heartbeat, and lets the buffers of a session that has gone quiet shrink. */
    private void heartbeat(Liveness live, long now) {
        live.heartbeatSent(now);
        s.sender.heartbeatFromReader();
        s.out.shrinkIfIdle();
        s.in.shrinkIfIdle();
    }

    /**
     * The peer is stopping: the application writer delivers what arrived, then closes the
     * session. An application that does not read must not keep it open: after one dead-link
     * interval the session closes anyway.
     */
    private void awaitDrained() {
        try {
            if (!s.awaitClosed(s.settings.deadAfter().toMillis(), TimeUnit.MILLISECONDS)) {
                s.close("the peer proxy is stopping, and our application did not take what arrived within "
                        + LinkSettings.human(s.settings.deadAfter()));
            }
        } catch (InterruptedException e) {
            s.close("shutting down");
        }
    }

    /**
     * Closes the link and waits for its writer to let go of it, so the next attach starts
     * clean. A link we ended in order and the peer ended too closes without a reset.
     *
     * @return what the state machine asks for now that the link is gone (LINK_EOF or LINK_LOST)
     */
    private Set<Action> detach(Link l, boolean eof) {
        if (eof && l.sendingFinished()) {
            l.closeGracefully();
        } else {
            l.close(); // also unblocks a writer stuck on a dead link
        }
        s.slot.lock();
        try {
            if (s.slot.detach(l)) {
                detachedAt = s.clock.getAsLong();
                s.history.detached(detachedAt);
            }
            return s.state.on(eof ? Event.LINK_EOF : Event.LINK_LOST);
        } finally {
            s.slot.unlock();
        }
    }
}
