package net.roamproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import net.roamproxy.session.LinkSettings;
import net.roamproxy.status.RuntimeDir;
import net.roamproxy.status.StatusClient;
import net.roamproxy.testkit.AppClient;
import net.roamproxy.testkit.Await;
import net.roamproxy.testkit.Closer;
import net.roamproxy.testkit.EchoServer;
import net.roamproxy.testkit.Json;
import net.roamproxy.testkit.Rig;

/**
 * {@code --status} of both daemons, checked against live sessions: fields, JSON, the socket's
 * mode, and a client that sends nothing holding up no one.
 */
@Timeout(30)
class StatusTest {
    private static final LinkSettings LINK = Rig.link(Duration.ofMillis(100));

    @RegisterExtension final Closer closer = new Closer();

    @SuppressWarnings("unchecked")
    private static List<Map<String, Object>> sessions(String daemon, int port) throws Exception {
        Map<String, Object> doc = (Map<String, Object>) Json.parse(StatusClient.ask(
                RuntimeDir.socketsToTry(daemon, port), true));
        assertEquals(daemon, doc.get("daemon"));
        assertTrue(doc.get("version") instanceof String v && !v.isBlank(), "the daemon's version: " + doc);
        return (List<Map<String, Object>>) doc.get("sessions");
    }

    private static void echo(Rig rig, AppClient app, String text) throws Exception {
        int before = app.receivedCount();
        app.write(text.getBytes(StandardCharsets.US_ASCII));
        Await.until(rig.flowDeadline(), "echo", () -> app.receivedCount() >= before + text.length());
    }

    @Test
    void bothDaemonsListTheirSessionsWithServiceLinkResumesBytesAndLoss() throws Exception {
        EchoServer telnet = closer.add(new EchoServer());
        EchoServer ssh = closer.add(new EchoServer());
        Rig rig = closer.add(Rig.with(LINK, telnet.port()).service("ssh", ssh.port()).forward("ssh").start());
        AppClient a = rig.openApp();
        AppClient b = rig.openApp("ssh");
        echo(rig, a, "hello");
        echo(rig, b, "hi");

        rig.relay().cut();
        echo(rig, a, " again");
        echo(rig, b, " again");
        Await.until(rig.flowDeadline(), "both sessions resumed at sproxy", () -> {
            try {
                return sessions("sproxy", rig.sproxyPort()).stream().allMatch(s -> ((Long) s.get("resumes")) >= 1);
            } catch (Exception e) {
                return false;
            }
        });

        List<Map<String, Object>> server = sessions("sproxy", rig.sproxyPort());
        List<Map<String, Object>> client = sessions("cproxy", rig.cproxy().port(""));
        assertEquals(2, server.size());
        assertEquals(2, client.size());
        assertEquals(List.of("default", "ssh"), server.stream().map(s -> (String) s.get("service")).sorted().toList());
        assertEquals(List.of("default", "ssh"), client.stream().map(s -> (String) s.get("service")).sorted().toList());
        for (Map<String, Object> s : client) {
            assertEquals("linked", s.get("state"));
            assertNotNull(s.get("link_local"));
            assertTrue(((String) s.get("link_peer")).endsWith(":" + rig.relay().port()), s.toString());
            assertTrue((Long) s.get("resumes") >= 1, s.toString());
            assertTrue((Long) s.get("link_age_ms") >= (Long) s.get("state_ms"),
                    "the link was made (and its handshake run) before it was attached: " + s);
            assertNotNull(s.get("last_loss"), "the cut is the last loss: " + s);
            assertEquals((long) LINK.bufferBytes(), s.get("replay_bound"));
            assertTrue((Long) s.get("bytes_sent") >= 7, s.toString());
            assertTrue(((String) s.get("session")).matches("[0-9a-f]{16}"), "the session id: " + s);
        }
        String text = StatusClient.ask(RuntimeDir.socketsToTry("sproxy", rig.sproxyPort()), false);
        assertTrue(text.matches("(?s)sproxy: 2 sessions, buffers \\d+\\.\\d MiB of \\d+\\.\\d MiB\n.*"), text);
        for (String daemon : new String[] {"sproxy", "cproxy"}) {
            int port = daemon.equals("sproxy") ? rig.sproxyPort() : rig.cproxy().port("");
            Map<?, ?> doc = (Map<?, ?>) Json.parse(StatusClient.ask(RuntimeDir.socketsToTry(daemon, port), true));
            long inUse = (Long) doc.get("memory_in_use");
            // Both sessions' receive windows and guarantees count from their start.
            assertTrue(inUse > 0 && inUse <= (Long) doc.get("memory_limit"), daemon + ": " + doc);
            assertEquals(LINK.memoryBytes(), doc.get("memory_limit"), daemon + ": " + doc);
        }
        assertTrue(text.contains("service ssh") && text.contains("linked"), text);

        Path socket = RuntimeDir.socketToBind("sproxy", rig.sproxyPort());
        // The socket admits the group (for /run/roamproxy, which the units make 0750); a
        // directory the daemon makes itself admits only its user.
        assertEquals("rw-rw----", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket)));
        assertEquals("rwx------", PosixFilePermissions.toString(Files.getPosixFilePermissions(socket.getParent())));
    }

    @Test
    void aClientThatConnectsAndSendsNothingIsCutOffAndStatusStillAnswers() throws Exception {
        EchoServer target = closer.add(new EchoServer());
        Rig rig = closer.add(Rig.with(LINK, target.port()).start());
        rig.openApp();
        Path socket = RuntimeDir.socketToBind("sproxy", rig.sproxyPort());
        try (SocketChannel silent = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            silent.connect(UnixDomainSocketAddress.of(socket));

            Await.until(rig.flowDeadline(), "the session at sproxy", () -> {
                try {
                    return sessions("sproxy", rig.sproxyPort()).size() == 1;
                } catch (Exception e) {
                    return false;
                }
            });

            assertEquals(-1, silent.read(ByteBuffer.allocate(64)), "cut off, without a report");
        }
        assertEquals(1, sessions("sproxy", rig.sproxyPort()).size());
    }

    @Test
    void theSocketIsGoneWhenTheDaemonStops() throws Exception {
        EchoServer target = closer.add(new EchoServer());
        Rig rig = closer.add(Rig.with(LINK, target.port()).start());
        Path socket = RuntimeDir.socketToBind("cproxy", rig.cproxy().port(""));
        assertTrue(Files.exists(socket));

        rig.close();

        assertTrue(!Files.exists(socket), "removed on close");
    }
}
