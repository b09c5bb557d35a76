package net.roamproxy.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import org.apache.commons.cli.CommandLine;

/**
 * The option values one run of a command uses: the command line over the {@code --config}
 * file. Each typed accessor checks its value and reports a bad one in a single line that says
 * where it came from: {@code --port must be ...} for the command line,
 * {@code FILE:LINE: port must be ...} for the config file.
 *
 * <p>Immutable; used by the thread that starts the command.
 */
final class Settings {
    private final CommandLine cl;
    private final ConfigFile file;

    private Settings(CommandLine cl, ConfigFile file) {
        this.cl = cl;
        this.file = file;
    }

    /** Reads the {@code --config} file named on {@code cl}, if any, accepting {@code keys}. */
    static Settings of(CommandLine cl, Set<String> keys) throws UsageException {
        String config = cl.getOptionValue("config");
        return new Settings(cl, config == null ? null : ConfigFile.read(Path.of(config), keys));
    }

    /** The value of option {@code name}: the command line's, else the config file's, else {@code null}. */
    String value(String name) {
        if (cl.hasOption(name)) {
            return cl.getOptionValue(name);
        }
        ConfigFile.Entry e = file == null ? null : file.get(name);
        return e == null ? null : e.value();
    }

    /**
     * A repeatable option's values with where each came from: the command line's (all of
     * them, and then the file's are ignored, as for every option), else the file's.
     */
    List<Origin> values(String name) {
        List<Origin> out = new ArrayList<>();
        if (cl.hasOption(name)) {
            for (String v : cl.getOptionValues(name)) {
                out.add(new Origin(v, "--" + name));
            }
        } else if (file != null) {
            for (ConfigFile.Entry e : file.all(name)) {
                out.add(new Origin(e.value(), file.path() + ":" + e.line() + ": " + name));
            }
        }
        return out;
    }

    /** One value of a repeatable option and how an error names it. */
    record Origin(String value, String origin) {
    }

    boolean has(String name) {
        return value(name) != null;
    }

    /** How an error names the option: {@code --port}, or {@code FILE:LINE: port}. */
    String origin(String name) {
        if (!cl.hasOption(name) && file != null && file.get(name) != null) {
            return file.path() + ":" + file.get(name).line() + ": " + name;
        }
        return "--" + name;
    }

    /** The positional arguments on the command line. */
    List<String> arguments() {
        return cl.getArgList();
    }

    /** The config file's value for a key that is not an option (cproxy's {@code server}), or {@code null}. */
    String fileOnly(String key) {
        ConfigFile.Entry e = file == null ? null : file.get(key);
        return e == null ? null : e.value();
    }

    /**
     * A file-name option: relative names from the config file are resolved against that
     * file's directory, relative names from the command line against the working directory.
     */
    Path path(String name) {
        String v = value(name);
        if (v == null) {
            return null;
        }
        Path p = Path.of(v);
        if (!cl.hasOption(name) && !p.isAbsolute()) {
            Path dir = file.path().toAbsolutePath().getParent();
            return dir == null ? p : dir.resolve(p);
        }
        return p;
    }

    /**
     * A flag: given on the command line, or {@code true}/{@code false} (also {@code yes}/{@code no})
     * in the config file; {@code false} when neither says.
     */
    boolean flag(String name) throws UsageException {
        if (cl.hasOption(name)) {
            return true;
        }
        ConfigFile.Entry e = file == null ? null : file.get(name);
        if (e == null) {
            return false;
        }
        return switch (e.value().trim().toLowerCase(Locale.ROOT)) {
            case "true", "yes" -> true;
            case "false", "no" -> false;
            default -> throw new UsageException(origin(name) + " must be true or false, got '" + e.value() + "'");
        };
    }

    /** A whole number in {@code [min, max]}, or {@code dflt} when the option is not given. */
    long number(String name, long dflt, long min, long max) throws UsageException {
        String v = value(name);
        if (v == null) {
            return dflt;
        }
        long n;
        try {
            n = Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException(origin(name) + " needs a whole number, got '" + v + "'");
        }
        if (n < min || n > max) {
            throw new UsageException(origin(name) + " must be from " + min + " to " + max + ", got " + n);
        }
        return n;
    }

    /** A port from {@code min} (0 or 1) to 65535, or {@code dflt}. */
    int port(String name, int dflt, int min) throws UsageException {
        String v = value(name);
        if (v == null) {
            return dflt;
        }
        long p;
        try {
            p = Long.parseLong(v.trim());
        } catch (NumberFormatException e) {
            throw new UsageException(origin(name) + " needs a whole number, got '" + v + "'");
        }
        if (p < min || p > 65535) {
            throw new UsageException(origin(name) + " must be a port from " + min + " to 65535, got " + p);
        }
        return (int) p;
    }

    /** A byte count such as {@code 1048576}, {@code 512K}, {@code 1M} or {@code 1G}, or {@code dflt}. */
    long size(String name, long dflt) throws UsageException {
        String v = value(name);
        if (v == null) {
            return dflt;
        }
        String t = v.trim().toUpperCase(Locale.ROOT);
        long unit = 1;
        if (t.endsWith("K") || t.endsWith("M") || t.endsWith("G")) {
            unit = t.endsWith("K") ? 1L << 10 : t.endsWith("M") ? 1L << 20 : 1L << 30;
            t = t.substring(0, t.length() - 1);
        }
        try {
            return Math.multiplyExact(Long.parseLong(t), unit);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new UsageException(origin(name) + " needs a size such as 1048576, 512K or 1M, got '" + v + "'");
        }
    }
}
