package net.roamproxy.hardening;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import net.roamproxy.client.ClientConfig;
import net.roamproxy.client.ClientProxy;
import net.roamproxy.server.ServerConfig;
import net.roamproxy.server.ServerProxy;
import net.roamproxy.session.LinkSettings;
import net.roamproxy.testkit.AppClient;
import net.roamproxy.testkit.Await;
import net.roamproxy.testkit.Closer;
import net.roamproxy.testkit.EchoServer;
import net.roamproxy.testkit.LogCapture;
import net.roamproxy.testkit.Rig;
import net.roamproxy.trust.ServerKeys;
import net.roamproxy.wire.Handshake;
import net.roamproxy.wire.HostKey;
import net.roamproxy.wire.Wire;

/**
 * An attacker who answers a new session in sproxy's place must sign with its own host key,
 * and cproxy trusts only one: the one pinned with --server-fingerprint, or the one it recorded
 * the first time it reached the server (trust on first use, as ssh). Another key ends the new
 * session with an ERROR naming both fingerprints and the fix, before a single application
 * byte leaves.
 */
@Timeout(30)
class AttackerHostKeyTest {
    private static final LinkSettings LINK = Rig.link(Duration.ofMillis(100));
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();
    private static final byte[] TEXT = "secret keystrokes".getBytes(StandardCharsets.US_ASCII);
    private static final String ADDED = "Permanently added";

    @RegisterExtension final Closer closer = new Closer();
    @RegisterExtension final LogCapture logs = LogCapture.closedBy(closer);

    private static ServerKeys freshKeys() {
        return new ServerKeys(HostKey.generate(), Handshake.randomBytes(32));
    }

    private static String fingerprint(ServerKeys keys) {
        return HostKey.fingerprint(keys.hostKey().publicKey());
    }

    /** The file's entries, comments and blank lines left out. */
    private static List<String> entries(Path file) throws Exception {
        return Files.readAllLines(file).stream().filter(l -> !l.isBlank() && !l.startsWith("#")).toList();
    }

    @Test
    void aWelcomeSignedByAnotherHostKeyEndsANewSessionPinnedToTheRealKeyWithAnErrorNamingBoth() throws Exception {
        EchoServer echo = closer.add(new EchoServer());
        ServerKeys keys = freshKeys();
        String real = fingerprint(keys);
        MitmChain chain = new MitmChain(closer, LINK, echo.port(), null, null, keys, new ClientConfig.Trust(real, null));
        HostKey attackers = HostKey.generate();
        String forged = HostKey.fingerprint(attackers.publicKey());
        CompletableFuture<MitmRelay.Seen> answered = chain.relay.arm("WELCOME signed by another host key",
                s -> s.direction() == MitmRelay.Direction.UP && s.type() == 1,
                s -> s.conn().answer(s.direction(), Forgeries.welcomeSignedBy(attackers, s.bytes(), 42)));

        AppClient app = chain.openApp();
        app.write(TEXT);

        Await.done(answered, chain.flowDeadline(), "the attacker answers the HELLO");
        Await.done(app.ended(), chain.flowDeadline(), "cproxy closes the application connection");
        LogCapture.Line error = logs.await(chain.flowDeadline(), "an ERROR naming both fingerprints", Level.ERROR,
                m -> m.contains(forged) && m.contains(real));
        assertTrue(error.message().contains("--server-fingerprint"), "and the fix: " + error);
        logs.await(chain.flowDeadline(), "the session closed for that reason", Level.INFO,
                m -> m.contains(": closed:") && m.contains(forged));
        List<MitmRelay.Conn> dials = chain.relay.dials();
        assertEquals(1, dials.size(), "no redial");
        MitmRelay.Conn link = dials.get(0);
        assertEquals(1, link.frames(MitmRelay.Direction.UP).size(), "cproxy sent its HELLO and nothing after it: "
                + "no PROOF, no data");
        assertEquals(0, echo.connectionsAccepted(), "nothing reached the target");
        Await.until(chain.flowDeadline(), "cproxy forgets the session", () -> chain.cproxy.sessionCount() == 0);
    }

