package net.roamproxy.server;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import net.roamproxy.wire.Handshake;

/**
 * This sproxy's instance number ({@code --instance}), which every session id it issues
 * carries in its first byte ({@link Handshake#INSTANCE_BYTE_OFFSET}): a load balancer in front
 * of several instances reads it in the clear HELLO RESUME and sends the resume to the one
 * instance that holds the session, whatever address the client has now. Thread-safe.
 *
 * <p>{@link #SINGLE} (no {@code --instance}): ids carry 0 there, and every resume is answered
 * as before, since a lone sproxy is the only place its sessions can be.
 */
final class Instance {
    /** No {@code --instance}: the only sproxy behind its address. */
    static final int SINGLE = 0;

    private static final Logger log = LogManager.getLogger(Instance.class);

    private final int number;
    /** A balancer that routes wrongly does so for every roaming client: said once, then counted. */
    private final LimitReport wrong;

    Instance(int number) {
        if (number < 0 || number > 255) {
            throw new IllegalArgumentException("instance must be 0 to 255, got " + number);
        }
        this.number = number;
        this.wrong = new LimitReport(log, Level.ERROR, "resumes of other instances' sessions (--instance "
                + number + ")");
    }

    int number() {
        return number;
    }

    /** {@code random} made an id of this instance. */
    long stamp(long random) {
        return Handshake.withInstance(random, number);
    }

    /**
     * Whether a resume of {@code sessionId} is for another instance: it must then be refused as
     * such (WRONG_INSTANCE, so cproxy dials again), never as an unknown session, which would end
     * a session that lives on elsewhere. Logged here: the first at ERROR, then as a count.
     */
    boolean elsewhere(long sessionId, String peer) {
        int carried = Handshake.instanceOf(sessionId);
        if (number == SINGLE || carried == number) {
            return false;
        }
        wrong.reached(() -> "refused resume of session " + Handshake.idText(sessionId) + " from " + peer
                + ": it belongs to instance " + carried + ", this is instance " + number + ": the load balancer "
                + "must route a resume by the byte at offset " + Handshake.INSTANCE_BYTE_OFFSET + " of the stream",
                peer);
        return true;
    }
}
