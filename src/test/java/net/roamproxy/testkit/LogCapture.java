package net.roamproxy.testkit;

import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.stream.Collectors;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.Appender;
import org.apache.logging.log4j.core.LogEvent;
import org.apache.logging.log4j.core.LoggerContext;
import org.apache.logging.log4j.core.appender.AbstractAppender;
import org.apache.logging.log4j.core.config.Configuration;
import org.apache.logging.log4j.core.config.LoggerConfig;
import org.apache.logging.log4j.core.config.Property;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * Records what the proxies log (logger {@code net.roamproxy} and below) at INFO and above, so
 * a test can assert the lines an operator relies on: a WARN naming the peer and the reason,
 * an INFO when a session is closed. The console keeps showing exactly what it showed before
 * (the root level, {@code ROAMPROXY_LOG_LEVEL} in tests).
 *
 * <p>A test class declares it after its {@link Closer}:
 * <pre>
 *  &#64;RegisterExtension final Closer closer = new Closer();
 *  &#64;RegisterExtension final LogCapture logs = LogCapture.closedBy(closer);
 * </pre>
 * It starts capturing before each test, not when constructed, because JUnit also instantiates
 * the class for skipped methods, whose captures nothing would close. It then goes on the closer
 * first, so it is closed last, after the proxies, and still sees what they log while closing.
 *
 * <p>Threading: the appender is called from any proxy thread; queries are thread-safe. Only
 * one capture may be active at a time (tests in this project run one at a time).
 */
public final class LogCapture implements AutoCloseable, BeforeEachCallback {
    private static final String LOGGER = "net.roamproxy";
    private static final AtomicInteger COUNTER = new AtomicInteger();

    /** One logged line, formatted when it was logged. */
    public record Line(Level level, String thread, String logger, String message) {
        @Override
        public String toString() {
            return level + " [" + thread + "] " + logger + " " + message;
        }
    }

    /** Appended to by logging threads; read through {@link #lines()}'s copy. Not copy-on-write: a crowd logs thousands of lines. */
    private final List<Line> lines = Collections.synchronizedList(new ArrayList<>());
    private final Closer closer;
    private LoggerContext context;
    private Appender appender;

    private LogCapture(Closer closer) {
        this.closer = closer;
    }

    /** A capture started before each test and closed by {@code closer}. */
    public static LogCapture closedBy(Closer closer) {
        return new LogCapture(closer);
    }

    @Override
    public void beforeEach(ExtensionContext test) {
        start();
        closer.add(this);
    }

    private void start() {
        context = (LoggerContext) LogManager.getContext(false);
        Configuration config = context.getConfiguration();
        LoggerConfig root = config.getRootLogger();
        Level consoleLevel = root.getLevel();
        Level captured = consoleLevel.isMoreSpecificThan(Level.INFO) ? Level.INFO : consoleLevel;
        appender = new AbstractAppender("hardening-capture-" + COUNTER.incrementAndGet(), null, null, true,
                Property.EMPTY_ARRAY) {
            @Override
            public void append(LogEvent e) {
                lines.add(new Line(e.getLevel(), e.getThreadName(), e.getLoggerName(),
                        e.getMessage().getFormattedMessage()));
            }
        };
        appender.start();
        LoggerConfig mine = new LoggerConfig(LOGGER, captured, false);
        mine.addAppender(appender, null, null);
        for (Appender a : root.getAppenders().values()) {
            mine.addAppender(a, consoleLevel, null);
        }
        config.addLogger(LOGGER, mine);
        context.updateLoggers();
        selfCheck(config, mine, captured);
    }

    /** Fails now, rather than let a test pass on an empty capture. */
    private void selfCheck(Configuration config, LoggerConfig mine, Level captured) {
        LoggerConfig effective = config.getLoggerConfig(LOGGER + ".link.Session");
        if (effective != mine) {
            throw new IllegalStateException("log capture not installed: net.roamproxy.session.Session logs through "
                    + effective.getName() + " (" + effective + "), configuration " + config.getName());
        }
        org.apache.logging.log4j.Logger probe = LogManager.getLogger(LOGGER + ".hardening.LogCapture");
        String marker = "log capture self-check " + appender.getName();
        probe.log(captured, marker);
        if (!lines.removeIf(l -> l.message().equals(marker))) {
            throw new IllegalStateException("log capture installed but a probe line at " + captured
                    + " was not captured; probe enabled: " + probe.isEnabled(captured));
        }
    }

    public List<Line> lines() {
        synchronized (lines) {
            return List.copyOf(lines);
        }
    }

    /** Lines at {@code level} or more severe whose message satisfies {@code p}. */
    public List<Line> find(Level level, Predicate<String> p) {
        return lines().stream().filter(l -> l.level().isMoreSpecificThan(level) && p.test(l.message()))
                .collect(Collectors.toList());
    }

    /** Waits for a line at {@code level} or more severe matching {@code p}; fails naming {@code what}. */
    public Line await(Duration timeout, String what, Level level, Predicate<String> p) throws InterruptedException {
        Line[] found = new Line[1];
        boolean ok = Await.poll(timeout, () -> {
            List<Line> l = find(level, p);
            if (l.isEmpty()) {
                return false;
            }
            found[0] = l.get(0);
            return true;
        });
        if (!ok) {
            fail("no " + level + " log line within " + timeout.toMillis() + " ms: " + what + "; logged:\n"
                    + dump(lines.size() > 60 ? lines.size() - 60 : 0));
        }
        return found[0];
    }

    /** The captured lines from index {@code from} on, one per line, for failure messages. */
    public String dump(int from) {
        List<Line> l = lines();
        return l.subList(Math.min(from, l.size()), l.size()).stream().map(Line::toString)
                .collect(Collectors.joining("\n"));
    }

    @Override
    public void close() {
        Configuration config = context.getConfiguration();
        config.removeLogger(LOGGER);
        context.updateLoggers();
        appender.stop();
    }
}
