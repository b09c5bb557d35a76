package net.roamproxy.testkit;

import java.io.IOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import net.roamproxy.client.ClientConfig;
import net.roamproxy.client.ClientProxy;
import net.roamproxy.server.ServerConfig;
import net.roamproxy.server.ServerProxy;
import net.roamproxy.session.LinkSettings;
import net.roamproxy.trust.ServerKeys;

/**
 * The whole product in one JVM on loopback, with the fault-injecting relay in the link, and
 * with sproxy's limits and both pre-shared keys chosen by the test:
 *
 * <pre>
 *  AppClient -> ClientProxy (loopback:0) -> FaultyRelay (loopback:0) -> ServerProxy (loopback:0) -> target
 *                                                    hostile raw clients -> ServerProxy directly
 * </pre>
 *
 * Every timing a test waits for is derived from the one heartbeat interval, as MINA's
 * KeepAliveTest does; the deadlines are generous upper bounds (for a loaded two-core machine),
 * never delays. The target belongs to the test; everything else, including the apps opened
 * here, is closed by {@link #close()}: cproxy first (no more reconnects), then the relay, then
 * sproxy.
 *
 * <p>Threading: meant for the test thread; the relay itself is thread-safe.
 */
public final class Rig implements AutoCloseable, RelayedChain {
    private final LinkSettings link;
    private final ServerProxy sproxy;
    private final ServerConfig serverConfig;
    private final FaultyRelay relay;
    private final ClientProxy cproxy;
    private final Closer closer = new Closer();
    private int apps;

    /** Link settings with heartbeat {@code interval} and every other timing a multiple of it. */
    public static LinkSettings link(Duration interval) {
        return link(interval, LinkSettings.DEFAULT_BUFFER_BYTES, 10, 600);
    }

    /**
     * @param handshakeIntervals handshake timeout, in heartbeat intervals
     * @param detachIntervals    detach timeout, in heartbeat intervals
     */
    public static LinkSettings link(Duration interval, int bufferBytes, long handshakeIntervals, long detachIntervals) {
        return new LinkSettings(interval, LinkSettings.DEFAULT_MISSED_HEARTBEATS, bufferBytes,
                interval.multipliedBy(handshakeIntervals), interval.multipliedBy(detachIntervals));
    }

    /** Starts describing a rig for {@code link} relaying new sessions to loopback {@code targetPort}. */
    public static Builder with(LinkSettings link, int targetPort) {
        return new Builder(link, targetPort);
    }

    /** What differs from the defaults. */
    public static final class Builder {
        private final LinkSettings link;
        private final int targetPort;
        private int maxSessions = ServerConfig.DEFAULT_MAX_SESSIONS;
        private int maxHandshakes = ServerConfig.DEFAULT_MAX_HANDSHAKES;
        private int maxSessionsPerSource;
        private int cproxyMaxSessions = ClientConfig.DEFAULT_MAX_SESSIONS;
        private byte[] serverKey;
        private byte[] clientKey;
        private ServerKeys serverKeys;
        private ClientConfig.Trust clientTrust;
        private final Map<String, ServerConfig.Service> services = new LinkedHashMap<>();
        private final List<ClientConfig.Forward> forwards = new ArrayList<>();

        private Builder(LinkSettings link, int targetPort) {
            this.link = link;
            this.targetPort = targetPort;
        }

        public Builder maxSessions(int n) {
            maxSessions = n;
            return this;
        }

        public Builder maxHandshakes(int n) {
            maxHandshakes = n;
            return this;
        }

        /** sproxy's --max-sessions-per-source (0: none, the default). */
        public Builder maxSessionsPerSource(int n) {
            maxSessionsPerSource = n;
            return this;
        }

        /** cproxy's session limit (the other limits are sproxy's). */
        public Builder cproxyMaxSessions(int n) {
            cproxyMaxSessions = n;
            return this;
        }

        /** The key sproxy demands ({@code null}: none). */
        public Builder serverKey(byte[] key) {
            serverKey = key;
            return this;
        }

        /** The key cproxy proves ({@code null}: none). */
        public Builder clientKey(byte[] key) {
            clientKey = key;
            return this;
        }

        /** sproxy's host key and refusal key ({@code null}: fresh ones for this rig). */
        public Builder serverKeys(ServerKeys keys) {
            serverKeys = keys;
            return this;
        }

        /** sproxy also offers service {@code name}, relayed to loopback {@code port}. */
        public Builder service(String name, int port) {
            services.put(name, new ServerConfig.Service(name, "127.0.0.1", port));
            return this;
        }

        /** cproxy also listens (on a free loopback port) for sessions to sproxy's service {@code name}. */
        public Builder forward(String name) {
            forwards.add(new ClientConfig.Forward(InetAddress.getLoopbackAddress(), 0, name));
            return this;
        }

        /** cproxy trusts sproxy's host key as {@code trust} says ({@code null}: on first use, in memory). */
        public Builder clientTrust(ClientConfig.Trust trust) {
            clientTrust = trust;
            return this;
        }

        public Rig start() throws IOException {
            return new Rig(this);
        }
    }

    private Rig(Builder b) throws IOException {
        this.link = b.link;
        int cproxyMaxSessions = b.cproxyMaxSessions;
        InetAddress loopback = InetAddress.getLoopbackAddress();
        try {
            serverConfig = new ServerConfig(loopback, 0, "127.0.0.1", b.targetPort, link, b.maxSessions,
                    b.maxHandshakes, b.serverKey, b.serverKeys, b.services, b.maxSessionsPerSource);
            sproxy = closer.add(new ServerProxy(serverConfig));
            sproxy.start();
            relay = closer.add(FaultyRelay.start(sproxy.port()));
            cproxy = closer.add(new ClientProxy(new ClientConfig(loopback, 0, "127.0.0.1", relay.port(), link,
                    b.clientKey, true, b.clientTrust, b.forwards, cproxyMaxSessions)));
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

    @Override
    public LinkSettings link() {
        return link;
    }

    @Override
    public FaultyRelay relay() {
        return relay;
    }

    public ServerProxy sproxy() {
        return sproxy;
    }

    public ClientProxy cproxy() {
        return cproxy;
    }

    /** Where hostile raw clients connect: sproxy itself, not through the relay. */
    /** sproxy's host key, as cproxy trusts it. */
    public byte[] sproxyHostKey() {
        return serverConfig.keys().hostKey().publicKey();
    }

    public int sproxyPort() {
        return sproxy.port();
    }

    /** A new application connection to cproxy, i.e. a new session. */
    public AppClient openApp() throws IOException {
        return closer.add(AppClient.connect("s" + (++apps), cproxy.port()));
    }

    /** A new application connection to cproxy's port for sproxy's service {@code name}. */
    public AppClient openApp(String service) throws IOException {
        return closer.add(AppClient.connect("s" + (++apps), cproxy.port(service)));
    }

    /** A new application connection that does not read until told to. */
    public AppClient openPausedApp() throws IOException {
        return closer.add(AppClient.connect("s" + (++apps), cproxy.port(), true));
    }

    /** Registers something for {@link #close()}, closed before the proxies. */
    public <T extends AutoCloseable> T add(T resource) {
        return closer.add(resource);
    }

    /**
     * How long a writer's progress must stand still to count as held back by backpressure:
     * 20 intervals, at most 2 s (filling socket buffers takes milliseconds at any heartbeat).
     */
    public Duration heldBackAfter() {
        Duration d = intervals(20);
        return d.compareTo(Duration.ofSeconds(2)) > 0 ? Duration.ofSeconds(2) : d;
    }

    @Override
    public void close() {
        closer.close();
    }
}
