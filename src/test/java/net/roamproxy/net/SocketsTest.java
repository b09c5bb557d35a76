package net.roamproxy.net;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Addresses in log lines, as operators write them. */
class SocketsTest {

    @ParameterizedTest
    @CsvSource({
        "2001:db8:0:0:0:0:0:2, 2001:db8::2",
        "2001:db8:0:1:0:0:0:1, 2001:db8:0:1::1",
        "2001:0:0:1:0:0:0:1, 2001:0:0:1::1",
        "2001:db8:0:0:1:0:0:1, 2001:db8::1:0:0:1",
        "2001:db8:0:1:1:1:1:1, 2001:db8:0:1:1:1:1:1",
        "0:0:0:0:0:0:0:1, ::1",
        "0:0:0:0:0:0:0:0, ::",
        "1:0:0:0:0:0:0:0, 1::",
        "2001:DB8:AAAA:0:0:0:0:0, 2001:db8:aaaa::",
        "192.0.2.3, 192.0.2.3",
    })
    void ipv6IsWrittenInItsShortFormAndIpv4AsIs(String in, String out) throws UnknownHostException {
        assertEquals(out, Sockets.text(InetAddress.getByName(in)));
    }

    @Test
    void aWildcardBindIsShownAsAStarAndIpv6EndpointsInBrackets() throws UnknownHostException {
        assertEquals("*:6200", Sockets.describe(new InetSocketAddress(6200)));
        assertEquals("[2001:db8::1]:6200", Sockets.describe(new InetSocketAddress(InetAddress.getByName("2001:db8::1"),
                6200)));
        assertEquals("192.0.2.1:6200", Sockets.describe(new InetSocketAddress(InetAddress.getByName("192.0.2.1"),
                6200)));
    }
}
