package net.roamproxy.hardening;

import static net.roamproxy.hardening.MitmRelay.Direction.DOWN;
import static net.roamproxy.hardening.MitmRelay.Direction.UP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import net.roamproxy.hardening.MitmRelay.Direction;
import net.roamproxy.hardening.MitmRelay.Seen;
import net.roamproxy.session.LinkSettings;
import net.roamproxy.testkit.AppClient;
import net.roamproxy.testkit.Await;
import net.roamproxy.testkit.Closer;
import net.roamproxy.testkit.EchoServer;
import net.roamproxy.testkit.LogCapture;
import net.roamproxy.testkit.Pacer;
import net.roamproxy.testkit.Rig;
import net.roamproxy.testkit.StreamServer;
import net.roamproxy.testkit.Streams;
import net.roamproxy.wire.Handshake.Status;
import net.roamproxy.wire.HostKey;
import net.roamproxy.wire.Wire;

/**
 * An attacker on the link between cproxy and sproxy, while both applications stream: every
 * frame after the handshake is sealed, so whatever it alters, injects, replays or resets
 * costs a link and never a session. The receiver of a tampered frame drops the link with a
 * WARN, cproxy resumes on a new one, and no corrupted byte ever reaches either application;
 * forged or unauthenticated refusals are failed dials, reported in cproxy's one WARN per
 * outage.
 */
@Timeout(90)
class AttackerRelayTest {
    private static final LinkSettings LINK = Rig.link(Duration.ofMillis(100));
    private static final int BYTES = 2 << 20;
    private static final int CHUNK = 16 * 1024;
    private static final int HELLO = 1;
    private static final int DATA = 4;
    private static final int MODE_AT = Wire.HEADER_SIZE;
    private static final String DROPPED = "dropping link";
    private static final String RESUMED = "resumed over link";
    private static final String FAILED = "handshake(s) with sproxy failed";

    @RegisterExtension final Closer closer = new Closer();
    @RegisterExtension final LogCapture logs = LogCapture.closedBy(closer);

    /** What the attacker does in one round. */
    enum Kind { PAYLOAD_BIT, HEADER_BIT, FORGED_DATA, JUNK, REPLAY, FORGED_REFUSALS, RESET }

    /** One round: an attack on the frames going {@code direction}. */
    record Round(Kind kind, Direction direction) {
        /** Whether the receiver of the tampered frame must drop the link with a WARN. */
        boolean tampers() {
            return kind != Kind.FORGED_REFUSALS && kind != Kind.RESET;
        }
    }

    private static final List<Round> ROUNDS = List.of(new Round(Kind.PAYLOAD_BIT, UP), new Round(Kind.PAYLOAD_BIT, DOWN),
            new Round(Kind.HEADER_BIT, UP), new Round(Kind.HEADER_BIT, DOWN), new Round(Kind.FORGED_DATA, UP),
            new Round(Kind.FORGED_DATA, DOWN), new Round(Kind.FORGED_REFUSALS, UP), new Round(Kind.JUNK, UP),
            new Round(Kind.JUNK, DOWN), new Round(Kind.REPLAY, UP), new Round(Kind.REPLAY, DOWN),
            new Round(Kind.RESET, UP));

    private static boolean sealed(int type) {
        return type != 1 && type != 2 && type != 11;
    }

    private static boolean helloOf(Seen s, int mode) {
        return s.direction() == UP && s.type() == HELLO && s.bytes()[MODE_AT] == mode;
    }

    private static byte[] flipped(byte[] frame, int at, int bit) {
        byte[] b = frame.clone();
        b[at] ^= (byte) (1 << bit);
        return b;
    }

    private int count(Level level, String text) {
        return logs.find(level, m -> m.contains(text)).size();
    }

