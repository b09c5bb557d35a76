package net.roamproxy.net;

import java.io.Closeable;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;

/** Socket helpers used by both proxies. */
public final class Sockets {
    private Sockets() {
    }

    /** Every socket carries keystrokes: never delay small writes (Nagle). */
    public static void tune(Socket s) throws IOException {
        s.setTcpNoDelay(true);
        s.setKeepAlive(true);
    }

    public static void closeQuietly(Closeable c) {
        if (c == null) {
            return;
        }
        try {
            c.close();
        } catch (IOException ignored) {
            // nothing useful to do: we are discarding it
        }
    }

    /**
     * A listening socket bound to {@code address:port} ({@code null} address: every interface),
     * with an error that names both if binding fails.
     */
    public static ServerSocket listen(InetAddress address, int port, int backlog) throws IOException {
        ServerSocket ss = new ServerSocket();
        ss.setReuseAddress(true);
        try {
            ss.bind(new InetSocketAddress(address, port), backlog);
        } catch (IOException e) {
            ss.close();
            throw new IOException("cannot listen on " + (address == null ? "*" : address.getHostAddress()) + ":" + port
                    + ": " + e.getMessage(), e);
        }
        return ss;
    }

    /**
     * "192.0.2.2:40122" rather than "/192.0.2.2:40122", "[2001:db8::2]:40122", and
     * "*:6200" for a socket bound to every address (IPv4 and IPv6).
     */
    public static String describe(SocketAddress a) {
        if (a instanceof InetSocketAddress i) {
            String host = i.getAddress() == null ? i.getHostString()
                    : i.getAddress().isAnyLocalAddress() ? "*" : text(i.getAddress());
            return (host.contains(":") ? "[" + host + "]" : host) + ":" + i.getPort();
        }
        return String.valueOf(a);
    }

    /**
     * An address as operators write it: IPv6 in its short form (RFC 5952: the longest run of
     * zero groups as "::", lower case), with a scope only where it matters (link-local).
     */
    public static String text(InetAddress a) {
        if (!(a instanceof Inet6Address six)) {
            return a.getHostAddress();
        }
        byte[] b = six.getAddress();
        int[] g = new int[8];
        for (int i = 0; i < 8; i++) {
            g[i] = ((b[2 * i] & 0xff) << 8) | (b[2 * i + 1] & 0xff);
        }
        int bestStart = -1;
        int bestLen = 1; // a single zero group stays "0"
        for (int i = 0; i < 8; ) {
            int j = i;
            while (j < 8 && g[j] == 0) {
                j++;
            }
            if (j - i > bestLen) {
                bestStart = i;
                bestLen = j - i;
            }
            i = j == i ? i + 1 : j;
        }
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < 8; i++) {
            if (i == bestStart) {
                out.append("::");
                i += bestLen - 1;
                continue;
            }
            if (out.length() > 0 && out.charAt(out.length() - 1) != ':') {
                out.append(':');
            }
            out.append(Integer.toHexString(g[i]));
        }
        if (six.isLinkLocalAddress() && six.getScopedInterface() != null) {
            out.append('%').append(six.getScopedInterface().getName());
        }
        return out.toString();
    }
}
