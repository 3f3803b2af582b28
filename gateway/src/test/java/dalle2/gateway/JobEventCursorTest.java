package dalle2.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle2.messages.GenerationRequest;
import dalle2.messages.JobState;
import dalle2.messages.JobStatus;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Which events a status owes a client, from what it has seen: the rules of the event stream alone. */
class JobEventCursorTest {

    private static final Instant T = Instant.parse("2026-12-02T06:00:00Z");

    private static JobStatus queued(int size) {
        return JobStatus.queued(GenerationRequest.of("j", "p", 1, 1L, 4, 4, 0.0, 1.0, 1.0, null, size, T, null));
    }

    private static JobStatus prior(JobStatus q, int step) {
        return q.with(JobState.PRIOR, q.timestamps().withPriorStarted(T), new JobStatus.Progress("prior", step, 4));
    }

    private static List<String> ids(List<JobEventCursor.Event> events) {
        return events.stream().map(JobEventCursor.Event::id).toList();
    }

    @Test
    void aJobThatFailedDuringThePriorPassedQueuedAndPriorOnlyAndACancelledQueuedJobPassedQueued() {
        JobStatus failed = prior(queued(32), 1).failed("model_error", "boom", T);
        assertEquals(List.of(JobState.QUEUED, JobState.PRIOR, JobState.FAILED), JobEventCursor.passedStates(failed));
        assertEquals(List.of(JobState.QUEUED, JobState.CANCELLED),
                JobEventCursor.passedStates(queued(32).cancelled(T)));
        JobStatus big = queued(256).succeeded(List.of("j/0.png"), T);
        assertEquals(List.of(JobState.QUEUED, JobState.PRIOR, JobState.DECODING, JobState.UPSAMPLING,
                JobState.SUCCEEDED), JobEventCursor.passedStates(big), "a size above 32 was upsampled");
    }

    @Test
    void aFreshClientGetsTheCurrentStateThenChangesAndStepsEachOnce() {
        JobEventCursor c = JobEventCursor.fresh();
        JobStatus q = queued(32);
        assertEquals(List.of("queued:q3"), ids(c.next(q, 3)));
        assertEquals(List.of(), ids(c.next(q, 3)), "nothing new, nothing sent");
        assertEquals(List.of("queued:q2"), ids(c.next(q, 2)), "a new place in the queue");
        assertEquals(List.of("prior:prior.0"), ids(c.next(prior(q, 0), null)));
        assertEquals("progress", c.next(prior(q, 2), null).get(0).name());
        List<JobEventCursor.Event> end = c.next(prior(q, 4).failed("model_error", "boom", T), null);
        assertEquals(List.of("failed"), ids(end));
        assertEquals("boom", ((JobEventCursor.JobEvent) end.get(0).data()).error().message());
        assertTrue(c.finished());
        assertEquals(List.of(), c.next(queued(32).cancelled(T), null), "nothing after the end");
    }

    @Test
    void aResumedClientGetsTheStatesItMissedInOrderAndNotTheStepItSaw() {
        JobStatus decoding = prior(queued(32), 4).with(JobState.DECODING,
                queued(32).timestamps().withPriorStarted(T).withDecoderStarted(T), new JobStatus.Progress("decoder", 1, 4));
        assertEquals(List.of("prior", "decoding:decoder.1"), ids(JobEventCursor.after("queued:q1").next(decoding, null)));
        assertEquals(List.of(), ids(JobEventCursor.after("decoding:decoder.1").next(decoding, null)));
        assertEquals(List.of("decoding:decoder.1"), ids(JobEventCursor.after("decoding:decoder.0").next(decoding, null)));
        assertTrue(JobEventCursor.after("cancelled").finished());
        assertTrue(JobEventCursor.after(" ").next(decoding, null).size() == 1, "a blank id is a fresh client");
        assertThrows(IllegalArgumentException.class, () -> JobEventCursor.after("yesterday"));
    }
}
