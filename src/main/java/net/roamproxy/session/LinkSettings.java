package net.roamproxy.session;

import java.time.Duration;

import net.roamproxy.stream.MemoryBudget;

/**
 * Timing and buffer settings shared by both ends of the framed link. Immutable.
 *
 * @param heartbeatInterval how often each side sends a heartbeat, and the base unit of every
 *                          other link timing
 * @param missedHeartbeats  how many heartbeat intervals without any frame from the peer mean
 *                          the link is lost
 * @param bufferBytes       capacity of each session's replay buffer (bytes sent but not yet
 *                          acknowledged) and of its receive queue; also the advertised window
 * @param handshakeTimeout  how long a new connection may take to complete its handshake
 * @param detachTimeout     how long a session whose link is down is kept waiting for a resume
 * @param memoryBytes       the daemon's budget for all its sessions' buffers ({@link MemoryBudget})
 */
public record LinkSettings(Duration heartbeatInterval, int missedHeartbeats, int bufferBytes,
                           Duration handshakeTimeout, Duration detachTimeout, long memoryBytes) {

    public static final Duration DEFAULT_HEARTBEAT_INTERVAL = Duration.ofSeconds(1);
    public static final int DEFAULT_MISSED_HEARTBEATS = 3;
    public static final int DEFAULT_BUFFER_BYTES = 1 << 20;
    public static final Duration DEFAULT_HANDSHAKE_TIMEOUT = Duration.ofSeconds(5);
    public static final Duration DEFAULT_DETACH_TIMEOUT = Duration.ofMinutes(15);
    /** Smallest buffer that still holds one full data frame. */
    public static final int MIN_BUFFER_BYTES = 64 * 1024;

    public LinkSettings {
        if (heartbeatInterval.isNegative() || heartbeatInterval.toMillis() < 10) {
            throw new IllegalArgumentException("heartbeat interval must be at least 10 ms, got " + heartbeatInterval.toMillis() + " ms");
        }
        if (missedHeartbeats < 1) {
            throw new IllegalArgumentException("missed-heartbeat limit must be at least 1, got " + missedHeartbeats);
        }
        if (bufferBytes < MIN_BUFFER_BYTES) {
            throw new IllegalArgumentException("buffer must be at least " + MIN_BUFFER_BYTES + " bytes, got " + bufferBytes);
        }
        if (handshakeTimeout.toMillis() < 1) {
            throw new IllegalArgumentException("handshake timeout must be positive");
        }
        if (detachTimeout.toMillis() < 1) {
            throw new IllegalArgumentException("detach timeout must be positive");
        }
        if (memoryBytes < MemoryBudget.MIN_LIMIT) {
            throw new IllegalArgumentException("memory budget must be at least " + MemoryBudget.MIN_LIMIT
                    + " bytes, got " + memoryBytes);
        }
    }

    /** Settings with the default memory budget ({@link MemoryBudget#defaultLimit()}). */
    public LinkSettings(Duration heartbeatInterval, int missedHeartbeats, int bufferBytes, Duration handshakeTimeout,
                        Duration detachTimeout) {
        this(heartbeatInterval, missedHeartbeats, bufferBytes, handshakeTimeout, detachTimeout,
                MemoryBudget.defaultLimit());
    }

    public static LinkSettings defaults() {
        return new LinkSettings(DEFAULT_HEARTBEAT_INTERVAL, DEFAULT_MISSED_HEARTBEATS, DEFAULT_BUFFER_BYTES,
                DEFAULT_HANDSHAKE_TIMEOUT, DEFAULT_DETACH_TIMEOUT);
    }

    public LinkSettings withHeartbeatInterval(Duration interval) {
        return new LinkSettings(interval, missedHeartbeats, bufferBytes, handshakeTimeout, detachTimeout, memoryBytes);
    }

    public LinkSettings withBufferBytes(int bytes) {
        return new LinkSettings(heartbeatInterval, missedHeartbeats, bytes, handshakeTimeout, detachTimeout, memoryBytes);
    }

    public LinkSettings withMemoryBytes(long bytes) {
        return new LinkSettings(heartbeatInterval, missedHeartbeats, bufferBytes, handshakeTimeout, detachTimeout, bytes);
    }

    /**
     * A duration as operators read it in logs: "15 min", "30 s", "0.3 s". Never rounds to zero,
     * since "0 min" for --detach-timeout 30 once misled an operator.
     */
    public static String human(Duration d) {
        long ms = d.toMillis();
        if (ms >= 60_000 && ms % 60_000 == 0) {
            return ms / 60_000 + " min";
        }
        if (ms % 1000 == 0) {
            return ms / 1000 + " s";
        }
        return ms >= 1000 || ms % 100 == 0 ? ms / 1000.0 + " s" : ms + " ms";
    }

    /** Time without any frame from the peer after which the link counts as lost. */
    public Duration deadAfter() {
        return heartbeatInterval.multipliedBy(missedHeartbeats);
    }
}
