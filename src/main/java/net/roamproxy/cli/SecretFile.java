package net.roamproxy.cli;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

import net.roamproxy.trust.PrivateFiles;
import net.roamproxy.wire.Handshake;

/**
 * The pre-shared key of {@code --secret-file}: the file's bytes, all of them, so both hosts
 * must use a copy of the same file. It is mixed into every new session's keys, so it must be
 * random and long enough that no one can guess it: {@code sproxy --new-secret FILE} writes
 * {@value #MIN_SIZE} random bytes. A missing, unreadable, too short or implausibly large file
 * is refused with a {@link UsageException}, whose hint never names a file that exists. So is a
 * file owned by another user (root aside) or open to other users, as ssh refuses a private key,
 * except the key a host shares with its daemons' group (root:roamproxy, mode 0640): see
 * {@link PrivateFiles#sharedKeyProblem}. Stateless.
 */
final class SecretFile {
    /** Fewer bytes than a 256-bit key are refused. */
    static final int MIN_SIZE = 32;
    /** A key file is a few dozen bytes; refuse to slurp something that is clearly not one. */
    static final int MAX_SIZE = 64 * 1024;

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
            // Before reading: a key others can read is no secret, one they can write not ours.
            String problem = PrivateFiles.sharedKeyProblem(path, "the file");
            if (problem != null) {
                throw new UsageException(what + problem);
            }
            long size = Files.size(path);
            if (size > MAX_SIZE) {
                throw new UsageException(what + size + " bytes is too large for a key (at most " + MAX_SIZE + ")");
            }
            key = Files.readAllBytes(path);
        } catch (IOException e) {
            throw new UsageException(what + "cannot read it: " + ConfigFile.reason(e) + "; make a key with: sproxy "
                    + "--new-secret " + (Files.exists(path) ? unusedBeside(path) : path));
        }
        if (key.length < MIN_SIZE) {
            throw new UsageException(what + "a pre-shared key needs at least " + MIN_SIZE + " random bytes, the file "
                    + "has " + key.length + "; make one with: sproxy --new-secret " + unusedBeside(path));
        }
        return key;
    }

    /** Writes {@value #MIN_SIZE} fresh random bytes to {@code path}, mode 0600; never over an existing file. */
    static void create(Path path) throws UsageException {
        try {
            Files.write(Files.createFile(path, PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rw-------"))), Handshake.randomBytes(MIN_SIZE));
        } catch (FileAlreadyExistsException e) {
            throw new UsageException("--new-secret " + path + ": the file exists; it is left as it is (choose another "
                    + "name, e.g. " + unusedBeside(path) + ")");
        } catch (IOException e) {
            throw new UsageException("--new-secret " + path + ": cannot write it: " + ConfigFile.reason(e));
        }
    }

    /** A name beside {@code path} that no file has, for hints: a hint must never overwrite a file. */
    private static Path unusedBeside(Path path) {
        Path p = path.resolveSibling(path.getFileName() + ".new");
        for (int i = 2; Files.exists(p); i++) {
            p = path.resolveSibling(path.getFileName() + ".new" + i);
        }
        return p;
    }
}
