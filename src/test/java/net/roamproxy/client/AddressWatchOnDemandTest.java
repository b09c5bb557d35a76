package net.roamproxy.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;

/** The address watch runs only while it is wanted, and a host whose addresses cannot be read is not asked again. */
class AddressWatchOnDemandTest {
    private final AtomicBoolean wanted = new AtomicBoolean();
    private final AtomicInteger reads = new AtomicInteger();

    private Set<InetAddress> read() {
        reads.incrementAndGet();
        return Set.of(InetAddress.getLoopbackAddress());
    }

    @Test
    void runsWhileWantedAndStopsWhenNoLongerWanted() {
        AddressWatchOnDemand w = new AddressWatchOnDemand(this::read, true, wanted::get, c -> { });
        w.update();
        assertFalse(w.watching(), "not wanted: not started");
        assertEquals(0, reads.get());
        wanted.set(true);
        w.update();
        assertTrue(w.watching(), "wanted: started");
        assertEquals(1, reads.get(), "started with one read of the baseline");
        w.update();
        assertEquals(1, reads.get(), "already running: not started again");
        wanted.set(false);
        w.update();
        assertFalse(w.watching(), "no longer wanted: stopped");
    }

    @Test
    void turnedOffNeverReadsTheAddresses() {
        wanted.set(true);
        AddressWatchOnDemand w = new AddressWatchOnDemand(this::read, false, wanted::get, c -> { });
        w.update();
        assertFalse(w.watching());
        assertEquals(0, reads.get());
    }

    @Test
    void aHostWhoseAddressesCannotBeReadIsNotAskedAgain() {
        wanted.set(true);
        AddressWatchOnDemand w = new AddressWatchOnDemand(() -> {
            reads.incrementAndGet();
            throw new IOException("no interfaces (test)");
        }, true, wanted::get, c -> { });
        w.update();
        wanted.set(false);
        w.update();
        wanted.set(true);
        w.update();
        assertFalse(w.watching());
        assertEquals(1, reads.get());
    }
}
