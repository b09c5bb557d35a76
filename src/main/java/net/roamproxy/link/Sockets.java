package net.roamproxy.link;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetSocketAddress;
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

    /** "192.0.2.2:40122" rather than "/192.0.2.2:40122". */
    public static String describe(SocketAddress a) {
        if (a instanceof InetSocketAddress i) {
            String host = i.getAddress() != null ? i.getAddress().getHostAddress() : i.getHostString();
            return (host.contains(":") ? "[" + host + "]" : host) + ":" + i.getPort();
        }
        return String.valueOf(a);
    }
}
