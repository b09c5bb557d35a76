package net.roamproxy.hardening;

import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;

import net.roamproxy.client.ClientConfig;
import net.roamproxy.client.ClientProxy;
import net.roamproxy.server.ServerConfig;
import net.roamproxy.server.ServerProxy;
import net.roamproxy.session.LinkSettings;
import net.roamproxy.testkit.AppClient;
import net.roamproxy.testkit.Closer;
import net.roamproxy.trust.ServerKeys;

/**
 * The product on loopback with an attacker in the link, as a {@code Rig} has a faulty relay:
 *
 * <pre>
 *  AppClient -> ClientProxy -> MitmRelay -> ServerProxy -> target
 * </pre>
 *
 * Deadlines are those of {@code RelayedChain}, derived from the one heartbeat interval:
 * generous upper bounds, never delays. Everything is closed by the test's {@link Closer},
 * cproxy first, then the relay, then sproxy.
 */
final class MitmChain {
    final LinkSettings link;
    final ServerKeys keys;
    final ServerProxy sproxy;
    final MitmRelay relay;
    final ClientProxy cproxy;
    private final Closer closer;
    private int apps;

    /**
     * @param serverKey  the pre-shared key sproxy demands, or {@code null}
     * @param clientKey  the pre-shared key cproxy proves, or {@code null}
     * @param keys       sproxy's host and refusal keys, or {@code null} for fresh ones
     * @param trust      how cproxy trusts sproxy's host key, or {@code null}: on first use, in memory
     */
    MitmChain(Closer closer, LinkSettings link, int targetPort, byte[] serverKey, byte[] clientKey, ServerKeys keys,
              ClientConfig.Trust trust) throws IOException {
        this.closer = closer;
        this.link = link;
        InetAddress loopback = InetAddress.getLoopbackAddress();
        ServerConfig sc = new ServerConfig(loopback, 0, "127.0.0.1", targetPort, link,
                ServerConfig.DEFAULT_MAX_SESSIONS, ServerConfig.DEFAULT_MAX_HANDSHAKES, serverKey, keys);
        this.keys = sc.keys();
        sproxy = closer.add(new ServerProxy(sc));
        sproxy.start();
        relay = closer.add(new MitmRelay(sproxy.port()));
        cproxy = closer.add(new ClientProxy(new ClientConfig(loopback, 0, "127.0.0.1", relay.port(), link, clientKey,
                true, trust)));
        cproxy.start();
    }

    MitmChain(Closer closer, LinkSettings link, int targetPort) throws IOException {
        this(closer, link, targetPort, null, null, null, null);
    }

    /** A new application connection to cproxy: a new session. */
    AppClient openApp() throws IOException {
        return closer.add(AppClient.connect("m" + (++apps), cproxy.port()));
    }

    Duration intervals(long n) {
        return link.heartbeatInterval().multipliedBy(n);
    }

    /** Upper bound for bytes to cross a healthy chain. */
    Duration flowDeadline() {
        return intervals(50);
    }

    /** Upper bound for cproxy to be linked again after a link was broken, with failed dials on the way. */
    Duration relinkDeadline() {
        return link.deadAfter().multipliedBy(2).plus(link.handshakeTimeout()).plus(intervals(30));
    }
}
