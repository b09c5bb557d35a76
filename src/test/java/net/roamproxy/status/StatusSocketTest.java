package net.roamproxy.status;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import net.roamproxy.session.SessionStatus;
import net.roamproxy.testkit.Closer;

/**
 * The status socket cannot hang: the server cuts off a client that sends or reads nothing,
 * answers others meanwhile, and the client gives up on a daemon that does not answer.
 */
@Timeout(30)
class StatusSocketTest {
    /** Short, so that the tests need not wait long for a cut-off; nothing depends on how short. */
    private static final Duration TIMEOUT = Duration.ofMillis(500);

    @RegisterExtension final Closer closer = new Closer();
    @TempDir Path dir;

    private Path server(List<Row> rows) throws Exception {
        Path socket = dir.resolve("sproxy-6200.sock");
        StatusServer s = closer.add(new StatusServer("sproxy", socket, () -> rows, TimeUnit.MINUTES.toNanos(10),
                TIMEOUT));
        s.start();
        return socket;
    }

    private SocketChannel connect(Path socket) throws Exception {
        SocketChannel c = closer.add(SocketChannel.open(StandardProtocolFamily.UNIX));
        c.connect(UnixDomainSocketAddress.of(socket));
        return c;
    }

    /** Reads until the server closes; blocks until it does. */
    private static int readToEnd(SocketChannel c) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(1 << 16);
        int total = 0;
        for (int n; (n = c.read(b)) >= 0; b.clear()) {
            total += n;
        }
        return total;
    }

    @Test
    void clientsThatSendNothingAreCutOffAndTheNextStatusAnswers() throws Exception {
        Path socket = server(List.of());
        List<SocketChannel> silent = new ArrayList<>();
        for (int i = 0; i < StatusServer.AT_ONCE + 2; i++) {
            silent.add(connect(socket)); // more than are answered at once: the ask below waits its turn
        }

        String report = StatusClient.ask(List.of(socket), false);

        assertEquals("sproxy: 0 sessions\n", report);
        for (SocketChannel c : silent) {
            assertEquals(0, readToEnd(c), "cut off without a report");
        }
    }

    @Test
    void clientsThatDoNotReadTheirReportAreCutOffAndTheNextStatusAnswers() throws Exception {
        // A report far larger than a socket's buffer, so that writing it waits for the client.
        SessionStatus s = new SessionStatus("session 0123456789abcdef", "127.0.0.1:4000", "linked", 1500,
                "192.0.2.1:6200", "192.0.2.3:40000", 1600, 200, 1, 10, 20, 5, 1 << 20, "x".repeat(1000));
        List<Row> many = Collections.nCopies(1000, new Row("default", s));
        Path socket = server(many);
        int full = StatusReport.text("sproxy", many).getBytes(StandardCharsets.UTF_8).length;
        List<SocketChannel> stuck = new ArrayList<>();
        for (int i = 0; i < StatusServer.AT_ONCE; i++) {
            SocketChannel c = connect(socket);
            c.write(ByteBuffer.wrap("text\n".getBytes(StandardCharsets.US_ASCII)));
            stuck.add(c);
        }

        // Accepted after all of them (the backlog is first come, first served), so answered
        // only once the server has given up on one of them.
        String report = StatusClient.ask(List.of(socket), false);

        assertEquals(full, report.getBytes(StandardCharsets.UTF_8).length, "the whole report");
        List<Integer> got = new ArrayList<>();
        for (SocketChannel c : stuck) {
            got.add(readToEnd(c)); // those not cut off yet go on once read
        }
        assertTrue(got.stream().anyMatch(n -> n < full), "one cut off before the end of " + full + " bytes: " + got);
    }

    @Test
    void aDaemonThatTakesTheRequestButNeverAnswersIsGivenUpOnWithOneLine() throws Exception {
        Path socket = dir.resolve("cproxy-5200.sock");
        ServerSocketChannel mute = closer.add(ServerSocketChannel.open(StandardProtocolFamily.UNIX));
        mute.bind(UnixDomainSocketAddress.of(socket));
        Thread acceptor = new Thread(() -> {
            try {
                closer.add(mute.accept()); // and never a word
            } catch (Exception e) {
                // closed by the test's end
            }
        }, "test-mute-status");
        acceptor.setDaemon(true);
        acceptor.start();

        StatusClient.NoAnswer e = assertThrows(StatusClient.NoAnswer.class,
                () -> StatusClient.ask(List.of(socket), true, Duration.ofSeconds(1)));

        assertEquals(socket + " did not answer within 1 s", e.getMessage());
        assertEquals(Duration.ofSeconds(1), e.within());
        acceptor.join();
    }

    @Test
    void aStaleSocketIsNotRunningAndIsReplacedByTheNextDaemon() throws Exception {
        Path socket = dir.resolve("sproxy-6200.sock");
        ServerSocketChannel dead = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        dead.bind(UnixDomainSocketAddress.of(socket));
        dead.close(); // the file stays, as when a daemon dies

        java.io.IOException e = assertThrows(java.io.IOException.class,
                () -> StatusClient.ask(List.of(socket), false));
        assertTrue(e.getMessage().startsWith("looked for "), e.getMessage());

        assertEquals("sproxy: 0 sessions\n", StatusClient.ask(List.of(server(List.of())), false));
    }
}
