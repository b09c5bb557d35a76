package net.roamproxy.status;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Asks a running daemon for its status ({@code cproxy --status}, {@code sproxy --status}). Stateless. */
public final class StatusClient {
    private StatusClient() {
    }

    /**
     * The report of the first daemon that answers at one of {@code sockets}.
     *
     * @throws AccessDeniedException if a daemon may be there but this user may not ask it
     * @throws IOException naming the places looked at, if none answers
     */
    public static String ask(List<Path> sockets, boolean json) throws IOException {
        Path denied = null;
        for (Path p : sockets) {
            if (!Files.exists(p)) {
                if (denied == null && Files.exists(p.getParent()) && !Files.isExecutable(p.getParent())) {
                    denied = p; // a directory we may not enter: the socket may well be there
                }
                continue;
            }
            try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
                c.connect(UnixDomainSocketAddress.of(p));
                c.write(ByteBuffer.wrap((json ? "json\n" : "text\n").getBytes(StandardCharsets.US_ASCII)));
                return new String(Channels.newInputStream(c).readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                if (denied == null && !Files.isWritable(p)) {
                    denied = p;
                }
                // otherwise a stale socket of a daemon that died: try the next place
            }
        }
        if (denied != null) {
            throw new AccessDeniedException(denied.toString(), null, "permission denied");
        }
        StringBuilder looked = new StringBuilder();
        sockets.forEach(p -> looked.append(looked.length() == 0 ? "" : ", ").append(p));
        throw new IOException("looked for " + looked);
    }

    static boolean answers(Path socket) {
        try (SocketChannel c = SocketChannel.open(StandardProtocolFamily.UNIX)) {
            c.connect(UnixDomainSocketAddress.of(socket));
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
