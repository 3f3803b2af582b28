package dalle2.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle2.messages.TrainingRequest;
import dalle2.messages.TrainingState;
import dalle2.messages.TrainingStatus;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What the view keeps when statuses arrive (applied directly: no reader runs). */
class TrainingStatusViewTest {

    private final TrainingStatusView view = new TrainingStatusView("127.0.0.1:1", 10, "test");

    private static TrainingRequest request(String submittedAt, long steps) {
        return new TrainingRequest(null, "idem-1", "clip", "fashion-mnist", steps, Map.of(), null, submittedAt, null);
    }

    @Test
    void theFirstQueuedClaimOfAnIdWinsAndLaterOnesAreRefused() {
        TrainingStatus first = TrainingStatus.queued(request("2026-12-02T10:00:00Z", 10));
        TrainingStatus racing = TrainingStatus.queued(request("2026-12-02T10:00:00.001Z", 20));
        assertTrue(view.apply(first));
        assertFalse(view.apply(racing), "another submission with the same key raced and lost");
        assertEquals(10, view.get("idem-1").orElseThrow().request().steps());
        assertTrue(view.apply(first), "the winner's own status again is no regression");
        TrainingStatus running = first.running("w", 0, Instant.now());
        assertTrue(view.apply(running));
        assertFalse(view.apply(racing), "nor can a late queued move it back");
        assertEquals(TrainingState.RUNNING, view.get("idem-1").orElseThrow().state());
    }

    @Test
    void nothingLeavesACancelledTraining() {
        TrainingStatus queued = TrainingStatus.queued(request("2026-12-02T10:00:00Z", 10));
        TrainingStatus cancelled = queued.cancelled(Instant.now());
        assertTrue(view.apply(queued));
        assertTrue(view.apply(cancelled));
        assertFalse(view.apply(queued.running("w", 0, Instant.now()).progress(3, null, Instant.now())),
                "a worker's progress written after the cancel is not taken");
        assertTrue(view.apply(cancelled.cancelled(Instant.now())), "the worker's own cancelled, its last word");
        assertEquals(TrainingState.CANCELLED, view.get("idem-1").orElseThrow().state());
    }
}
