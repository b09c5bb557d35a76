package net.roamproxy.it;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.time.Duration;

import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import net.roamproxy.session.LinkSettings;
import net.roamproxy.testkit.AppClient;
import net.roamproxy.testkit.Await;
import net.roamproxy.testkit.Closer;
import net.roamproxy.testkit.EchoServer;
import net.roamproxy.testkit.LogCapture;
import net.roamproxy.testkit.Rig;

/** Several services through one cproxy/sproxy pair: each local port reaches its own, and only, service. */
@Timeout(30)
class ServicesTest {
    private static final LinkSettings LINK = Rig.link(Duration.ofMillis(100));

    @RegisterExtension final Closer closer = new Closer();
    @RegisterExtension final LogCapture logs = LogCapture.closedBy(closer);

    @Test
    void eachForwardedPortReachesItsOwnServiceAndTheMainPortTheDefault() throws Exception {
        EchoServer telnetLike = closer.add(new EchoServer());
        EchoServer sshLike = closer.add(new EchoServer());
        Rig rig = closer.add(Rig.with(LINK, telnetLike.port()).service("ssh", sshLike.port()).forward("ssh").start());

        rig.echo(rig.openApp(), "to the default service");
        rig.echo(rig.openApp("ssh"), "to ssh");
        rig.echo(rig.openApp("ssh"), "to ssh again");

        assertEquals(1, telnetLike.connectionsAccepted());
        assertEquals(2, sshLike.connectionsAccepted());
        assertEquals(3, rig.sproxy().sessionCount());
        logs.await(rig.flowDeadline(), "sproxy names the service", Level.INFO, m -> m.contains("for service ssh"));
    }

    @Test
    void everyPortListensOnBothLoopbacksSoLocalhostWorksWhicheverItResolvesToFirst() throws Exception {
        InetAddress ipv6Loopback = InetAddress.getByName("::1");
        assumeTrue(canBind(ipv6Loopback), "this host has no IPv6 loopback");
        EchoServer telnetLike = closer.add(new EchoServer());
        EchoServer sshLike = closer.add(new EchoServer());
        Rig rig = closer.add(Rig.with(LINK, telnetLike.port()).service("ssh", sshLike.port()).forward("ssh").start());

        rig.echo(closer.add(AppClient.connect("v6", ipv6Loopback, rig.cproxy().port(), false)), "over ::1");
        rig.echo(closer.add(AppClient.connect("v6-ssh", ipv6Loopback, rig.cproxy().port("ssh"), false)),
                "ssh over ::1");

        assertEquals(1, telnetLike.connectionsAccepted());
        assertEquals(1, sshLike.connectionsAccepted());
    }

    private static boolean canBind(InetAddress a) {
        try (ServerSocket s = new ServerSocket(0, 1, a)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Test
    void aServiceSproxyDoesNotOfferIsRefusedAndItsApplicationConnectionClosed() throws Exception {
        EchoServer target = closer.add(new EchoServer());
        Rig rig = closer.add(Rig.with(LINK, target.port()).forward("nope").start());

        AppClient app = rig.openApp("nope");

        Await.done(app.ended(), rig.flowDeadline(), "cproxy closes the application connection");
        assertEquals(0, target.connectionsAccepted(), "nothing was reached");
        assertEquals(0, rig.sproxy().sessionCount());
        logs.await(rig.flowDeadline(), "sproxy's WARN lists what it offers", Level.WARN,
                m -> m.contains("service 'nope'") && m.contains("it offers: default"));
        logs.await(rig.flowDeadline(), "cproxy says why", Level.INFO,
                m -> m.contains("offers no service 'nope'"));
    }
}
