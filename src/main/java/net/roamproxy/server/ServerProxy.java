package net.roamproxy.server;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import net.roamproxy.link.Attachment;
import net.roamproxy.link.Link;
import net.roamproxy.link.Relay;
import net.roamproxy.link.Sockets;
import net.roamproxy.protocol.Frame;
import net.roamproxy.protocol.FrameType;
import net.roamproxy.protocol.Handshake;
import net.roamproxy.protocol.Handshake.Status;
import net.roamproxy.protocol.ProtocolException;
import net.roamproxy.protocol.UnsupportedVersionException;

/**
 * sproxy: accepts links from cproxy and tells new sessions from resumed ones.
 *
 * <p>Threads: {@code sproxy-accept} only accepts; each accepted connection gets a short-lived
 * {@code sproxy-handshake-N} thread that reads the HELLO under the handshake timeout, so a
 * silent or slow peer can never stall the accept loop. A new session gets a fresh target
 * connection and its own {@link Relay}; a resume is handed to the existing session through
 * its {@link ResumeQueue}. Lifecycle: {@link #start()} once, {@link #close()} any time.
 */
public final class ServerProxy implements AutoCloseable {
    private static final Logger log = LogManager.getLogger(ServerProxy.class);

    private final ServerConfig config;
    private final Map<Long, Session> sessions = new ConcurrentHashMap<>();
    private final SecureRandom random = new SecureRandom();
    private final AtomicInteger handshakes = new AtomicInteger();
    private volatile boolean closed;
    private ServerSocket listener;

    /** A live session: its relay, its credential and its link hand-off. */
    private record Session(Relay relay, byte[] secret, ResumeQueue links) {
    }

    public ServerProxy(ServerConfig config) {
        this.config = config;
    }

    /** Binds the listening port and starts accepting. */
    public void start() throws IOException {
        ServerSocket ss = new ServerSocket();
        ss.setReuseAddress(true);
        try {
            ss.bind(new InetSocketAddress(config.listenAddress(), config.listenPort()), 128);
        } catch (IOException e) {
            ss.close();
            throw new IOException("cannot listen on " + where() + ": " + e.getMessage(), e);
        }
        listener = ss;
        Thread t = new Thread(this::acceptLoop, "sproxy-accept");
        t.start();
        log.info("sproxy listening on {}, relaying new sessions to {}:{}", Sockets.describe(ss.getLocalSocketAddress()),
                config.targetHost(), config.targetPort());
    }

    private String where() {
        return (config.listenAddress() == null ? "*" : config.listenAddress().getHostAddress()) + ":" + config.listenPort();
    }

    /** The bound port (useful when configured as 0). */
    public int port() {
        return listener.getLocalPort();
    }

    private void acceptLoop() {
        while (!closed) {
            Socket s;
            try {
                s = listener.accept();
            } catch (IOException e) {
                if (!closed) {
                    log.error("accepting links failed, sproxy stops accepting: {}", e.getMessage());
                }
                return;
            }
            Thread t = new Thread(() -> handshake(s), "sproxy-handshake-" + handshakes.incrementAndGet());
            t.setDaemon(true);
            t.start();
        }
    }

    private void handshake(Socket s) {
        String peer = Sockets.describe(s.getRemoteSocketAddress());
        Link link;
        try {
            link = new Link(s);
        } catch (IOException e) {
            Sockets.closeQuietly(s);
            return;
        }
        Frame first;
        try {
            first = link.read((int) config.link().handshakeTimeout().toMillis());
        } catch (UnsupportedVersionException e) {
            log.warn("refused link from {}: {}", peer, e.getMessage());
            reply(link, Status.VERSION_MISMATCH);
            return;
        } catch (IOException e) {
            log.warn("dropped connection from {} before its handshake: {}", peer, e.getMessage());
            link.close();
            return;
        }
        try {
            if (first.type() != FrameType.HELLO) {
                throw new ProtocolException("expected HELLO, got " + first.type());
            }
            Handshake hello = Handshake.decode(first);
            if (hello.mode() == Handshake.Mode.NEW) {
                newSession(link, first, hello);
            } else {
                resume(link, first, hello);
            }
        } catch (IOException e) {
            log.warn("dropped link from {}: {}", peer, e.getMessage());
            link.close();
        }
    }

    private void newSession(Link link, Frame first, Handshake hello) throws IOException {
        Socket target = new Socket();
        try {
            target.connect(new InetSocketAddress(config.targetHost(), config.targetPort()),
                    (int) config.link().handshakeTimeout().toMillis());
        } catch (IOException e) {
            Sockets.closeQuietly(target);
            log.warn("new session from {} refused: target {}:{} unavailable: {}", link.peer(), config.targetHost(),
                    config.targetPort(), e.getMessage());
            reply(link, Status.TARGET_UNAVAILABLE);
            return;
        }
        long id;
        byte[] secret = new byte[Handshake.SECRET_SIZE];
        random.nextBytes(secret);
        Session session;
        synchronized (sessions) {
            do {
                id = random.nextLong();
            } while (id == 0 || sessions.containsKey(id));
            String idText = Handshake.idText(id);
            Attachment a = new Attachment(link, first.ack(), hello.window(),
                    Handshake.welcome(Status.NEW_SESSION, id, secret, config.link().bufferBytes()));
            ResumeQueue links = new ResumeQueue(a);
            long key = id;
            Relay relay = new Relay("session " + idText, "sproxy-session-" + idText, target, config.link(), links,
                    r -> sessions.remove(key));
            session = new Session(relay, secret, links);
            sessions.put(id, session);
        }
        log.info("{}: new session from {}, connected to {}:{}", session.relay().name(), link.peer(),
                config.targetHost(), config.targetPort());
        if (closed) {
            session.relay().close("sproxy is shutting down");
            return;
        }
        session.relay().start();
    }

    private void resume(Link link, Frame first, Handshake hello) throws IOException {
        Session session = sessions.get(hello.sessionId());
        String idText = Handshake.idText(hello.sessionId());
        if (session == null || !hello.secretMatches(session.secret()) || session.relay().isClosed()) {
            // Same answer for "no such session" and "wrong secret": no oracle for guessers.
            log.info("refused resume of session {} from {}: {}", idText, link.peer(),
                    session == null ? "no such session (it ended or sproxy restarted)" : "credential does not match");
            reply(link, Status.UNKNOWN_SESSION);
            return;
        }
        log.info("{}: cproxy is back from {}", session.relay().name(), link.peer());
        session.links().offer(new Attachment(link, first.ack(), hello.window(),
                Handshake.welcome(Status.RESUMED, hello.sessionId(), session.secret(), config.link().bufferBytes())));
    }

    private void reply(Link link, Status status) {
        try {
            link.send(new Frame(FrameType.WELCOME, 0, 0,
                    Handshake.welcome(status, 0, new byte[Handshake.SECRET_SIZE], 1).encode()));
        } catch (IOException ignored) {
            // it is being refused anyway
        }
        link.close();
    }

    /** Number of live sessions. */
    public int sessionCount() {
        return sessions.size();
    }

    /** Stops accepting, then closes every session; waits a bounded time for them to finish. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        Sockets.closeQuietly(listener);
        List<Relay> relays = new ArrayList<>();
        sessions.values().forEach(s -> relays.add(s.relay()));
        relays.forEach(r -> r.close("sproxy is shutting down"));
        for (Relay r : relays) {
            try {
                r.awaitClosed(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
        log.info("sproxy stopped");
    }
}
