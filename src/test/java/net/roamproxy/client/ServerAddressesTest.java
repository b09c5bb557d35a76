package net.roamproxy.client;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

/** The order in which a dial tries sproxy's addresses (RFC 8305, section 4, plus "what worked last"). */
class ServerAddressesTest {
    private static final InetAddress A4 = ip("192.0.2.1");
    private static final InetAddress B4 = ip("198.51.100.1");
    private static final InetAddress A6 = ip("2001:db8::1");
    private static final InetAddress B6 = ip("2001:db8::2");

    private static InetAddress ip(String s) {
        try {
            return InetAddress.getByName(s);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    private static List<InetAddress> order(InetAddress preferred, InetAddress... resolved) {
        return ServerAddresses.order(resolved, preferred);
    }

    @Test
    void withoutHistoryTheResolversFirstChoiceLeadsAndTheFamiliesAlternate() {
        assertEquals(List.of(A4, A6, B4, B6), order(null, A4, B4, A6, B6));
        assertEquals(List.of(A6, A4, B6, B4), order(null, A6, B6, A4, B4));
    }

    @Test
    void theAddressThatWorkedLastIsTriedFirstThenTheOtherFamily() {
        assertEquals(List.of(B6, A4, A6, B4), order(B6, A4, B4, A6, B6));
    }

    @Test
    void anAddressThatWorkedLastButIsNoLongerResolvedIsIgnored() {
        assertEquals(List.of(A6, B6), order(A4, A6, B6));
    }

    @Test
    void oneFamilyOnlyKeepsTheResolversOrder() {
        assertEquals(List.of(A4, B4), order(null, A4, B4));
        assertEquals(Arrays.asList(A4), order(A4, A4));
    }

    @Test
    void everyDialResolvesAfreshAndTriesTheAddressThatWorkedLastFirstAtTheServersPort() throws Exception {
        AtomicReference<InetAddress[]> resolved = new AtomicReference<>(new InetAddress[] {A4, B4, A6});
        ServerAddresses addresses = new ServerAddresses(host -> {
            assertEquals("sproxy.example", host);
            return resolved.get();
        }, "sproxy.example", 6200);
        assertEquals(List.of(at(A4), at(A6), at(B4)), addresses.targets());
        addresses.worked(A6);
        assertEquals(List.of(at(A6), at(A4), at(B4)), addresses.targets());
        resolved.set(new InetAddress[] {B6, B4});
        assertEquals(List.of(at(B6), at(B4)), addresses.targets());
    }

    private static InetSocketAddress at(InetAddress a) {
        return new InetSocketAddress(a, 6200);
    }
}
