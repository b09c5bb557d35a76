package net.roamproxy.status;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** Asks a running daemon for its status ({@code cproxy --status}, {@code sproxy --status}). Stateless. */
public final class StatusClient {
    /** How long a daemon has to answer, from connecting to the end of its report. */
    public static final Duration WITHIN = Duration.ofSeconds(5);
    /** A report is a few hundred bytes a session: this is far more than any daemon sends. */
    private static final int MAX_ANSWER = 64 << 20;

    private StatusClient() {
    }

    /** A daemon took the request but did not send its whole report in time: it is there, but stuck. */
    public static final class NoAnswer extends IOException {
        private static final long serialVersionUID = 1L;
        private final transient Duration within;

        NoAnswer(Path socket, Duration within) {
            super(socket + " did not answer within " + within.toSeconds() + " s");
            this.within = within;
        }

        /** How long it was given, for messages: "did not answer within 5 s". */
        public Duration within() {
            return within;
        }
    }

    /**
     * The report of the first daemon that answers at one of {@code sockets}, each given
     * {@link #WITHIN} to answer.
     *
     * @throws NoAnswer if a daemon took the request but did not answer in time, and none other did
     * @throws RuntimeDir.Refused if a socket's directory is one another user could have made or changed
     * @throws AccessDeniedException if a daemon may be there but this user may not ask it
     * @throws IOException naming the places looked at, if none answers
     */
    public static String ask(List<Path> sockets, boolean json) throws IOException {
        return ask(sockets, json, WITHIN);
    }

    static String ask(List<Path> sockets, boolean json, Duration within) throws IOException {
        Path denied = null;
        NoAnswer silent = null;
        String refused = null;
        for (Path p : sockets) {
            String unsafe = RuntimeDir.unsafe(p.toAbsolutePath().getParent());
            if (unsafe != null) {
                // Whoever made it may be listening there, and would read our request and write our screen.
                refused = refused == null ? unsafe : refused;
                continue;
            }
            if (!Files.exists(p)) {
                if (denied == null && Files.exists(p.getParent()) && !Files.isExecutable(p.getParent())) {
                    denied = p; // a directory we may not enter: the socket may well be there
                }
                continue;
            }
            try (TimedChannel c = TimedChannel.connect(p, within)) {
                c.writeAll(ByteBuffer.wrap((json ? "json\n" : "text\n").getBytes(StandardCharsets.US_ASCII)));
                return new String(c.readAll(MAX_ANSWER), StandardCharsets.UTF_8);
            } catch (SocketTimeoutException e) {
                silent = silent == null ? new NoAnswer(p, within) : silent;
            } catch (IOException e) {
                if (denied == null && !Files.isWritable(p)) {
                    denied = p;
                }
                // otherwise a stale socket of a daemon that died: try the next place
            }
        }
        if (silent != null) {
            throw silent;
        }
        if (refused != null) {
            throw new RuntimeDir.Refused(refused);
        }
        if (denied != null) {
            throw new AccessDeniedException(denied.toString(), null, "permission denied");
        }
        StringBuilder looked = new StringBuilder();
        sockets.forEach(p -> looked.append(looked.length() == 0 ? "" : ", ").append(p));
        throw new IOException("looked for " + looked);
    }

    /** Whether a daemon takes connections at {@code socket} (rather than it being left by one that died). */
    static boolean answers(Path socket) {
        try (TimedChannel c = TimedChannel.connect(socket, StatusServer.TIMEOUT)) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