    /** Arms the attacks of {@code round}; returns when each has fired. */
    private static List<CompletableFuture<Seen>> arm(MitmRelay relay, Round round, SplittableRandom rnd) {
        Direction d = round.direction();
        String what = round.toString();
        return switch (round.kind()) {
            case PAYLOAD_BIT -> List.of(relay.arm(what, s -> s.direction() == d && s.type() == DATA, s -> {
                int at = Wire.HEADER_SIZE + rnd.nextInt(s.payloadLength() - Wire.TAG_SIZE);
                s.conn().forward(d, flipped(s.bytes(), at, rnd.nextInt(8)));
            }));
            case HEADER_BIT -> List.of(relay.arm(what, s -> s.direction() == d && sealed(s.type()), s -> {
                // magic, version, type, seq or ack: the length is left alone, so the receiver
                // is never left waiting for bytes that may not come
                int[] fields = {0, 1, 2, 3, 8 + rnd.nextInt(16)};
                s.conn().forward(d, flipped(s.bytes(), fields[rnd.nextInt(fields.length)], rnd.nextInt(8)));
            }));
            case FORGED_DATA -> List.of(relay.arm(what, s -> s.direction() == d && s.type() == DATA, s -> {
                long seq = Wire.getLong(s.bytes(), 8);
                long ack = Wire.getLong(s.bytes(), 16);
                s.conn().forward(d, Forgeries.sealedLookingData(rnd, 1 + rnd.nextInt(1000), seq, ack));
                s.conn().forward(d, s.bytes());
            }));
            case JUNK -> List.of(relay.arm(what, s -> s.direction() == d && s.type() == DATA, s -> {
                s.conn().forward(d, Forgeries.junk(rnd, 64));
                s.conn().forward(d, s.bytes());
            }));
            case REPLAY -> List.of(relay.arm(what, s -> s.direction() == d && s.type() == DATA && s.index() > 2
                    && sealed(s.conn().frames(d).get(s.index() - 1)[3]), s -> {
                s.conn().forward(d, s.bytes());
                s.conn().forward(d, s.conn().frames(d).get(s.index() - 1));
            }));
            case FORGED_REFUSALS -> List.of(
                    relay.arm("reset", s -> s.direction() == d && s.type() == DATA, s -> s.conn().reset()),
                    relay.arm("UNKNOWN_SESSION with a random MAC", s -> helloOf(s, 2), s -> {
                        s.conn().answer(UP, Forgeries.unknownSessionWithRandomMac(rnd));
                        s.conn().finishToClient();
                    }),
                    relay.arm("unauthenticated REFUSED", s -> helloOf(s, 2), s -> {
                        s.conn().answer(UP, Forgeries.unauthenticatedRefusal(Status.UNKNOWN_SESSION));
                        s.conn().finishToClient();
                    }));
            case RESET -> List.of(relay.arm(what, s -> s.direction() == d && s.type() == DATA, s -> s.conn().reset()));
        };
    }

