package net.roamproxy.server;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetAddress;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import net.roamproxy.testkit.Closer;
import net.roamproxy.testkit.LogCapture;

/** Dropped handshakes are logged one by one up to a share per source a minute, then counted. */
class DropLogTest {
    @RegisterExtension final Closer closer = new Closer();
    @RegisterExtension final LogCapture logs = LogCapture.closedBy(closer);

    @Test
    void aFloodingSourceGetsItsShareOfLinesThenOneLineSayingTheRestAreCountedWhileOthersAreStillLogged()
            throws Exception {
        DropLog drops = new DropLog(LogManager.getLogger(DropLogTest.class));
        InetAddress flood = InetAddress.getByName("198.51.100.2");
        InetAddress other = InetAddress.getByName("192.0.2.3");

        for (int i = 0; i < DropLog.PER_SOURCE + 30; i++) {
            drops.dropped(flood, "198.51.100.2:" + (40000 + i), "no HELLO within 2000 ms");
        }
        drops.dropped(other, "192.0.2.3:5555", "bad magic");

        assertEquals(DropLog.PER_SOURCE, logs.find(Level.WARN, m -> m.startsWith("dropped connection from 198.51.100.2:"))
                .size(), "the flood's first lines, each with its reason");
        assertEquals(1, logs.find(Level.WARN, m -> m.equals(DropLog.PER_SOURCE + " connections from 198.51.100.2 "
                + "failed their handshake (dropped or refused) within a minute; more are counted")).size());
        assertEquals(1, logs.find(Level.WARN, m -> m.equals("dropped connection from 192.0.2.3:5555 during its "
                + "handshake: bad magic")).size(), "another source is not silenced by the flood");
    }

    @Test
    void refusalsShareTheSourcesLinesWithDropsAtTheirOwnLevel() throws Exception {
        DropLog drops = new DropLog(LogManager.getLogger(DropLogTest.class));
        InetAddress stranger = InetAddress.getByName("198.51.100.7");
        for (int i = 0; i < DropLog.PER_SOURCE - 1; i++) {
            drops.dropped(stranger, "198.51.100.7:" + (40000 + i), "no HELLO within 2000 ms");
        }
        for (int i = 0; i < 5; i++) {
            int n = i;
            drops.report(stranger, Level.INFO, () -> "refused resume of session " + n + " from 198.51.100.7");
        }

        assertEquals(1, logs.find(Level.INFO, m -> m.startsWith("refused resume of session ")).size(),
                "the one refusal within the source's share, at its own level");
        assertEquals(1, logs.find(Level.WARN, m -> m.startsWith(DropLog.PER_SOURCE + " connections from 198.51.100.7 "
                + "failed their handshake")).size(), "then the rest are counted");
    }
}