    @Test
    void trustOnFirstUseRecordsTheHostKeyOnceAndAnotherKeyAtTheSameAddressLaterIsRefused(@TempDir Path dir)
            throws Exception {
        EchoServer echo = closer.add(new EchoServer());
        Path known = dir.resolve("known_servers");
        ServerKeys keys = freshKeys();
        MitmChain chain = new MitmChain(closer, LINK, echo.port(), null, null, keys,
                new ClientConfig.Trust(null, known));
        String server = "127.0.0.1:" + chain.relay.port();
        AppClient first = chain.openApp();
        first.write(TEXT);
        Await.until(chain.flowDeadline(), "the first session's echo", () -> first.receivedCount() >= TEXT.length);
        AppClient again = chain.openApp();
        again.write(TEXT);
        Await.until(chain.flowDeadline(), "a second session's echo", () -> again.receivedCount() >= TEXT.length);

        assertEquals(List.of(server + " " + fingerprint(keys)), entries(known), "one line with the right fingerprint");
        List<LogCapture.Line> added = logs.find(Level.INFO, m -> m.contains(ADDED));
        assertEquals(1, added.size(), "logged once: " + added);
        assertTrue(added.get(0).message().contains(fingerprint(keys)) && added.get(0).message().contains(
                known.toString()), added.get(0).toString());

        // Another sproxy, with another host key, now answers at the same address.
        ServerKeys otherKeys = freshKeys();
        ServerProxy other = closer.add(new ServerProxy(new ServerConfig(LOOPBACK, 0, "127.0.0.1", echo.port(), LINK,
                ServerConfig.DEFAULT_MAX_SESSIONS, ServerConfig.DEFAULT_MAX_HANDSHAKES, null, otherKeys)));
        other.start();
        chain.relay.retarget(other.port());
        ClientProxy second = closer.add(new ClientProxy(new ClientConfig(LOOPBACK, 0, "127.0.0.1", chain.relay.port(),
                LINK, null, true, new ClientConfig.Trust(null, known))));
        second.start();
        int dialled = chain.relay.connectionsAccepted();
        AppClient app = closer.add(AppClient.connect("second-cproxy", second.port()));
        app.write(TEXT);

        Await.done(app.ended(), chain.flowDeadline(), "the second cproxy closes its application connection");
        LogCapture.Line error = logs.await(chain.flowDeadline(), "an ERROR naming both fingerprints", Level.ERROR,
                m -> m.contains(fingerprint(otherKeys)) && m.contains(fingerprint(keys)));
        assertTrue(error.message().contains("remove the line for " + server + " from " + known), "and the fix: "
                + error);
        assertEquals(List.of(server + " " + fingerprint(keys)), entries(known), "the file is unchanged");
        assertEquals(1, logs.find(Level.INFO, m -> m.contains(ADDED)).size(), "nothing more added");
        List<MitmRelay.Conn> dials = chain.relay.dials().stream().filter(c -> c.id >= dialled).toList();
        assertEquals(1, dials.size(), "one dial, no retry");
        MitmRelay.Conn link = dials.get(0);
        assertTrue(link.frames(MitmRelay.Direction.UP).stream().allMatch(f -> f[3] == 1 && f.length > Wire.HEADER_SIZE),
                "the second cproxy sent its HELLO and nothing after it");
        assertEquals(2, echo.connectionsAccepted(), "the two sessions of the first cproxy, nothing more");
        Await.until(chain.flowDeadline(), "the second cproxy forgets the session", () -> second.sessionCount() == 0);
        assertFalse(first.ended().isDone() || again.ended().isDone(), "the first cproxy's sessions carry on");
    }
}
