package net.roamproxy.cli;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A {@code --config} file: one {@code key = value} per line, where a key is a long option name
 * ({@code port = 5201}, {@code detach-timeout = 600}); blank lines and lines whose first
 * non-blank character is {@code #} are ignored. A value is everything after the first
 * {@code =}, trimmed, so a {@code #} after a value is part of the value (and usually makes it
 * invalid, which is reported).
 *
 * <p>Every problem (unreadable file, a line without {@code =}, an unknown or repeated key, an
 * empty value) is a {@link UsageException} whose one-line message starts with
 * {@code FILE:LINE:}. Immutable once read.
 */
final class ConfigFile {
    /** Config files are a few lines; anything this big is the wrong file. */
    static final long MAX_SIZE = 1 << 20;
    /** Keys that may appear on several lines, one value each (as their options may be repeated). */
    static final Set<String> REPEATABLE = Set.of("service", "forward");

    /** One value and the line it came from. */
    record Entry(String value, int line) {
    }

    private final Path path;
    private final Map<String, List<Entry>> entries;

    private ConfigFile(Path path, Map<String, List<Entry>> entries) {
        this.path = path;
        this.entries = Collections.unmodifiableMap(entries);
    }

    /** Reads and checks {@code path}; {@code keys} are the keys this command accepts. */
    static ConfigFile read(Path path, Set<String> keys) throws UsageException {
        List<String> lines;
        try {
            if (Files.isDirectory(path)) {
                throw new UsageException("config file " + path + " is a directory");
            }
            if (Files.size(path) > MAX_SIZE) {
                throw new UsageException("config file " + path + " is larger than " + MAX_SIZE + " bytes");
            }
            lines = Files.readAllLines(path, StandardCharsets.UTF_8);
        } catch (CharacterCodingException e) {
            throw new UsageException("config file " + path + " is not UTF-8 text");
        } catch (IOException e) {
            throw new UsageException("cannot read config file " + path + ": " + reason(e));
        }
        return parse(path, lines, keys);
    }

    /** Parses lines already read from {@code path}. */
    static ConfigFile parse(Path path, List<String> lines, Set<String> keys) throws UsageException {
        Map<String, List<Entry>> entries = new LinkedHashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            int n = i + 1;
            String line = lines.get(i).strip();
            if (n == 1 && line.startsWith("\uFEFF")) {
                line = line.substring(1).strip();
            }
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            int eq = line.indexOf('=');
            if (eq < 0) {
                throw new UsageException(path + ":" + n + ": expected 'key = value', got '" + line + "'");
            }
            String key = line.substring(0, eq).strip();
            String value = line.substring(eq + 1).strip();
            if (key.isEmpty()) {
                throw new UsageException(path + ":" + n + ": no key before '='");
            }
            if (!keys.contains(key)) {
                String hint = key.startsWith("-") && keys.contains(key.replaceFirst("^-+", ""))
                        ? "write it without dashes: " + key.replaceFirst("^-+", "")
                        : SharedOptions.RETIRED.containsKey(key) ? SharedOptions.RETIRED.get(key)
                        : "known keys: " + String.join(", ", new TreeSet<>(keys));
                throw new UsageException(path + ":" + n + ": unknown key '" + key + "' (" + hint + ")");
            }
            if (value.isEmpty()) {
                throw new UsageException(path + ":" + n + ": " + key + " has no value");
            }
            List<Entry> earlier = entries.computeIfAbsent(key, k -> new ArrayList<>());
            if (!earlier.isEmpty() && !REPEATABLE.contains(key)) {
                throw new UsageException(path + ":" + n + ": " + key + " is already set on line "
                        + earlier.get(0).line());
            }
            earlier.add(new Entry(value, n));
        }
        return new ConfigFile(path, entries);
    }

    /** The entry for {@code key}, or {@code null} if the file does not set it. */
    Entry get(String key) {
        List<Entry> all = entries.get(key);
        return all == null ? null : all.get(0);
    }

    /** Every entry for a {@linkplain #REPEATABLE repeatable} key, in file order. */
    List<Entry> all(String key) {
        return entries.getOrDefault(key, List.of());
    }

    Path path() {
        return path;
    }

    /** A short reason for a failed read, without the path the message already names. */
    static String reason(IOException e) {
        if (e instanceof NoSuchFileException) {
            return "no such file";
        }
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
    }
}
