package net.roamproxy.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.Test;

import net.roamproxy.session.LinkSettings;

/** cproxy's listening sockets: one for the main port and one for every forward, each for its service. */
class LocalListenersTest {
    private static final InetAddress LOOPBACK = InetAddress.getLoopbackAddress();

    private static ClientConfig config(int port, List<ClientConfig.Forward> forwards) {
        return new ClientConfig(LOOPBACK, port, "127.0.0.1", 6200, LinkSettings.defaults(), null, false, null,
                forwards);
    }

    @Test
    void everyForwardHasItsOwnPortForItsServiceAndCloseClosesThemAll() throws IOException {
        LocalListeners l = new LocalListeners();
        l.open(config(0, List.of(new ClientConfig.Forward(LOOPBACK, 0, "mail"),
                new ClientConfig.Forward(LOOPBACK, 0, "news"))));
        try {
            assertEquals(Set.of("", "mail", "news"), Set.copyOf(l.all().values()));
            assertNotEquals(l.port(), l.port("mail"));
            assertNotEquals(l.port("mail"), l.port("news"));
            assertEquals(l.port(), l.port(""));
            l.all().forEach((ss, service) -> assertEquals(l.port(service), ss.getLocalPort(),
                    "an IPv6 loopback twin listens on its IPv4 listener's port"));
            assertFalse(l.all().keySet().stream().anyMatch(ServerSocket::isClosed));
        } finally {
            l.close();
        }
        assertTrue(l.all().keySet().stream().allMatch(ServerSocket::isClosed));
    }

    @Test
    void aPortThatCannotBeBoundClosesThoseAlreadyBound() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 1, LOOPBACK)) {
            LocalListeners l = new LocalListeners();
            assertThrows(IOException.class,
                    () -> l.open(config(0, List.of(new ClientConfig.Forward(LOOPBACK, taken.getLocalPort(), "mail")))));
            assertFalse(l.all().isEmpty(), "the main port was bound first");
            assertTrue(l.all().keySet().stream().allMatch(ServerSocket::isClosed));
        }
    }
}
