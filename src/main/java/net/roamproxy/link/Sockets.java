package net.roamproxy.link;

import java.io.Closeable;
import java.io.IOException;
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

    /** "192.0.2.2:40122" rather than "/192.0.2.2:40122". */
    public static String describe(SocketAddress a) {
        if (a instanceof InetSocketAddress i) {
            String host = i.getAddress() != null ? i.getAddress().getHostAddress() : i.getHostString();
            return (host.contains(":") ? "[" + host + "]" : host) + ":" + i.getPort();
        }
        return String.valueOf(a);
    }
}
