package net.roamproxy.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import net.roamproxy.protocol.PresharedKey;

/**
 * Reads {@code --secret-file}: the pre-shared key is the file's bytes, all of them, including
 * any trailing newline, so both hosts must use a copy of the same file. A missing, unreadable,
 * empty, too short (under {@value PresharedKey#MIN_KEY_SIZE} bytes) or implausibly large file
 * is refused with a {@link UsageException}; a file every user can read is accepted with a
 * warning. Stateless.
 */
final class SecretFile {
    /** A key file is a few dozen bytes; refuse to slurp something that is clearly not one. */
    static final int MAX_SIZE = 64 * 1024;
    private static final Logger log = LogManager.getLogger(SecretFile.class);

    private SecretFile() {
    }

    /**
     * @param path   the file
     * @param origin how errors name the setting, e.g. {@code --secret-file} or {@code FILE:LINE: secret-file}
     */
    static byte[] read(Path path, String origin) throws UsageException {
        String what = origin + " " + path + ": ";
        byte[] key;
        try {
            if (!Files.isRegularFile(path) && Files.exists(path)) {
                throw new UsageException(what + "not a regular file");
            }
            long size = Files.size(path);
            if (size > MAX_SIZE) {
                throw new UsageException(what + size + " bytes is too large for a key (at most " + MAX_SIZE + ")");
            }
            key = Files.readAllBytes(path);
        } catch (IOException e) {
            throw new UsageException(what + "cannot read it: " + ConfigFile.reason(e));
        }
        if (key.length == 0) {
            throw new UsageException(what + "the file is empty; make a key with: head -c 32 /dev/urandom > " + path);
        }
        if (key.length < PresharedKey.MIN_KEY_SIZE) {
            throw new UsageException(what + "a pre-shared key needs at least " + PresharedKey.MIN_KEY_SIZE
                    + " bytes, the file has " + key.length + "; make one with: head -c 32 /dev/urandom > " + path);
        }
        warnIfWorldReadable(path);
        return key;
    }

    private static void warnIfWorldReadable(Path path) {
        try {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(path);
            if (perms.contains(PosixFilePermission.OTHERS_READ)) {
                log.warn("secret file {} can be read by every user on this host; chmod o-r it", path);
            }
        } catch (IOException | UnsupportedOperationException e) {
            // not a POSIX file system: nothing to check
        }
    }
}
