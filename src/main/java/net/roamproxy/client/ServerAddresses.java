package net.roamproxy.client;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;

/**
 * sproxy's addresses for one session's dials, in the order to try them: resolved afresh for
 * every dial (sproxy's name may point elsewhere by now), the address that worked last first,
 * then alternating between IPv4 and IPv6 (RFC 8305, section 4).
 *
 * <p>Threading: only the session's worker uses it (through {@link Dialer#next}), so the
 * address that worked last needs no guard.
 */
final class ServerAddresses {
    /** Resolves a host name; the JDK's in cproxy, a fake in tests. */
    @FunctionalInterface
    interface Resolver {
        InetAddress[] resolve(String host) throws IOException;
    }

    private final Resolver resolver;
    private final String host;
    private final int port;
    /** The server address of the last link that worked, tried first. */
    private InetAddress lastGood;

    ServerAddresses(Resolver resolver, String host, int port) {
        this.resolver = resolver;
        this.host = host;
        this.port = port;
    }

    /** sproxy's addresses as of now, in the order to try them. */
    List<InetSocketAddress> targets() throws IOException {
        List<InetSocketAddress> t = new ArrayList<>();
        for (InetAddress a : order(resolver.resolve(host), lastGood)) {
            t.add(new InetSocketAddress(a, port));
        }
        return t;
    }

    /** A link to {@code address} worked: the next dial tries it first. */
    void worked(InetAddress address) {
        lastGood = address;
    }

    /**
     * The order to try {@code resolved} in: {@code preferred} first if it is among them, then
     * alternating between the address families, starting with the other family (RFC 8305,
     * section 4), each family in the resolver's order.
     */
    static List<InetAddress> order(InetAddress[] resolved, InetAddress preferred) {
        Deque<InetAddress> rest = new ArrayDeque<>(Arrays.asList(resolved));
        List<InetAddress> out = new ArrayList<>(resolved.length);
        if (preferred != null && rest.remove(preferred)) {
            out.add(preferred);
        } else if (!rest.isEmpty()) {
            out.add(rest.removeFirst());
        }
        Deque<InetAddress> v6 = new ArrayDeque<>();
        Deque<InetAddress> v4 = new ArrayDeque<>();
        for (InetAddress a : rest) {
            (a instanceof Inet6Address ? v6 : v4).add(a);
        }
        boolean six = !out.isEmpty() && !(out.get(0) instanceof Inet6Address);
        while (!v6.isEmpty() || !v4.isEmpty()) {
            Deque<InetAddress> from = six ? v6 : v4;
            if (from.isEmpty()) {
                from = six ? v4 : v6;
            }
            out.add(from.removeFirst());
            six = !six;
        }
        return out;
    }
}