    @Test
    void theSessionSurvivesEveryTamperingRoundAndBothStreamsStayByteExact() throws Exception {
        AtomicInteger started = new AtomicInteger();
        AtomicBoolean over = new AtomicBoolean();
        // Round r's share of each stream is written once round r's attack is armed, so it always has data to hit.
        Pacer pacer = (offset, total) -> Await.poll(Duration.ofMinutes(1),
                () -> over.get() || started.get() > offset * ROUNDS.size() / total);
        StreamServer target = closer.add(new StreamServer(BYTES, 7, false, pacer));
        MitmChain chain = new MitmChain(closer, LINK, target.port());
        MitmRelay relay = chain.relay;
        AppClient app = chain.openApp();
        byte[] upstream = Streams.pseudoRandom(1001, BYTES);
        app.writeInBackground(upstream, CHUNK, pacer);
        Await.until(chain.flowDeadline(), "session established",
                () -> target.connectionsAccepted() == 1 && chain.sproxy.sessionCount() == 1);
        SplittableRandom rnd = new SplittableRandom(2718);

        for (Round round : ROUNDS) {
            int resumes = count(Level.INFO, RESUMED);
            int dropped = count(Level.WARN, DROPPED);
            List<CompletableFuture<Seen>> fired = arm(relay, round, rnd);
            started.incrementAndGet();
            Seen hit = Await.done(fired.get(0), chain.relinkDeadline(), round + ": the attack");
            for (CompletableFuture<Seen> f : fired) {
                Await.done(f, chain.relinkDeadline(), round + ": the attack");
            }
            Await.until(chain.relinkDeadline(), round + ": both proxies resume the session",
                    () -> count(Level.INFO, RESUMED) >= resumes + 2);
            if (round.tampers()) {
                String peer = "127.0.0.1:" + (round.direction() == UP ? hit.conn().targetSidePort() : relay.port());
                logs.await(chain.flowDeadline(), round + ": the receiver's WARN naming the link", Level.WARN,
                        m -> m.contains(DROPPED) && m.contains(peer));
                assertEquals(dropped + 1, count(Level.WARN, DROPPED), round + ": one WARN for the tampered link");
            } else {
                assertEquals(dropped, count(Level.WARN, DROPPED), round + ": nothing tampered, nothing to warn of");
            }
            if (round.kind() == Kind.FORGED_REFUSALS) {
                LogCapture.Line w = logs.await(chain.flowDeadline(), "cproxy's outage report", Level.WARN,
                        m -> m.contains(FAILED));
                assertTrue(w.message().contains("2 " + FAILED) && w.message().contains("2 answers that did not check out")
                        && w.message().contains("reached sproxy again"), w.toString());
            }
        }
        over.set(true);

        StreamServer.Conn conn = target.connection(0);
        Await.until(chain.relinkDeadline().plus(chain.flowDeadline()), () -> "both streams complete: downstream "
                        + app.receivedCount() + "/" + BYTES + ", upstream " + conn.receivedCount() + "/" + BYTES,
                () -> app.receivedCount() >= BYTES && conn.receivedCount() >= BYTES);
        Await.done(app.written(), chain.flowDeadline(), "the application wrote its stream");
        Streams.assertSameStream("downstream (target to application)", conn.stream(), app.received());
        Streams.assertSameStream("upstream (application to target)", upstream, conn.received());
        assertEquals(1, target.connectionsAccepted(), "resumed every time, never recreated");
        assertTrue(logs.find(Level.INFO, m -> m.contains(": closed:")).isEmpty(), "no session closed: "
                + logs.find(Level.INFO, m -> m.contains(": closed:")));
        assertEquals(1, chain.cproxy.sessionCount());
        assertEquals(1, chain.sproxy.sessionCount());
        assertEquals(1, count(Level.WARN, FAILED), "one outage report, for the one outage with failed handshakes");
        assertFalse(app.ended().isDone(), "the application connection stays open");
        assertEquals(0, relay.armedCount());
    }

    @Test
    void aNewSessionsHelloAnsweredWithARefusalSignedByAnotherHostKeyCostsADialNotTheSession() throws Exception {
        EchoServer echo = closer.add(new EchoServer());
        MitmChain chain = new MitmChain(closer, LINK, echo.port());
        AppClient first = chain.openApp();
        byte[] a = "first".getBytes(StandardCharsets.US_ASCII);
        first.write(a);
        Await.until(chain.flowDeadline(), "the first session's echo: sproxy's host key is now trusted",
                () -> first.receivedCount() >= a.length);
        HostKey other = HostKey.generate();
        CompletableFuture<Seen> forged = chain.relay.arm("REFUSED signed by another host key", s -> helloOf(s, 1),
                s -> {
                    s.conn().answer(UP, Forgeries.refusalSignedBy(other, s.bytes(), Status.BUSY));
                    s.conn().finishToClient();
                });

        AppClient second = chain.openApp();
        byte[] b = "second".getBytes(StandardCharsets.US_ASCII);
        second.write(b);

        Await.done(forged, chain.flowDeadline(), "the forged refusal");
        Await.until(chain.relinkDeadline(), () -> "the second session's echo after the forged refusal; logged:\n"
                + logs.dump(0), () -> second.receivedCount() >= b.length || second.ended().isDone());
        assertTrue(logs.find(Level.INFO, m -> m.contains(": closed:")).isEmpty(), "no session closed: "
                + logs.find(Level.INFO, m -> m.contains(": closed:")));
        assertEquals("second", new String(second.received(), StandardCharsets.US_ASCII));
        LogCapture.Line w = logs.await(chain.flowDeadline(), "cproxy's outage report", Level.WARN,
                m -> m.contains(FAILED));
        assertTrue(w.message().contains("1 " + FAILED) && w.message().contains("1 answers that did not check out"),
                w.toString());
        assertEquals(2, echo.connectionsAccepted());
        assertFalse(first.ended().isDone() || second.ended().isDone());
    }
}
