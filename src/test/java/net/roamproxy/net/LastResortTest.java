package net.roamproxy.net;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;

import org.apache.logging.log4j.Level;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

import net.roamproxy.testkit.Closer;
import net.roamproxy.testkit.LogCapture;

/** The daemons' default uncaught-exception handler: what no thread handles is logged, not lost on stderr. */
@Timeout(20)
class LastResortTest {
    @RegisterExtension final Closer closer = new Closer();
    @RegisterExtension final LogCapture logs = LogCapture.closedBy(closer);

    @Test
    void anExceptionNoThreadHandlesIsLoggedAtErrorWithTheThreadsName() throws Exception {
        Thread.UncaughtExceptionHandler before = Thread.getDefaultUncaughtExceptionHandler();
        try {
            LastResort.install();
            Thread.UncaughtExceptionHandler installed = Thread.getDefaultUncaughtExceptionHandler();
            LastResort.install();
            assertSame(installed, Thread.getDefaultUncaughtExceptionHandler(), "installing again changes nothing");

            Thread t = new Thread(() -> {
                throw new IllegalStateException("nobody catches this (test)");
            }, "test-helper-7");
            t.start();
            t.join(10_000);
            assertFalse(t.isAlive());

            LogCapture.Line line = logs.await(Duration.ofSeconds(10), "the uncaught exception", Level.ERROR,
                    m -> m.contains("nobody catches this (test)"));
            assertTrue(line.message().contains("test-helper-7"), "names the thread: " + line);
            assertTrue(line.level() == Level.ERROR, line.toString());
        } finally {
            Thread.setDefaultUncaughtExceptionHandler(before);
        }
    }
}
