package net.roamproxy.hardening;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import net.roamproxy.wire.Frame;
import net.roamproxy.wire.Handshake;
import net.roamproxy.wire.Hello;
import net.roamproxy.wire.ProtocolException;
import net.roamproxy.wire.Refusal;
import net.roamproxy.wire.Welcome;

/**
 * What the handshake may rely on in a clear frame the reader let through: its size is within
 * its type's bounds, and if its decoder accepts it, every field is one the handshake can use
 * as is. A decoder may refuse it, with a {@link ProtocolException} only. Stateless.
 */
final class HandshakePayloads {
    private HandshakePayloads() {
    }

    static void check(Frame f, FuzzStats stats) {
        try {
            switch (f.type()) {
                case HELLO -> {
                    assertTrue(f.length() >= Hello.MIN_SIZE && f.length() <= Hello.MAX_SIZE, f.toString());
                    Hello h = Hello.decode(f);
                    assertTrue(h.mode() != null && h.window() > 0 && h.nonce().length == Handshake.NONCE_SIZE
                            && h.keyShare().length == Handshake.KEY_SIZE, "decoded " + h);
                    assertEquals(h.mode() == Handshake.Mode.NEW, h.sessionId() == 0, "decoded " + h);
                    assertTrue(h.service().isEmpty() || h.mode() == Handshake.Mode.NEW && Hello.validService(h.service()),
                            "decoded " + h);
                }
                case WELCOME -> {
                    assertTrue(f.length() >= Welcome.RESUMED_SIZE && f.length() <= Welcome.NEW_SESSION_SIZE,
                            f.toString());
                    Welcome w = Welcome.decode(f);
                    boolean fresh = w.status() == Handshake.Status.NEW_SESSION;
                    assertTrue(w.status().accepted() && w.sessionId() != 0 && w.window() > 0
                            && w.nonce().length == Handshake.NONCE_SIZE && w.keyShare().length == Handshake.KEY_SIZE
                            && w.hostKey().length == (fresh ? Handshake.HOST_KEY_SIZE : 0)
                            && w.auth().length == Welcome.authSize(w.status()), "decoded " + w);
                }
                case REFUSED -> {
                    assertTrue(f.length() >= Refusal.MIN_SIZE && f.length() <= Refusal.MAX_SIZE, f.toString());
                    Refusal r = Refusal.decode(f);
                    assertTrue(!r.status().accepted() && (r.auth().length == 0 || r.auth().length == Handshake.MAC_SIZE
                            || r.auth().length == Refusal.SIGNED_AUTH_SIZE), "decoded " + r);
                    assertEquals(r.signed() ? Handshake.SIGNATURE_SIZE : r.auth().length, r.tag().length);
                    assertEquals(Handshake.HOST_KEY_SIZE, r.hostKey().length);
                }
                default -> throw new AssertionError("not a clear type: " + f);
            }
            stats.handshakes++;
        } catch (ProtocolException e) {
            stats.handshakeErrors++;
        }
    }
}
