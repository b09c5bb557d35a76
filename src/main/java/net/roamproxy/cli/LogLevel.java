package net.roamproxy.cli;

import java.util.List;
import java.util.Locale;

import org.apache.logging.log4j.Level;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.config.Configurator;

/**
 * The {@code log-level} option: the root log level, which a reload (SIGHUP) can change while
 * sessions live. Without the option the level is {@code ROAMPROXY_LOG_LEVEL}'s (which
 * conf/log4j2.xml reads at start and the launcher scripts check), else INFO; so removing the
 * option from the config file and reloading goes back to that level.
 *
 * <p>log4j owns the level; this class only reads and sets it. Stateless.
 */
final class LogLevel {
    static final String OPTION = "log-level";
    static final List<String> NAMES = List.of("OFF", "FATAL", "ERROR", "WARN", "INFO", "DEBUG", "TRACE", "ALL");
    static final String ENV = "ROAMPROXY_LOG_LEVEL";
    /** The level when neither --log-level nor the environment gives one. */
    static final Level DEFAULT = Level.INFO;

    private LogLevel() {
    }

    /** The level the option asks for, or {@code null} when it is not set. */
    static Level of(Settings s) throws UsageException {
        String v = s.value(OPTION);
        if (v == null) {
            return null;
        }
        Level level = parse(v);
        if (level == null) {
            throw new UsageException(s.origin(OPTION) + " must be one of " + String.join(", ", NAMES) + ", got '" + v + "'");
        }
        return level;
    }

    /** Sets the root level to {@code requested}, if not {@code null}, at start. */
    static void applyAtStart(Level requested) {
        if (requested != null) {
            set(requested);
        }
    }

    /**
     * On reload: sets the root level to {@code requested}, or without one back to the
     * environment's level.
     *
     * @return the level now in force, for the reload's log line
     */
    static String applyOnReload(Level requested) {
        Level level = requested != null ? requested : fromEnvironment();
        set(level);
        return "log level " + level.name();
    }

    private static void set(Level level) {
        if (!LogManager.getRootLogger().getLevel().equals(level)) {
            Configurator.setRootLevel(level);
        }
    }

    private static Level fromEnvironment() {
        String v = System.getenv(ENV);
        Level level = v == null ? null : parse(v);
        return level != null ? level : DEFAULT;
    }

    private static Level parse(String v) {
        String name = v.strip().toUpperCase(Locale.ROOT);
        return NAMES.contains(name) ? Level.getLevel(name) : null;
    }
}
