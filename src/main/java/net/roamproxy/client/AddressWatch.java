package net.roamproxy.client;

import java.io.IOException;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.util.Collections;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.function.Consumer;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

/**
 * Watches this host's interface addresses, so that cproxy reacts to a roam when it happens
 * instead of when three heartbeats have been missed. One per cproxy process, whatever the
 * number of sessions.
 *
 * <p>It polls every {@value #POLL_MILLIS} ms: a poll is a handful of system calls, and polling
 * needs nothing beyond the JDK (netlink would need native code or a library). Each poll that
 * finds a difference hands a {@link Change} to the listener. If the addresses cannot be read,
 * it logs that once and stops: cproxy then notices roams through its heartbeat timers alone,
 * as it does with {@code --no-address-watch}.
 *
 * <p>Threading: {@link #start()} runs the polls on the daemon thread
 * {@code cproxy-address-watch}, which also runs the listener; {@link #poll()} is for tests
 * that drive it without that thread. {@link #close()} from any thread.
 */
final class AddressWatch implements AutoCloseable {
    private static final Logger log = LogManager.getLogger(AddressWatch.class);
    /** How often the addresses are read: the watch's share of the time to notice a roam. */
    static final long POLL_MILLIS = 100;

    /** Where the addresses come from: the host's interfaces, or a fake in tests. */
    @FunctionalInterface
    interface Source {
        Set<InetAddress> addresses() throws IOException;
    }

    /** What one poll found: addresses that went, addresses that appeared. */
    record Change(Set<InetAddress> gone, Set<InetAddress> added) {
    }

    private final Source source;
    private final Consumer<Change> listener;
    /** Poll thread only (or the test driving {@link #poll()}). */
    private Set<InetAddress> last;
    private volatile boolean closed;
    private Thread thread;

    AddressWatch(Source source, Consumer<Change> listener) {
        this.source = source;
        this.listener = listener;
    }

    /** Every address of every interface of this host, loopback included. */
    static Set<InetAddress> hostAddresses() throws IOException {
        Set<InetAddress> all = new HashSet<>();
        Enumeration<NetworkInterface> interfaces = NetworkInterface.getNetworkInterfaces();
        if (interfaces != null) {
            for (NetworkInterface ni : Collections.list(interfaces)) {
                all.addAll(Collections.list(ni.getInetAddresses()));
            }
        }
        return all;
    }

    /** Reads the current addresses as the baseline and starts polling. */
    void start() throws IOException {
        last = source.addresses();
        thread = new Thread(this::run, "cproxy-address-watch");
        thread.setDaemon(true);
        thread.start();
    }

    private void run() {
        while (!closed) {
            try {
                Thread.sleep(POLL_MILLIS);
                poll();
            } catch (InterruptedException e) {
                return;
            } catch (IOException | RuntimeException e) {
                if (!closed) {
                    log.warn("cannot read this host's addresses any more ({}); cproxy now notices address "
                            + "changes only through missed heartbeats", e.toString());
                }
                return;
            }
        }
    }

    /**
     * Reads the addresses once and tells the listener if they differ from the last read.
     *
     * @return the change, or {@code null} if there was none
     */
    Change poll() throws IOException {
        Set<InetAddress> now = source.addresses();
        if (last == null) {
            last = now;
            return null;
        }
        Set<InetAddress> gone = new LinkedHashSet<>(last);
        gone.removeAll(now);
        Set<InetAddress> added = new LinkedHashSet<>(now);
        added.removeAll(last);
        last = now;
        if (gone.isEmpty() && added.isEmpty()) {
            return null;
        }
        Change c = new Change(Collections.unmodifiableSet(gone), Collections.unmodifiableSet(added));
        listener.accept(c);
        return c;
    }

    /** Whether the poll thread is still running (it ends on {@link #close()} or a failed read). */
    boolean watching() {
        return thread != null && thread.isAlive();
    }

    @Override
    public void close() {
        closed = true;
        if (thread != null) {
            thread.interrupt();
        }
    }
}
