package net.roamproxy.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Reads facts out of the hand-written docs (the design report's chapters, README.md, docs/*.md)
 * so that tests can hold them against the code: AsciiDoc and Markdown tables by their anchor or
 * heading, and facts stated in prose by a pattern. The fragments the code writes itself are
 * {@link GeneratedDoc}'s business; these are the parts a person types, and so the parts that drift.
 * It also writes the code's values as the docs write them ("15 min", "1M"), so that a test compares
 * text with text. Every failure names the file, the fact, what the doc says and what the code says.
 */
public final class Docs {
    /** The design report's chapters, where its tables live. */
    public static final Path CHAPTERS = Path.of("src", "docs", "chapters");

    private Docs() {
    }

    /** A file of the project, read whole. */
    public static String read(String file) {
        try {
            return Files.readString(Path.of(file), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * A table: its rows (the header row first), each a list of cells with their markup kept but
     * surrounding blanks trimmed; {@code where} names the file and the table for failure messages.
     */
    public record Table(String where, List<List<String>> rows) {
        /** The rows below the header. */
        public List<List<String>> body() {
            return rows.subList(1, rows.size());
        }

        /** The one body row whose first cell, without markup, is {@code first} or {@code first (...)}. */
        public List<String> row(String first) {
            List<List<String>> found = body().stream()
                    .filter(r -> plain(r.get(0)).equals(first) || plain(r.get(0)).startsWith(first + " (")).toList();
            assertEquals(1, found.size(), where + ": expected one row starting with '" + first + "'");
            return found.get(0);
        }
    }

    /**
     * The AsciiDoc table of the design report anchored {@code [[anchor]]}: the cells between its
     * {@code |===} lines, grouped by the number of columns its {@code cols} attribute gives, so
     * that a row may span lines.
     */
    public static Table reportTable(String anchor) {
        try (var files = Files.list(CHAPTERS)) {
            for (Path p : files.sorted().toList()) {
                String text = Files.readString(p, StandardCharsets.UTF_8);
                int at = text.indexOf("[[" + anchor + "]]");
                if (at >= 0) {
                    return adocTable(p + ", table " + anchor, text.substring(at));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        throw new AssertionError("no chapter in " + CHAPTERS + " has a table [[" + anchor + "]]");
    }

    private static Table adocTable(String where, String from) {
        int open = from.indexOf("\n|===\n");
        int close = from.indexOf("\n|===", open + 5);
        Matcher cols = Pattern.compile("\\[cols=\"([^\"]*)\"").matcher(from.substring(0, open));
        assertTrue(cols.find(), where + ": no [cols=...] before the table");
        int width = cols.group(1).split(",").length;
        String[] cells = from.substring(open + 5, close).split("(?<!\\\\)\\|", -1);
        List<String> all = new ArrayList<>();
        for (int i = 1; i < cells.length; i++) {
            all.add(cells[i].strip());
        }
        assertEquals(0, all.size() % width, where + ": " + all.size() + " cells do not fill rows of " + width);
        List<List<String>> rows = new ArrayList<>();
        for (int i = 0; i < all.size(); i += width) {
            rows.add(all.subList(i, i + width));
        }
        return new Table(where, rows);
    }

    /** The first Markdown table after the line {@code heading} (e.g. {@code "## Limits"}) of {@code file}. */
    public static Table markdownTable(String file, String heading) {
        List<String> lines = read(file).lines().toList();
        int at = lines.indexOf(heading);
        assertTrue(at >= 0, file + " has no heading '" + heading + "'");
        while (at < lines.size() && !lines.get(at).startsWith("|")) {
            at++;
        }
        List<List<String>> rows = new ArrayList<>();
        for (; at < lines.size() && lines.get(at).startsWith("|"); at++) {
            String line = lines.get(at).strip();
            if (line.matches("\\|[-:| ]+\\|")) {
                continue; // the separator row
            }
            List<String> row = new ArrayList<>();
            for (String cell : line.substring(1, line.length() - 1).split("(?<!\\\\)\\|", -1)) {
                row.add(cell.strip());
            }
            rows.add(row);
        }
        assertTrue(rows.size() > 1, file + ": no table after '" + heading + "'");
        return new Table(file + ", table under '" + heading + "'", rows);
    }

    /**
     * A cell's text without AsciiDoc or Markdown inline markup: backticks, bold, emphasis; an
     * AsciiDoc superscript {@code 2^31^} becomes {@code 2^31}.
     */
    public static String plain(String cell) {
        return cell.replaceAll("(?<!\\w)_([^_]+)_(?!\\w)", "$1").replaceAll("\\^([^^\\s]+)\\^", "^$1")
                .replaceAll("[`*]", "").strip();
    }

    /** A number as a doc writes it, "65,536" or "65536", as a long. */
    public static long number(String text) {
        return Long.parseLong(text.replace(",", "").strip());
    }

    /** A duration in milliseconds as the docs write it: "100 ms", "2 s", "1.5 s", "15 min". */
    public static String human(long ms) {
        if (ms < 1000) {
            return ms + " ms";
        }
        if (ms % 60_000 == 0) {
            return ms / 60_000 + " min";
        }
        return seconds(ms);
    }

    /** A duration in seconds, as the docs write the steps of a stop: "0.5 s", "0.75 s", "1 s". */
    public static String seconds(long ms) {
        return (ms % 1000 == 0 ? String.valueOf(ms / 1000) : String.valueOf(ms / 1000.0)) + " s";
    }

    /** A byte count as the options take it: "64K", "1M", "1G". */
    public static String size(long bytes) {
        for (String unit : new String[] {"G", "M", "K"}) {
            long u = 1L << (10 * ("KMG".indexOf(unit) + 1));
            if (bytes % u == 0) {
                return bytes / u + unit;
            }
        }
        return String.valueOf(bytes);
    }

    /**
     * Fails unless {@code text} (from {@code file}) states {@code fact} as {@code pattern} at least
     * once, and every such statement's first group, its blanks and line breaks made one space, is
     * {@code expected}, the code's value.
     */
    public static void assertStates(String file, String text, String fact, String pattern, Object expected) {
        Matcher m = Pattern.compile(pattern).matcher(text);
        int found = 0;
        while (m.find()) {
            found++;
            String said = m.group(1).replaceAll("\\s+", " ");
            assertEquals(String.valueOf(expected), said,
                    file + ": " + fact + " is " + said + " there, but " + expected + " in the code");
        }
        if (found == 0) {
            fail(file + " no longer states " + fact + " as /" + pattern + "/: if it was reworded, update the test");
        }
    }

    /** {@link #assertStates} on the whole of {@code file}. */
    public static void assertStates(String file, String fact, String pattern, Object expected) {
        assertStates(file, read(file), fact, pattern, expected);
    }

    /**
     * The value of a static constant that is not public, by name: the docs state several timings
     * that live as package-private constants of package-private classes, and reading them here
     * keeps them so. A renamed constant fails the test that reads it.
     */
    public static Object constant(String className, String field) {
        try {
            Field f = Class.forName(className).getDeclaredField(field);
            f.setAccessible(true);
            return f.get(null);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("cannot read " + className + "." + field + ": " + e, e);
        }
    }
}
