package net.roamproxy.server;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;

/**
 * Opens a new session's connection to the target service. The JDK's connect in sproxy; tests
 * substitute a slow one to reproduce a handshake that outlives its deadline while connecting.
 *
 * <p>Threading: called on a handshake thread, concurrently for different handshakes.
 */
@FunctionalInterface
interface TargetConnector {
    /** The connected socket; closes anything it opened if it throws. */
    Socket connect(InetSocketAddress target, int timeoutMillis) throws IOException;

    /** A plain blocking connect. */
    TargetConnector PLAIN = (target, timeoutMillis) -> {
        Socket s = new Socket();
        try {
            s.connect(target, timeoutMillis);
            return s;
        } catch (IOException | RuntimeException e) {
            s.close();
            throw e;
        }
    };
}
