package net.roamproxy.testkit;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A fragment of the docs that the code writes (hex dumps, the state table, the man pages'
 * options): checked against its committed copy under {@code src/docs/generated/}, so that docs
 * and code cannot drift. The fresh copy is written to {@code target/generated-docs/} for a look;
 * {@code -Droamproxy.updateDocs=true} overwrites the committed one.
 */
public final class GeneratedDoc {
    private GeneratedDoc() {
    }

    /**
     * Fails unless {@code src/docs/generated/name} holds exactly {@code text}.
     *
     * @param outOfDate what the failure says is out of date, e.g. "with the wire format"
     * @param refresh   how to refresh it, for the failure message
     */
    public static void assertCommitted(String name, String text, String outOfDate, String refresh) throws IOException {
        Path generated = Path.of("target", "generated-docs", name);
        Files.createDirectories(generated.getParent());
        Files.writeString(generated, text, StandardCharsets.UTF_8);
        Path committed = Path.of("src", "docs", "generated", name);
        if (Boolean.getBoolean("roamproxy.updateDocs")) {
            Files.createDirectories(committed.getParent());
            Files.writeString(committed, text, StandardCharsets.UTF_8);
        }
        String old = Files.exists(committed) ? Files.readString(committed, StandardCharsets.UTF_8) : "";
        assertEquals(old, text, committed + " is out of date " + outOfDate + "; " + refresh);
    }
}
