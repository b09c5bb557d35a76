package net.roamproxy.trust;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.security.GeneralSecurityException;

import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.Logger;

import net.roamproxy.wire.Handshake;
import net.roamproxy.wire.HostKey;

/**
 * sproxy's two long-term keys, each in its own file of mode 0600, made on first start (as
 * {@code ssh-keygen -A} makes host keys):
 * <ul>
 *   <li>the Ed25519 host key ({@code host_key}, PKCS#8 DER), which cproxy remembers; several
 *       instances behind one address share it;</li>
 *   <li>the refusal key ({@code refusal_key}, 32 random bytes), from which this instance alone
 *       can recompute each session's refusal token, even after a restart: never copied to
 *       another instance, so no other can refuse this instance's sessions.</li>
 * </ul>
 * A key file owned by another user (root aside), or that other users can read or write, is
 * refused, as ssh refuses such a host key: see {@link PrivateFiles}.
 *
 * @param hostKey    the host key
 * @param refusalKey the refusal key
 */
public record ServerKeys(HostKey hostKey, byte[] refusalKey) {
    private static final Logger log = LogManager.getLogger(ServerKeys.class);
    public static final String HOST_KEY_FILE = "host_key";
    public static final String REFUSAL_KEY_FILE = "refusal_key";
    private static final int REFUSAL_KEY_SIZE = 32;

    /** Reads both keys, making each that does not exist yet. */
    public static ServerKeys loadOrCreate(Path hostKeyFile, Path refusalKeyFile) throws IOException {
        HostKey host;
        try {
            host = readHostKey(hostKeyFile);
        } catch (NoSuchFileException e) {
            host = HostKey.generate();
            Files0600.write(hostKeyFile, host.pkcs8());
            log.info("made a new host key for sproxy in {}", hostKeyFile);
        }
        byte[] refusal;
        try {
            refusal = readPrivate(refusalKeyFile, "refusal key");
            if (refusal.length != REFUSAL_KEY_SIZE) {
                throw new KeyFileException("refusal key " + refusalKeyFile + " is " + refusal.length + " bytes, expected "
                        + REFUSAL_KEY_SIZE + ": move it away to have a new one made");
            }
        } catch (NoSuchFileException e) {
            refusal = Handshake.randomBytes(REFUSAL_KEY_SIZE);
            Files0600.write(refusalKeyFile, refusal);
        }
        return new ServerKeys(host, refusal);
    }

    /**
     * Reads the host key, never making one.
     *
     * @throws NoSuchFileException if there is none yet
     * @throws IOException         naming the file, if it is unreadable, not private, or no Ed25519 key
     */
    public static HostKey readHostKey(Path file) throws IOException {
        byte[] der = readPrivate(file, "host key");
        try {
            return HostKey.fromPkcs8(der);
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new KeyFileException("host key " + file + " holds no Ed25519 private key (it is damaged, or some "
                    + "other file): move it away to have a new one made");
        }
    }

    private static byte[] readPrivate(Path file, String what) throws IOException {
        if (Files.exists(file) && !Files.isRegularFile(file)) {
            throw new KeyFileException(what + " " + file + " is not a file");
        }
        String problem = PrivateFiles.keyProblem(file, what + " " + file);
        if (problem != null) {
            throw new KeyFileException(problem);
        }
        if (Files.size(file) > 4096) {
            throw new KeyFileException(what + " " + file + " is " + Files.size(file) + " bytes, too large for a key");
        }
        return Files.readAllBytes(file);
    }
}
