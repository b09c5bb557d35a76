package net.roamproxy.client;

import java.io.IOException;
import java.net.InetAddress;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import net.roamproxy.net.Sockets;

/**
 * cproxy's address watch, run only while it is wanted (while sessions exist), so that an idle
 * cproxy on a laptop reads nothing ten times a second. A host whose addresses cannot be read
 * is not tried again: cproxy then notices address changes through missed heartbeats alone.
 *
 * <p>Threading: {@link #update()} and {@link #watching()} from any thread, under this object's
 * monitor, which alone guards the watch; changes arrive on the watch's own thread.
 */
final class AddressWatchOnDemand {
    /** cproxy's own logger: these lines keep the name operators know them by. */
    private static final Logger log = LogManager.getLogger(ClientProxy.class);

    private final AddressWatch.Source addresses;
    private final boolean enabled;
    /** Whether the watch should run now; read under this object's monitor, so the last update wins. */
    private final BooleanSupplier wanted;
    /** Told of every change, after it is logged once for the host. */
    private final Consumer<AddressWatch.Change> sessions;
    /** Guarded by {@code this}: the address watch while it is wanted, else {@code null}. */
    private AddressWatch watch;
    /** Guarded by {@code this}: the host's addresses could not be read; not tried again. */
    private boolean failed;

    /**
     * @param enabled  {@code false}: {@code --no-address-watch}, never runs
     * @param wanted   whether the watch should run now (cproxy is open and has sessions)
     * @param sessions told of every change of this host's addresses, on the watch's thread
     */
    AddressWatchOnDemand(AddressWatch.Source addresses, boolean enabled, BooleanSupplier wanted,
                         Consumer<AddressWatch.Change> sessions) {
        this.addresses = addresses;
        this.enabled = enabled;
        this.wanted = wanted;
        this.sessions = sessions;
    }

    /** Starts the watch if it is wanted and not running, stops it if it runs and is not wanted. */
    synchronized void update() {
        if (!enabled) {
            return;
        }
        if (!wanted.getAsBoolean()) {
            if (watch != null) {
                watch.close();
                watch = null;
            }
            return;
        }
        if (watch != null || failed) {
            return;
        }
        AddressWatch w = new AddressWatch(addresses, this::changed);
        try {
            w.start();
            watch = w;
        } catch (IOException | RuntimeException e) {
            failed = true;
            log.warn("cannot read this host's addresses ({}); cproxy notices address changes only through "
                    + "missed heartbeats", e.toString());
        }
    }

    /** Whether the address watch is running now. */
    synchronized boolean watching() {
        return watch != null && watch.watching();
    }

    /** On the watch's thread: log once for the host, then let every session react. */
    private void changed(AddressWatch.Change c) {
        for (InetAddress a : c.gone()) {
            log.info("address {} removed from this host", Sockets.text(a));
        }
        for (InetAddress a : c.added()) {
            log.info("address {} appeared on this host", Sockets.text(a));
        }
        sessions.accept(c);
    }
}
