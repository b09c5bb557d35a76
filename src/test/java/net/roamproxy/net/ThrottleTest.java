package net.roamproxy.net;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.concurrent.atomic.AtomicLong;

import org.junit.jupiter.api.Test;

/** A storm is logged once when it starts, then at most once a period with its count. */
class ThrottleTest {

    @Test
    void theFirstOccurrenceIsReportedAtOnceThenOnePerPeriodWithTheCount() {
        AtomicLong now = new AtomicLong(42);
        Throttle t = new Throttle(1000, now::get);

        assertEquals(1, t.occurred(), "the first: at once");
        assertEquals(0, t.occurred());
        now.addAndGet(999);
        assertEquals(0, t.occurred(), "within the period: counted only");
        now.addAndGet(1);
        assertEquals(3, t.occurred(), "a period later: this one and the two counted");
        now.addAndGet(5000);
        assertEquals(1, t.occurred(), "after a quiet spell: at once again");
    }
}
