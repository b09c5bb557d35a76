package net.roamproxy.client;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.SocketException;
import java.net.SocketTimeoutException;

import org.junit.jupiter.api.Test;

/**
 * Which failed dials mean "this host has no route to sproxy at all": after those cproxy waits
 * for the address watch instead of dialing again every 250 ms.
 */
class DialerUnreachableTest {

    @Test
    void noRouteAndAnUnreachableNetworkAreUnreachableAlsoWhenTheRaceWrapsThem() {
        assertTrue(Dialer.unreachable(new NoRouteToHostException("No route to host")));
        assertTrue(Dialer.unreachable(new SocketException("Network is unreachable")));
        assertTrue(Dialer.unreachable(new IOException("192.0.2.1:6200: Network is unreachable",
                new SocketException("Network is unreachable"))));
    }

    @Test
    void aRefusedATimedOutOrAResetDialIsNotUnreachable() {
        assertFalse(Dialer.unreachable(new ConnectException("Connection refused")));
        assertFalse(Dialer.unreachable(new SocketTimeoutException("no answer from 192.0.2.1:6200 in 3000 ms")));
        assertFalse(Dialer.unreachable(new SocketException("Connection reset")));
        assertFalse(Dialer.unreachable(new IOException("192.0.2.1:6200: Connection refused",
                new ConnectException("Connection refused"))));
    }
}
