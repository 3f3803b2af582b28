package dalle2.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle2.messages.GenerationRequest;
import dalle2.messages.JobState;
import dalle2.messages.JobStatus;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Pages of {@link StatusView#newest} against a sort of everything the view holds, the way pages were made before. */
class StatusViewListingTest {

    private static final Instant T0 = Instant.parse("2026-12-07T12:00:00Z");
    private static final List<String> OWNERS = List.of("alice", "bob", "carol");

    /** The listing order by its definition: submission time (the last update's without one), id; newest first. */
    private static final Comparator<JobStatus> NEWEST_FIRST = Comparator
            .comparing((JobStatus s) -> Instant.parse(s.timestamps().submittedAt() != null
                    ? s.timestamps().submittedAt() : s.timestamps().updatedAt()))
            .thenComparing(JobStatus::jobId).reversed();

    @Test
    void pagesFollowTheListingOrderPerOwnerThroughUpdatesAndEvictions() {
        Random random = new Random(11);
        // not started: statuses are applied directly, as the gateway applies its own writes
        StatusView view = new StatusView("127.0.0.1:1", 400, "listing-test");
        Map<String, JobStatus> applied = new TreeMap<>();
        for (int i = 0; i < 1_000; i++) {
            String id = String.format("job-%04d", random.nextInt(700));
            JobStatus previous = applied.get(id);
            JobStatus next;
            if (previous == null) {
                next = fresh(id, random);
            } else if (previous.state().terminal()) {
                continue;
            } else {
                Instant at = T0.plusSeconds(1_000 + i);
                next = random.nextBoolean()
                        ? previous.with(JobState.PRIOR, previous.timestamps().withPriorStarted(at), null)
                        : previous.succeeded(List.of(id + "/0.png"), at);
            }
            assertTrue(view.apply(next));
            applied.put(id, next);
        }
        List<JobStatus> held = applied.values().stream().filter(s -> view.get(s.jobId()).isPresent()).toList();
        assertEquals(400, held.size(), "the view keeps its bound");
        for (String owner : new String[] {null, "alice", "bob", "carol"}) {
            List<String> expected = held.stream()
                    .filter(s -> owner == null || s.request() != null && owner.equals(s.request().owner()))
                    .sorted(NEWEST_FIRST).map(JobStatus::jobId).toList();
            assertEquals(expected, pagedIds(view, owner, 7), "owner " + owner);
        }
    }

    @Test
    void theIncludeFilterSkipsJobsWithoutEndingThePage() {
        StatusView view = new StatusView("127.0.0.1:1", 100, "listing-test");
        for (int i = 0; i < 30; i++) {
            view.apply(JobStatus.queued(request(String.format("job-%02d", i), "alice", T0.plusSeconds(i))));
        }
        List<String> odd = view.newest("alice", s -> Integer.parseInt(s.jobId().substring(4)) % 2 == 1, null, 5)
                .stream().map(JobStatus::jobId).toList();
        assertEquals(List.of("job-29", "job-27", "job-25", "job-23", "job-21"), odd);
    }

    /** A job without a submission time is listed by its last update, so each update moves it. */
    @Test
    void aJobWithoutASubmissionTimeMovesWithItsLastUpdate() {
        StatusView view = new StatusView("127.0.0.1:1", 100, "listing-test");
        view.apply(JobStatus.queued(request("job-a", "alice", T0.plusSeconds(10))));
        JobStatus untimed = new JobStatus(null, "job-b", JobState.PRIOR, null,
                new JobStatus.Timestamps(null, null, null, null, null, T0.plusSeconds(5).toString()), Map.of(), null,
                List.of(), null);
        view.apply(untimed);
        assertEquals(List.of("job-a", "job-b"), pagedIds(view, null, 10));
        view.apply(untimed.with(JobState.DECODING,
                new JobStatus.Timestamps(null, null, null, null, null, T0.plusSeconds(20).toString()), null));
        assertEquals(List.of("job-b", "job-a"), pagedIds(view, null, 10));
    }

    private static List<String> pagedIds(StatusView view, String owner, int pageSize) {
        List<String> ids = new ArrayList<>();
        JobStatus after = null;
        while (true) {
            List<JobStatus> page = view.newest(owner, s -> true, after, pageSize);
            ids.addAll(page.stream().map(JobStatus::jobId).collect(Collectors.toList()));
            if (page.size() < pageSize) {
                return ids;
            }
            after = page.get(page.size() - 1);
        }
    }

    /** A queued job of a random owner, some submitted in the same second (the id breaks the tie), or none. */
    private static JobStatus fresh(String id, Random random) {
        if (random.nextInt(10) == 0) {
            return JobStatus.failedUnreadable(id, "unreadable_request", "test");
        }
        Instant submitted = T0.plusSeconds(random.nextInt(300));
        return JobStatus.queued(request(id, OWNERS.get(random.nextInt(OWNERS.size())), submitted));
    }

    private static GenerationRequest request(String id, String owner, Instant submitted) {
        return GenerationRequest.of(id, "a photo of a sneaker", 1, 1L, null, null, null, null, null, submitted, null)
                .withOwner(owner);
    }
}
