package net.roamproxy.server;

import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;

/**
 * Where connections come from, as the per-source limits count them: an IPv4 address, or an
 * IPv6 address's /64, since one IPv6 host (or one customer) is usually given a whole /64 and
 * can use any address in it. Stateless.
 */
final class Source {
    private static final int IPV6_PREFIX_BYTES = 8;

    private Source() {
    }

    /** The source {@code a} counts against; equal for every address of one /64. */
    static InetAddress of(InetAddress a) {
        if (!(a instanceof Inet6Address)) {
            return a; // IPv4 (Java already turns an IPv4-mapped IPv6 address into IPv4)
        }
        byte[] prefix = Arrays.copyOf(Arrays.copyOf(a.getAddress(), IPV6_PREFIX_BYTES), 16);
        try {
            return InetAddress.getByAddress(prefix);
        } catch (UnknownHostException e) {
            throw new AssertionError("16 bytes are an IPv6 address", e);
        }
    }

    /** How log lines name a source: the address, or the /64. */
    static String describe(InetAddress source) {
        return source instanceof Inet6Address ? source.getHostAddress().replaceFirst("(:0)*$", "") + "::/64"
                : source.getHostAddress();
    }
}
