package net.roamproxy.testkit;

import net.roamproxy.protocol.Frame;
import net.roamproxy.protocol.Handshake;
import net.roamproxy.protocol.Hello;
import net.roamproxy.protocol.ProtocolException;
import net.roamproxy.protocol.SessionKeys;
import net.roamproxy.protocol.Welcome;

/** WELCOMEs a hand-driven fake sproxy sends, made with the product's own key agreement. Stateless. */
public final class Welcomes {
    private Welcomes() {
    }

    /** A valid NEW_SESSION answer to cproxy's {@code hello} (no pre-shared key), naming session {@code id}. */
    public static Welcome newSession(Frame hello, long id) throws ProtocolException {
        Hello h = Hello.decode(hello);
        SessionKeys.KeyShare own = SessionKeys.KeyShare.generate();
        byte[] secret = SessionKeys.sessionSecret(own.agree(h.keyShare()), id, h.keyShare(), own.publicKey(), null);
        return new Welcome(Handshake.Status.NEW_SESSION, id, own.publicKey(), 1 << 20,
                SessionKeys.newSessionConfirmation(secret));
    }
}
