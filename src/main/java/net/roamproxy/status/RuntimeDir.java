package net.roamproxy.status;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Where a daemon's status socket lives: systemd's {@code RuntimeDirectory=} when run as a unit
 * ({@code $RUNTIME_DIRECTORY}, /run/roamproxy), else {@code $XDG_RUNTIME_DIR/roamproxy}, else
 * {@code /tmp/roamproxy-USER}. One socket per daemon and port ({@code sproxy-6200.sock},
 * {@code cproxy-5200.sock}), so several cproxy instances on one host answer for their own
 * port. {@code --status} looks in each of those places, and in /run/roamproxy.
 */
public final class RuntimeDir {
    static final Path SYSTEM = Path.of("/run/roamproxy");

    private RuntimeDir() {
    }

    /** The socket file of {@code daemon} on {@code port}, where this process makes it. */
    public static Path socketToBind(String daemon, int port) {
        return dirs(System.getenv(), System.getProperty("user.name")).get(0).resolve(name(daemon, port));
    }

    /** Where {@code --status} looks, in order: the first that exists wins. */
    public static List<Path> socketsToTry(String daemon, int port) {
        List<Path> out = new ArrayList<>();
        List<Path> dirs = new ArrayList<>(dirs(System.getenv(), System.getProperty("user.name")));
        dirs.add(1, SYSTEM);
        for (Path d : dirs) {
            Path p = d.resolve(name(daemon, port));
            if (!out.contains(p)) {
                out.add(p);
            }
        }
        return out;
    }

    static List<Path> dirs(Map<String, String> env, String user) {
        List<Path> out = new ArrayList<>();
        String systemd = env.get("RUNTIME_DIRECTORY");
        if (systemd != null && !systemd.isBlank()) {
            out.add(Path.of(systemd.split(":")[0]));
        }
        String xdg = env.get("XDG_RUNTIME_DIR");
        if (xdg != null && Path.of(xdg).isAbsolute() && Files.isDirectory(Path.of(xdg))) {
            out.add(Path.of(xdg, "roamproxy"));
        }
        out.add(Path.of("/tmp", "roamproxy-" + user));
        return out;
    }

    /**
     * The ports of every {@code daemon} with a status socket in one of the places
     * {@code --status} looks, in order: this user's daemons, or the system's under root; and
     * the places that exist but this user may not look into.
     */
    public static Found portsOf(String daemon) {
        SortedSet<Integer> ports = new TreeSet<>();
        List<Path> denied = new ArrayList<>();
        Pattern socket = Pattern.compile(Pattern.quote(daemon) + "-(\\d{1,5})\\.sock");
        for (Path d : socketsToTry(daemon, 0)) {
            try (Stream<Path> files = Files.list(d.getParent())) {
                files.map(f -> socket.matcher(f.getFileName().toString())).filter(Matcher::matches)
                        .forEach(m -> ports.add(Integer.parseInt(m.group(1))));
            } catch (AccessDeniedException e) {
                denied.add(d.getParent());
            } catch (IOException e) {
                // not there: no daemon made it
            }
        }
        return new Found(ports, denied);
    }

    /** What {@link #portsOf} found: daemons' ports, and directories this user may not read. */
    public record Found(SortedSet<Integer> ports, List<Path> denied) {
    }

    private static String name(String daemon, int port) {
        return daemon + "-" + port + ".sock";
    }
}
