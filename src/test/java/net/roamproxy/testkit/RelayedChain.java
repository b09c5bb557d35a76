package net.roamproxy.testkit;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;

import net.roamproxy.session.LinkSettings;

/**
 * The product on loopback with a {@link FaultyRelay} in the link, as {@link Chaos} sees it:
 * the link settings, the relay, and the deadlines derived from the one heartbeat interval.
 * The deadlines are generous upper bounds (for a loaded two-core machine), never delays.
 */
public interface RelayedChain {
    LinkSettings link();

    FaultyRelay relay();

    default Duration intervals(long n) {
        return link().heartbeatInterval().multipliedBy(n);
    }

    /** Upper bound for bytes to cross a healthy chain. */
    default Duration flowDeadline() {
        return intervals(50);
    }

    /**
     * Sends {@code text} on {@code app}, whose service echoes, and waits until it is back: what
     * {@code app} has received is then what it had before, followed by {@code text}, byte-exact.
     */
    default void echo(AppClient app, String text) throws InterruptedException, IOException {
        byte[] before = app.received();
        byte[] b = text.getBytes(StandardCharsets.US_ASCII);
        app.write(b);
        Await.until(flowDeadline(), () -> app + " echo of '" + text + "'",
                () -> app.receivedCount() >= before.length + b.length);
        byte[] expected = Arrays.copyOf(before, before.length + b.length);
        System.arraycopy(b, 0, expected, before.length, b.length);
        Streams.assertSameStream(app + " echo", expected, app.received());
    }

    /** Upper bound for either proxy to notice a silent link: twice the dead time, plus slack. */
    default Duration noticeDeadline() {
        return link().deadAfter().multipliedBy(2).plus(intervals(10));
    }

    /**
     * Upper bound for cproxy to be linked again once the path works: it may first have to
     * notice the loss, and may be waiting out the handshake timeout of an attempt that went
     * into the black hole.
     */
    default Duration relinkDeadline() {
        return noticeDeadline().plus(link().handshakeTimeout()).plus(intervals(20));
    }
}
