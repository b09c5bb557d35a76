package net.roamproxy.it;

import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;

import net.roamproxy.client.ClientConfig;
import net.roamproxy.client.ClientProxy;
import net.roamproxy.link.LinkSettings;
import net.roamproxy.server.ServerConfig;
import net.roamproxy.server.ServerProxy;
import net.roamproxy.testkit.AppClient;
import net.roamproxy.testkit.Closer;
import net.roamproxy.testkit.FaultyRelay;
import net.roamproxy.testkit.RelayedChain;

/**
 * The whole product in one JVM on loopback, with the fault-injecting relay in the link:
 *
 * <pre>
 *  AppClient -> ClientProxy (loopback:0) -> FaultyRelay (loopback:0) -> ServerProxy (loopback:0) -> target
 * </pre>
 *
 * Every timing a test waits for is derived from the one heartbeat interval, as MINA's
 * KeepAliveTest does; the deadlines are generous upper bounds (for a loaded two-core
 * machine), never delays. The target belongs to the test; everything else, including the
 * apps opened here, is closed by {@link #close()}.
 *
 * <p>Threading: meant for the test thread; the relay itself is thread-safe.
 */
final class ProxyChain implements AutoCloseable, RelayedChain {
    private final LinkSettings link;
    private final ServerProxy sproxy;
    private final FaultyRelay relay;
    private final ClientProxy cproxy;
    private final Closer closer = new Closer();
    private int apps;

    /** Fast link settings: heartbeat {@code interval}; every other timing a multiple of it. */
    static LinkSettings fastLink(Duration interval) {
        return new LinkSettings(interval, LinkSettings.DEFAULT_MISSED_HEARTBEATS, LinkSettings.DEFAULT_BUFFER_BYTES,
                interval.multipliedBy(10), interval.multipliedBy(600));
    }

    private ProxyChain(LinkSettings link, int targetPort) throws IOException {
        this.link = link;
        InetAddress loopback = InetAddress.getLoopbackAddress();
        try {
            sproxy = closer.add(new ServerProxy(new ServerConfig(loopback, 0, "127.0.0.1", targetPort, link)));
            sproxy.start();
            relay = closer.add(FaultyRelay.start(sproxy.port()));
            cproxy = closer.add(new ClientProxy(new ClientConfig(loopback, 0, "127.0.0.1", relay.port(), link)));
            cproxy.start();
        } catch (IOException | RuntimeException e) {
            try {
                closer.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw e;
        }
    }

    static ProxyChain start(LinkSettings link, int targetPort) throws IOException {
        return new ProxyChain(link, targetPort);
    }

    @Override
    public LinkSettings link() {
        return link;
    }

    @Override
    public FaultyRelay relay() {
        return relay;
    }

    int cproxyPort() {
        return cproxy.port();
    }

    /** A new application connection to cproxy, i.e. a new session. */
    AppClient openApp() throws IOException {
        return closer.add(AppClient.connect("s" + (++apps), cproxy.port()));
    }

    /** Closes cproxy first (no more reconnects), then the relay, then sproxy. */
    @Override
    public void close() {
        closer.close();
    }
}
