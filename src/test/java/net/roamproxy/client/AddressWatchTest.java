package net.roamproxy.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import net.roamproxy.testkit.Await;

/** The address watch's change detection, on a fake address source driven by the test. */
@Timeout(20)
class AddressWatchTest {
    private final AtomicReference<Set<InetAddress>> host = new AtomicReference<>();
    private final List<AddressWatch.Change> told = new CopyOnWriteArrayList<>();
    private final AddressWatch watch = new AddressWatch(host::get, told::add);

    private static InetAddress ip(String s) {
        try {
            return InetAddress.getByName(s);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void theFirstReadIsTheBaselineNotAChange() throws IOException {
        host.set(Set.of(ip("127.0.0.1"), ip("192.0.2.2")));
        assertNull(watch.poll());
        assertNull(watch.poll());
        assertTrue(told.isEmpty());
    }

    @Test
    void anAddressReplacedInPlaceIsOneChangeWithWhatWentAndWhatAppeared() throws IOException {
        host.set(Set.of(ip("127.0.0.1"), ip("192.0.2.2")));
        watch.poll();
        host.set(Set.of(ip("127.0.0.1"), ip("192.0.2.3")));

        AddressWatch.Change c = watch.poll();

        assertEquals(Set.of(ip("192.0.2.2")), c.gone());
        assertEquals(Set.of(ip("192.0.2.3")), c.added());
        assertEquals(List.of(c), told, "the listener heard exactly this change");
    }

    @Test
    void aMoveFromIpv4ToIpv6AndBackIsTwoChanges() throws IOException {
        host.set(Set.of(ip("192.0.2.2")));
        watch.poll();
        host.set(Set.of(ip("2001:db8::2")));
        watch.poll();
        host.set(Set.of(ip("192.0.2.4")));
        watch.poll();

        assertEquals(2, told.size());
        assertEquals(Set.of(ip("192.0.2.2")), told.get(0).gone());
        assertEquals(Set.of(ip("2001:db8::2")), told.get(0).added());
        assertEquals(Set.of(ip("2001:db8::2")), told.get(1).gone());
        assertEquals(Set.of(ip("192.0.2.4")), told.get(1).added());
    }

    @Test
    void anAddressThatGoesAndComesBackIsReportedBothTimes() throws IOException {
        host.set(Set.of(ip("192.0.2.2")));
        watch.poll();
        host.set(Set.of());
        watch.poll();
        host.set(Set.of(ip("192.0.2.2")));
        watch.poll();

        assertEquals(Set.of(ip("192.0.2.2")), told.get(0).gone());
        assertEquals(Set.of(), told.get(0).added());
        assertEquals(Set.of(), told.get(1).gone());
        assertEquals(Set.of(ip("192.0.2.2")), told.get(1).added());
    }

    @Test
    void aSourceThatCannotBeReadAtStartFailsTheStart() {
        AddressWatch broken = new AddressWatch(() -> {
            throw new IOException("no interfaces for you");
        }, told::add);
        assertThrows(IOException.class, broken::start);
    }

    @Test
    void aSourceThatBreaksLaterStopsTheWatchInsteadOfSpinning() throws Exception {
        AtomicInteger reads = new AtomicInteger();
        AddressWatch w = new AddressWatch(() -> {
            if (reads.incrementAndGet() > 2) {
                throw new IOException("netlink is gone");
            }
            return Set.of(ip("192.0.2.2"));
        }, told::add);
        try {
            w.start();
            Await.until(Duration.ofSeconds(10), "the watch thread ended after the failed read", () -> !w.watching());
            assertEquals(3, reads.get(), "no read after the one that failed");
        } finally {
            w.close();
        }
    }

    @Test
    void theHostsOwnAddressesCanBeReadAndIncludeLoopback() throws IOException {
        Set<InetAddress> mine = AddressWatch.hostAddresses();
        List<String> loopbacks = new ArrayList<>();
        for (InetAddress a : mine) {
            if (a.isLoopbackAddress()) {
                loopbacks.add(a.getHostAddress());
            }
        }
        assertFalse(loopbacks.isEmpty(), "found " + mine);
    }
}
