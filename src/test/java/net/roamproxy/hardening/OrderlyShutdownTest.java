package net.roamproxy.hardening;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.net.ConnectException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Collectors;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import net.roamproxy.session.LinkSettings;
import net.roamproxy.testkit.AppClient;
import net.roamproxy.testkit.Await;
import net.roamproxy.testkit.Closer;
import net.roamproxy.testkit.Pacer;
import net.roamproxy.testkit.RawLink;
import net.roamproxy.testkit.Rig;
import net.roamproxy.testkit.StreamServer;
import net.roamproxy.testkit.Streams;
import net.roamproxy.testkit.Threads;

/**
 * Closing a proxy in any state (streaming sessions, a stalled application whose writes block,
 * a black-holed link, strangers halfway through their handshake) stops its listener first,
 * then ends every session and connection it holds, and is done, with no thread of its own left
 * running. How long close() took is printed, not asserted: on a loaded machine it may take
 * longer without anything being wrong; a close that hangs fails on the guard.
 */
@Timeout(120)
class OrderlyShutdownTest {
    /** Only against a hang: close() itself gives its sessions a bounded time of a few seconds. */
    private static final Duration GUARD = Duration.ofSeconds(30);
    private static final int CHUNK = 16 * 1024;

    @RegisterExtension final Closer closer = new Closer();
    /** Threads alive before the test: leftovers of earlier tests in this JVM are not this test's concern. */
    private final Set<Thread> before = Set.copyOf(Thread.getAllStackTraces().keySet());

    /**
     * Slow handshakes (120 s, far beyond {@link #GUARD}) so that strangers are still in theirs
     * when the proxy closes, and a stranger found closed within the guard was closed by close(),
     * not by its handshake timeout.
     */
    private static LinkSettings link() {
        return Rig.link(Duration.ofMillis(200), LinkSettings.DEFAULT_BUFFER_BYTES, 600, 600);
    }

    @Test
    void closingSproxyStopsListeningAndEndsEverySessionAndHandshake() throws Exception {
        int bytes = 16 << 20;
        StreamServer target = closer.add(new StreamServer(bytes, 91, false, Pacer.NONE));
        Rig rig = closer.add(Rig.with(link(), target.port()).start());
        AppClient streaming = rig.openApp();
        rig.openPausedApp(); // never reads
        streaming.writeInBackground(Streams.pseudoRandom(92, bytes), CHUNK, Pacer.NONE);
        Await.until(rig.flowDeadline(), "both sessions established", () -> target.connectionsAccepted() == 2
                && streaming.receivedCount() > 0);
        // The stalled session's target is blocked writing, sproxy's side of it full.
        Await.stalled(rig.heldBackAfter(), rig.flowDeadline(), "a stalled session backs up to its target",
                () -> target.connections().stream().mapToLong(StreamServer.Conn::bytesWritten).min().orElse(0));
        List<RawLink> strangers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            RawLink raw = closer.add(RawLink.connect(rig.sproxyPort()));
            if (i == 1) {
                raw.sendRaw(new byte[] {(byte) 'R'}); // one byte, then silence
            }
            strangers.add(raw);
        }
        // Accept is first come, first served: once a later connection has been read and dropped,
        // the strangers are past accept and in their handshakes (not just queued at the listener,
        // which closing it would reset anyway).
        try (RawLink barrier = RawLink.connect(rig.sproxyPort())) {
            barrier.sendRaw(Hostile.ALL_ZERO_HEADER.bytes(0));
            assertTrue(barrier.closedByPeerWithin(rig.flowDeadline()), "sproxy reads and drops a bad connection");
        }
        int port = rig.sproxyPort();

        long start = System.nanoTime();
        rig.sproxy().close();
        long tookMs = (System.nanoTime() - start) / 1_000_000;

