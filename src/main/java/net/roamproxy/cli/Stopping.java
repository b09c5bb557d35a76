package net.roamproxy.cli;

import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * How a running daemon stops: on SIGTERM or SIGINT, or through a shutdown hook when the JVM
 * ends another way; in order, but never for longer than {@link #LIMIT}, since systemd's and
 * users' patience is shorter. Used by the command's main thread.
 */
final class Stopping {
    /** Longest an orderly stop may take before the command exits anyway. */
    static final Duration LIMIT = Duration.ofMillis(1500);

    private final Logger log = LogManager.getLogger(Stopping.class);
    private final String command;

    Stopping(String command) {
        this.command = command;
    }

    /**
     * Blocks until {@code stop} opens (SIGTERM or SIGINT), then closes the proxy. Other ways
     * the JVM ends (System.exit elsewhere) still close it through a shutdown hook.
     */
    void serveUntilStopped(AutoCloseable proxy, CountDownLatch stop, AtomicReference<String> signal) {
        Thread hook = new Thread(() -> closeWithin(proxy), command + "-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            stop.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        log.info("{} received {}, stopping", command, signal.get());
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            return; // the JVM is already shutting down; the hook closes the proxy
        }
        closeWithin(proxy);
    }

    /** Closes {@code proxy} on a helper thread, waiting at most {@link #LIMIT} for it. */
    private void closeWithin(AutoCloseable proxy) {
        Thread closer = new Thread(() -> {
            try {
                proxy.close();
            } catch (Exception e) {
                log.warn("{}: error while stopping: {}", command, e.toString());
            }
        }, command + "-stop");
        closer.setDaemon(true);
        closer.start();
        try {
            closer.join(LIMIT.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (closer.isAlive()) {
            log.warn("{}: stopping took longer than {} ms; exiting anyway", command, LIMIT.toMillis());
        }
    }
}
