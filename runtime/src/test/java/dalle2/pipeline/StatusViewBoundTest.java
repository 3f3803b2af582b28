package dalle2.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle2.messages.GenerationRequest;
import dalle2.messages.JobStatus;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What a view full to its bound drops: finished jobs first, so that an accepted job keeps answering. */
class StatusViewBoundTest {

    private static final Instant T0 = Instant.parse("2026-12-07T12:00:00Z");

    @Test
    void aQueuedJobOutlivesAnyNumberOfNewerFinishedJobs() {
        StatusView view = new StatusView("127.0.0.1:1", 10, "bound-test");
        view.apply(queued("waiting", 0));
        for (int i = 1; i <= 50; i++) {
            JobStatus q = queued("done-" + i, i);
            view.apply(q);
            view.apply(q.succeeded(List.of("done-" + i + "/0.png"), T0.plusSeconds(100 + i)));
        }
        assertEquals(10, view.size());
        assertTrue(view.get("waiting").isPresent(), "the queued job is kept");
        assertEquals(1, view.queuePosition("waiting").orElseThrow());
        assertFalse(view.get("done-41").isPresent(), "the longest finished went first");
        assertTrue(view.get("done-42").isPresent());
        assertEquals(10, view.newest(null, s -> true, null, 100).size(), "the listing drops what the view drops");
    }

    @Test
    void aViewFullOfUnfinishedJobsDropsTheLeastRecentlyUpdated() {
        StatusView view = new StatusView("127.0.0.1:1", 10, "bound-test");
        for (int i = 0; i < 12; i++) {
            view.apply(queued("q-" + i, i));
        }
        assertEquals(10, view.size());
        assertFalse(view.get("q-0").isPresent());
        assertFalse(view.get("q-1").isPresent());
        assertEquals(1, view.queuePosition("q-2").orElseThrow(), "dropped jobs leave the queue too");
    }

    private static JobStatus queued(String id, int second) {
        return JobStatus.queued(GenerationRequest.of(id, "a photo of a sneaker", 1, 1L, null, null, null, null, null,
                T0.plusSeconds(second), null));
    }
}