        assertNotListening(port, "sproxy");
        for (StreamServer.Conn c : target.connections()) {
            Await.done(c.ended(), remaining(start), "target connection " + c.id() + " closed");
        }
        for (RawLink raw : strangers) {
            assertTrue(raw.closedByPeerWithin(remaining(start)), raw + ", still in its handshake, is closed too");
        }
        awaitNoThreads("sproxy-", start);
        System.out.printf("sproxy close: returned after %d ms%n", tookMs);
    }

    @Test
    void closingCproxyStopsListeningAndEndsEverySessionEvenWithBlockedWrites() throws Exception {
        int bytes = 16 << 20;
        StreamServer target = closer.add(new StreamServer(bytes, 93, false, Pacer.NONE));
        Rig rig = closer.add(Rig.with(link(), target.port()).start());
        AppClient streaming = rig.openApp();
        AppClient stalled = rig.openPausedApp();
        streaming.writeInBackground(Streams.pseudoRandom(94, bytes), CHUNK, Pacer.NONE);
        Await.until(rig.flowDeadline(), "both sessions established", () -> target.connectionsAccepted() == 2
                && streaming.receivedCount() > 0);
        // cproxy's writer to the stalled application blocks; then the path goes silent while the
        // other application keeps writing, so cproxy's link writes block too and it starts redialling.
        Await.stalled(rig.heldBackAfter(), rig.flowDeadline(), "the stalled session backs up",
                () -> target.connections().stream().mapToLong(StreamServer.Conn::bytesWritten).min().orElse(0));
        int dialled = rig.relay().connectionsAccepted();
        rig.relay().blackhole();
        Await.stalled(rig.heldBackAfter(), rig.noticeDeadline().plus(rig.flowDeadline()),
                "the streaming application is held back", streaming::bytesWritten);
        Await.until(rig.noticeDeadline(), "cproxy redials into the black hole",
                () -> rig.relay().connectionsAccepted() > dialled);
        int port = rig.cproxy().port();

        long start = System.nanoTime();
        rig.cproxy().close();
        long tookMs = (System.nanoTime() - start) / 1_000_000;

        assertNotListening(port, "cproxy");
        Await.done(streaming.ended(), remaining(start), "the streaming application's connection closed");
        // Its FIN waits behind the bytes it has not read: it sees the end once it reads again.
        stalled.resumeReading();
        Await.done(stalled.ended(), remaining(start), "the stalled application's connection closed");
        awaitNoThreads("cproxy-", start);
        System.out.printf("cproxy close: returned after %d ms%n", tookMs);
    }

    /**
     * Nothing in this process accepts connections on {@code port} any more. Asked of the kernel
     * (Linux's socket tables) rather than by connecting: a port freed by close() may be taken at
     * once by another process on the machine, which a connection could not tell from the proxy.
     * Elsewhere, falls back to connecting.
     */
    private static void assertNotListening(int port, String who) throws IOException {
        Path tcp = Path.of("/proc/net/tcp");
        if (!Files.isReadable(tcp)) {
            assertRefused(port, who);
            return;
        }
        Set<String> ours = new HashSet<>();
        try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc/self/fd"))) {
            for (Path fd : fds) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[")) {
                        ours.add(target.substring(8, target.length() - 1));
                    }
                } catch (IOException closedMeanwhile) {
                    // an fd closed while we listed them
                }
            }
        }
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            Path t = Path.of(table);
            if (!Files.isReadable(t)) {
                continue;
            }
            for (String line : Files.readAllLines(t)) {
                String[] f = line.trim().split("\\s+");
                // sl local_address rem_address st ... inode: state 0A is LISTEN
                if (f.length > 9 && f[3].equals("0A") && f[1].endsWith(String.format(":%04X", port)) && ours.contains(f[9])) {
                    fail(who + " still listens on port " + port);
                }
            }
        }
    }

    private static void assertRefused(int port, String who) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1000);
            if (s.getLocalPort() == port) {
                return; // TCP self-connect: the kernel picked the freed port as our source port
            }
            fail(who + " still accepts connections on port " + port + " (connected from " + s.getLocalPort() + ")");
        } catch (ConnectException expected) {
            // refused: the listener is closed
        }
    }

    /** What is left of the guard since {@code start} (at least 1 ms, so the check still runs once). */
    private static Duration remaining(long start) {
        return Duration.ofNanos(Math.max(1_000_000, GUARD.toNanos() - (System.nanoTime() - start)));
    }

    private void awaitNoThreads(String prefix, long start) throws InterruptedException {
        Await.until(remaining(start), () -> "threads still running " + GUARD.toSeconds() + " s after close(): "
                + threads(prefix), () -> threads(prefix).isEmpty());
    }

    private List<String> threads(String prefix) {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.isAlive() && t.getName().startsWith(prefix) && !before.contains(t))
                // cproxy's shared connect pool keeps an idle thread for a few seconds by design
                .filter(t -> !Threads.idleInPool(t))
                .map(Thread::getName).sorted().collect(Collectors.toList());
    }
}
