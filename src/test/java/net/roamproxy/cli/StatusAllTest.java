package net.roamproxy.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import net.roamproxy.testkit.Closer;
import net.roamproxy.testkit.EchoServer;
import net.roamproxy.testkit.Json;
import net.roamproxy.testkit.Rig;

/** {@code --status} without {@code -p}: every daemon of this user, each under its port. */
@Timeout(30)
class StatusAllTest {
    @RegisterExtension final Closer closer = new Closer();

    @Test
    void statusWithoutAPortListsEveryDaemonOfThisUser() throws Exception {
        EchoServer target = closer.add(new EchoServer());
        Rig one = closer.add(Rig.with(Rig.link(Duration.ofMillis(100)), target.port()).start());
        Rig two = closer.add(Rig.with(Rig.link(Duration.ofMillis(100)), target.port()).start());
        one.openApp();

        Cli.Result text = Cli.cproxy("--status");
        Cli.Result json = Cli.sproxy("--status", "--json");

        assertEquals(0, text.status(), text.toString());
        for (Rig rig : new Rig[] {one, two}) {
            assertTrue(text.out().contains("== cproxy on port " + rig.cproxy().port() + "\n"), text.out());
        }
        assertEquals(0, json.status(), json.toString());
        long daemons = json.out().lines().peek(line -> assertEquals("sproxy",
                ((java.util.Map<?, ?>) parse(line)).get("daemon"))).count();
        assertTrue(daemons >= 2, "one JSON object a line, one per sproxy: " + json.out());
    }

    private static Object parse(String line) {
        try {
            return Json.parse(line);
        } catch (Exception e) {
            throw new AssertionError("not JSON: " + line, e);
        }
    }
}
