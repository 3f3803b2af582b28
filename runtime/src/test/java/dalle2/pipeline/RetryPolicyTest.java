package dalle2.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class RetryPolicyTest {

    @Test
    void backoffDoublesFromTheInitialWaitUpToTheCap() {
        RetryPolicy p = new RetryPolicy(6, Duration.ofMillis(100), Duration.ofMillis(500));
        assertEquals(Duration.ofMillis(100), p.backoffAfter(1));
        assertEquals(Duration.ofMillis(200), p.backoffAfter(2));
        assertEquals(Duration.ofMillis(400), p.backoffAfter(3));
        assertEquals(Duration.ofMillis(500), p.backoffAfter(4));
        assertEquals(Duration.ofMillis(500), p.backoffAfter(5));
        assertEquals(Duration.ofMillis(1700), p.totalBackoff());
        assertTrue(p.mayRetryAfter(5));
        assertFalse(p.mayRetryAfter(6), "6 tries in all");
    }

    @Test
    void theDefaultRetriesFourTimesWithinSevenAndAHalfSeconds() {
        assertEquals(16, RetryPolicy.DEFAULT.attempts());
        assertEquals(Duration.ofMillis(165_500), RetryPolicy.DEFAULT.totalBackoff());
        assertTrue(RetryPolicy.DEFAULT.totalBackoff().compareTo(Duration.ofSeconds(60)) > 0,
                "the default rides out a 60 s storage outage");
        assertFalse(RetryPolicy.NONE.mayRetryAfter(1));
        assertEquals(Duration.ZERO, RetryPolicy.NONE.totalBackoff());
    }

    @Test
    void aPolicyThatCouldKeepAJobWaitingUnboundedlyIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new RetryPolicy(0, Duration.ZERO, Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> new RetryPolicy(21, Duration.ZERO, Duration.ZERO));
        assertThrows(IllegalArgumentException.class,
                () -> new RetryPolicy(3, Duration.ofSeconds(2), Duration.ofSeconds(1)));
        assertThrows(IllegalArgumentException.class,
                () -> new RetryPolicy(20, Duration.ofSeconds(10), Duration.ofSeconds(30)), "over five minutes of waits");
    }
}
