package net.roamproxy.status;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import net.roamproxy.trust.PrivateFiles;

/**
 * Where a daemon's status socket lives: systemd's {@code RuntimeDirectory=} when run as a unit
 * ({@code $RUNTIME_DIRECTORY}, /run/roamproxy), else {@code $XDG_RUNTIME_DIR/roamproxy}, else
 * {@code /tmp/roamproxy-USER}. One socket per daemon and port ({@code sproxy-6200.sock},
 * {@code cproxy-5200.sock}), so several cproxy instances on one host answer for their own
 * port. {@code --status} looks in each of those places, and in /run/roamproxy.
 *
 * <p>A directory in a place where other users may make files, as /tmp, may have been made by
 * one of them, to read the requests and write the answers there, or to have the daemon chmod
 * a file through a link. So there it must be this user's own directory, mode 0700, not a link
 * (see {@link #prepare}); otherwise the daemon makes no socket and {@code --status} does not
 * look there, both saying why.
 */
public final class RuntimeDir {
    static final Path SYSTEM = Path.of("/run/roamproxy");
    private static final Set<PosixFilePermission> PRIVATE = PosixFilePermissions.fromString("rwx------");

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
        List<String> refused = new ArrayList<>();
        Pattern socket = Pattern.compile(Pattern.quote(daemon) + "-(\\d{1,5})\\.sock");
        for (Path d : socketsToTry(daemon, 0)) {
            try {
                String problem = unsafe(d.getParent());
                if (problem != null) {
                    refused.add(problem);
                    continue;
                }
            } catch (IOException e) {
                continue; // cannot tell: not a place to look
            }
            try (Stream<Path> files = Files.list(d.getParent())) {
                files.map(f -> socket.matcher(f.getFileName().toString())).filter(Matcher::matches)
                        .forEach(m -> ports.add(Integer.parseInt(m.group(1))));
            } catch (AccessDeniedException e) {
                denied.add(d.getParent());
            } catch (IOException e) {
                // not there: no daemon made it
            }
        }
        return new Found(ports, denied, refused);
    }

    /** What {@link #portsOf} found: daemons' ports, directories this user may not read, and refusals. */
    public record Found(SortedSet<Integer> ports, List<Path> denied, List<String> refused) {
    }

    /** A status directory another user could have made or changed: the message names it and the fix. */
    public static final class Refused extends IOException {
        private static final long serialVersionUID = 1L;

        Refused(String message) {
            super(message);
        }
    }

    /**
     * Makes the directory for a daemon's socket if there is none. Where other users may make
     * files (a parent such as /tmp that the group or others may write), it is made with mkdir,
     * mode 0700, which never follows a link, and whatever is there then must pass
     * {@link #unsafe}. Elsewhere (systemd's /run/roamproxy, $XDG_RUNTIME_DIR) only its owner
     * could have made it.
     *
     * @throws Refused naming the directory and the fix
     */
    static void prepare(Path dir) throws IOException {
        if (shared(dir.getParent())) {
            try {
                Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(PRIVATE));
            } catch (FileAlreadyExistsException e) {
                // someone made it: ours, from an earlier start, or another user's; checked below
            }
            String problem = unsafe(dir);
            if (problem != null) {
                throw new Refused(problem);
            }
        } else if (!Files.isDirectory(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PRIVATE));
        }
    }

    /**
     * Why {@code dir} must not be used for status sockets, or {@code null}: it is not there, it
     * is not where other users may make files, or it is this user's own directory (not a link),
     * mode 0700 (lstat, as any link there may be another user's).
     */
    static String unsafe(Path dir) throws IOException {
        if (!shared(dir.getParent())) {
            return null;
        }
        PrivateFiles.Attributes a;
        try {
            a = PrivateFiles.attributes(dir, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return null;
        }
        String why;
        if (a == null) {
            return null; // no Unix owners and modes: nothing to check
        } else if (a.isSymbolicLink()) {
            why = "it is a symbolic link";
        } else if (!a.isDirectory()) {
            why = "it is not a directory";
        } else if (a.uid() != PrivateFiles.uid()) {
            why = "owned by " + a.owner();
        } else if (a.permissions() != 0700) {
            why = String.format("mode %04o", a.permissions());
        } else {
            return null;
        }
        return "refusing " + dir + ": " + why + " (it should be yours, mode 0700); remove it";
    }

    /** Whether users other than its owner may make files in {@code dir}, as in /tmp. */
    private static boolean shared(Path dir) throws IOException {
        try {
            Set<PosixFilePermission> p = Files.getPosixFilePermissions(dir);
            return p.contains(PosixFilePermission.GROUP_WRITE) || p.contains(PosixFilePermission.OTHERS_WRITE);
        } catch (NoSuchFileException | UnsupportedOperationException e) {
            return false;
        }
    }

    private static String name(String daemon, int port) {
        return daemon + "-" + port + ".sock";
    }
}
