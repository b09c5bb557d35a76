package net.roamproxy.trust;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFileAttributes;
import java.util.Map;

import com.sun.security.auth.module.UnixSystem;

/**
 * Checks the files that hold secrets as ssh checks a private key: owned by the user who runs
 * this (or by root, who can read them anyway), and of no use to anyone else. A key that other
 * users can read is no longer secret, and one they can write is no longer the key that was
 * made; either is refused rather than used, since using it would hide the problem. Stateless.
 */
public final class PrivateFiles {
    private static final int ROOT = 0;
    /** The Unix user and group of this process; {@code null} where there is no such thing. */
    private static final UnixSystem SELF = self();

    private PrivateFiles() {
    }

    /** The owner, group and mode bits of a file, as {@code stat} (or {@code lstat}) shows them. */
    public record Attributes(int uid, int gid, int mode, String owner, String group) {
        /** The permission bits only, e.g. {@code 0640}. */
        public int permissions() {
            return mode & 07777;
        }

        /** Whether the file is a directory, and not a link to one (with NOFOLLOW_LINKS). */
        public boolean isDirectory() {
            return (mode & 0170000) == 0040000;
        }

        /** Whether the file is a symbolic link (with NOFOLLOW_LINKS). */
        public boolean isSymbolicLink() {
            return (mode & 0170000) == 0120000;
        }

        /** Whether the file is a Unix domain socket (with NOFOLLOW_LINKS). */
        public boolean isSocket() {
            return (mode & 0170000) == 0140000;
        }
    }

    /**
     * The numbers and names of {@code file}'s owner and group and its mode.
     *
     * @return {@code null} if the file system has no Unix owners and modes (nothing to check)
     */
    public static Attributes attributes(Path file, LinkOption... options) throws IOException {
        if (SELF == null) {
            return null;
        }
        Map<String, Object> unix;
        PosixFileAttributes posix;
        try {
            // The "unix" view gives the numbers, which hold even for a user without a name;
            // the POSIX view gives the names, for messages.
            unix = Files.readAttributes(file, "unix:uid,gid,mode", options);
            posix = Files.readAttributes(file, PosixFileAttributes.class, options);
        } catch (UnsupportedOperationException | IllegalArgumentException e) {
            return null;
        }
        return new Attributes((Integer) unix.get("uid"), (Integer) unix.get("gid"), (Integer) unix.get("mode"),
                posix.owner().getName(), posix.group().getName());
    }

    /** This process's user id, or -1 where there is none. */
    public static long uid() {
        return SELF == null ? -1 : SELF.getUid();
    }

    /** The name of this process's user, for messages and hints. */
    public static String userName() {
        return System.getProperty("user.name");
    }

    /**
     * What is wrong with a private key file (host key, refusal key): a phrase that follows
     * {@code subject} and names the fix, or {@code null} if it is owned by this user (or root)
     * and no other user may read, write or run it (mode 0600 or 0400).
     */
    static String keyProblem(Path file, String subject) throws IOException {
        return problem(file, subject, false);
    }

    /**
     * What is wrong with a pre-shared key file, as {@link #keyProblem}, with one exception: a
     * key owned by root may be readable (never writable) by its group if that group is this
     * process's own. That is how a host shares one key with its daemons' user (root:roamproxy,
     * mode 0640): only root can have given the file to that group, so it was meant to be read
     * by it, and no member of any other group, nor any other user, may read it.
     */
    public static String sharedKeyProblem(Path file, String subject) throws IOException {
        return problem(file, subject, true);
    }

    private static String problem(Path file, String subject, boolean mayShareWithGroup) throws IOException {
        Attributes a = attributes(file);
        if (a == null) {
            return null;
        }
        String owner = ownerProblem(a, file, subject);
        if (owner != null) {
            return owner;
        }
        int others = a.permissions() & 077;
        if (!mayShareWithGroup || others != 040) {
            return modeProblem(others, file, subject); // private (null), or more than group-read
        }
        if (a.uid() != ROOT) {
            return subject + " can be read by its group " + a.group() + ": chmod 600 " + file + " (only a key owned "
                    + "by root may be shared with a group, mode 0640)";
        }
        if (a.gid() != SELF.getGid()) {
            return subject + " can be read by the group " + a.group() + ", which is not the group of " + userName()
                    + ": run this as the user the key is shared with, whose group is " + a.group() + " (as the "
                    + "daemons run), or make it private: chmod 600 " + file;
        }
        return null;
    }

    private static String ownerProblem(Attributes a, Path file, String subject) {
        if (a.uid() == SELF.getUid() || a.uid() == ROOT) {
            return null;
        }
        return subject + " is owned by " + a.owner() + ", not by " + userName() + " who runs this: chown " + userName()
                + " " + file;
    }

    /** A phrase for {@code bits}, the group's and others' permissions of a file no one else may use. */
    private static String modeProblem(int bits, Path file, String subject) {
        if ((bits & 022) != 0) {
            return subject + " can be changed by other users: chmod 600 " + file;
        }
        if ((bits & 044) != 0) {
            return subject + " can be read by other users: chmod 600 " + file;
        }
        if (bits != 0) {
            return subject + " has permissions for other users (mode " + String.format("%04o", bits) + "): chmod 600 "
                    + file;
        }
        return null;
    }

    private static UnixSystem self() {
        try {
            return new UnixSystem();
        } catch (RuntimeException | LinkageError e) {
            return null; // not Unix: there are no owners and modes to check
        }
    }
}
