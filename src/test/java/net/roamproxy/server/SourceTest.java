package net.roamproxy.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.net.InetAddress;

import org.junit.jupiter.api.Test;

/** What the per-source limits count as one source: an IPv4 address, an IPv6 /64. */
class SourceTest {
    @Test
    void anIpv4AddressIsItsOwnSource() throws Exception {
        assertEquals(InetAddress.getByName("192.0.2.7"), Source.of(InetAddress.getByName("192.0.2.7")));
        assertNotEquals(Source.of(InetAddress.getByName("192.0.2.7")), Source.of(InetAddress.getByName("192.0.2.8")));
        assertEquals("192.0.2.7", Source.describe(Source.of(InetAddress.getByName("192.0.2.7"))));
    }

    @Test
    void everyAddressOfAnIpv6Slash64IsOneSourceAndTheNextSlash64Another() throws Exception {
        InetAddress a = Source.of(InetAddress.getByName("2001:db8:1:2::1"));
        InetAddress b = Source.of(InetAddress.getByName("2001:db8:1:2:ffff:ffff:ffff:ffff"));
        InetAddress c = Source.of(InetAddress.getByName("2001:db8:1:3::1"));

        assertEquals(a, b);
        assertNotEquals(a, c);
        assertEquals("2001:db8:1:2::/64", Source.describe(a));
    }

    @Test
    void anIpv4MappedIpv6AddressCountsAsTheIpv4Address() throws Exception {
        assertEquals(Source.of(InetAddress.getByName("192.0.2.7")), Source.of(InetAddress.getByName("::ffff:192.0.2.7")));
    }
}
