package net.roamproxy.session;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.time.Duration;

import org.junit.jupiter.api.Test;

/** Durations as operators read them in log lines: in the unit they configured, never "0". */
class LinkSettingsTest {

    @Test
    void durationsReadInTheUnitAnOperatorWouldWriteAndNeverRoundToZero() {
        assertEquals("15 min", LinkSettings.human(Duration.ofMinutes(15)));
        assertEquals("30 s", LinkSettings.human(Duration.ofSeconds(30)));
        assertEquals("90 s", LinkSettings.human(Duration.ofSeconds(90)));
        assertEquals("1.5 s", LinkSettings.human(Duration.ofMillis(1500)));
        assertEquals("0.3 s", LinkSettings.human(Duration.ofMillis(300)));
        assertEquals("250 ms", LinkSettings.human(Duration.ofMillis(250)));
    }
}
