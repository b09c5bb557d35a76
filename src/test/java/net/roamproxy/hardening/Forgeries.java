package net.roamproxy.hardening;

import java.util.SplittableRandom;

import net.roamproxy.wire.Frame;
import net.roamproxy.wire.FrameType;
import net.roamproxy.wire.Handshake.Status;
import net.roamproxy.wire.Handshake;
import net.roamproxy.wire.HostKey;
import net.roamproxy.wire.KeySchedule;
import net.roamproxy.wire.KeyShare;
import net.roamproxy.wire.Refusal;
import net.roamproxy.wire.Transcript;
import net.roamproxy.wire.Welcome;
import net.roamproxy.wire.Wire;

/**
 * Frames an attacker on the link makes up, whole and on the wire, with the product's own
 * encoders: what each looks like is exactly what a real peer's would, only the
 * authentication is the attacker's. Stateless.
 */
final class Forgeries {
    private Forgeries() {
    }

    /** A WELCOME NEW_SESSION answering {@code hello} (its bytes on the wire), validly signed by {@code key}. */
    static byte[] welcomeSignedBy(HostKey key, byte[] hello, long sessionId) {
        Welcome draft = new Welcome(Status.NEW_SESSION, sessionId, Handshake.randomBytes(Handshake.NONCE_SIZE),
                KeyShare.generate().publicKey(), 1 << 20, key.publicKey(), new byte[Handshake.SIGNATURE_SIZE]);
        byte[] unsigned = Wire.encode(new Frame(FrameType.WELCOME, 0, 0, draft.encode()));
        byte[] signature = key.sign(KeySchedule.welcomeSigned(new Transcript().add(hello)
                .hashWith(unsigned, Handshake.SIGNATURE_SIZE)));
        return Wire.encode(new Frame(FrameType.WELCOME, 0, 0, draft.withAuth(signature).encode()));
    }

    /** A REFUSED answering {@code hello} (its bytes on the wire), validly signed by {@code key}. */
    static byte[] refusalSignedBy(HostKey key, byte[] hello, Status status) {
        byte[] auth = java.util.Arrays.copyOf(key.publicKey(), Refusal.SIGNED_AUTH_SIZE);
        byte[] draft = Wire.encode(new Frame(FrameType.REFUSED, 0, 0, new Refusal(status, auth).encode()));
        byte[] signature = key.sign(KeySchedule.refusalSigned(new Transcript().add(hello)
                .hashWith(draft, Handshake.SIGNATURE_SIZE)));
        System.arraycopy(signature, 0, auth, Handshake.HOST_KEY_SIZE, Handshake.SIGNATURE_SIZE);
        return Wire.encode(new Frame(FrameType.REFUSED, 0, 0, new Refusal(status, auth).encode()));
    }

    /** An UNKNOWN_SESSION whose MAC is random: only the session's refusal token could make the right one. */
    static byte[] unknownSessionWithRandomMac(SplittableRandom rnd) {
        byte[] mac = new byte[Handshake.MAC_SIZE];
        rnd.nextBytes(mac);
        return Wire.encode(new Frame(FrameType.REFUSED, 0, 0, new Refusal(Status.UNKNOWN_SESSION, mac).encode()));
    }

    /** A REFUSED with no authentication at all (a payload of one byte, the status). */
    static byte[] unauthenticatedRefusal(Status status) {
        return Wire.encode(new Frame(FrameType.REFUSED, 0, 0, new Refusal(status, new byte[0]).encode()));
    }

    /** A frame that looks sealed: a valid DATA header for {@code plainLength} bytes, then random "ciphertext" and "tag". */
    static byte[] sealedLookingData(SplittableRandom rnd, int plainLength, long seq, long ack) {
        byte[] b = new byte[Wire.HEADER_SIZE + plainLength + Wire.TAG_SIZE];
        Wire.writeHeader(b, FrameType.DATA, plainLength, seq, ack);
        byte[] body = new byte[plainLength + Wire.TAG_SIZE];
        rnd.nextBytes(body);
        System.arraycopy(body, 0, b, Wire.HEADER_SIZE, body.length);
        return b;
    }

    /** {@code n} random bytes that do not start with the roamproxy magic. */
    static byte[] junk(SplittableRandom rnd, int n) {
        byte[] b = new byte[n];
        do {
            rnd.nextBytes(b);
        } while (Wire.getInt(b, 0) >>> 16 == Wire.MAGIC);
        return b;
    }
}
