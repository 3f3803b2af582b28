package dalle2.pipeline;

import dalle2.messages.JobStatus;
import java.time.Instant;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.NavigableSet;
import java.util.TreeSet;

/**
 * The jobs of a {@link StatusView} in listing order, everyone's and each owner's, so that a page of {@code GET
 * /v1/generations} costs O(log n) plus the jobs it reads instead of sorting the whole view: newest first by
 * submission time (the last update's for a job without one), then by job id, descending.
 *
 * <p>Before this index a page copied every job of the view and sorted them, parsing two timestamps per comparison:
 * with 100,000 jobs in the view, 64 clients got no page at all within 10 s (BENCHMARKS.md, "Gateway"). Not
 * thread-safe: the view guards it with its lock.
 */
final class JobListing {

    /**
     * A job's place; the owner is kept to find the job's per-owner set again when it leaves, and the timestamp's
     * text to see that an update leaves the place as it was without parsing it again.
     */
    private record Entry(Instant at, String jobId, String owner, String atText) {
        static Entry of(JobStatus s) {
            String at = placeText(s);
            return new Entry(Instant.parse(at), s.jobId(), ownerOf(s), at);
        }

        boolean placeOf(JobStatus s) {
            return atText.equals(placeText(s)) && java.util.Objects.equals(owner, ownerOf(s));
        }

        private static String placeText(JobStatus s) {
            return s.timestamps().submittedAt() != null ? s.timestamps().submittedAt() : s.timestamps().updatedAt();
        }

        private static String ownerOf(JobStatus s) {
            return s.request() == null ? null : s.request().owner();
        }
    }

    private static final Comparator<Entry> NEWEST_FIRST =
            Comparator.comparing(Entry::at).thenComparing(Entry::jobId).reversed();

    private static final NavigableSet<Entry> NONE = java.util.Collections.emptyNavigableSet();

    private final NavigableSet<Entry> everyone = new TreeSet<>(NEWEST_FIRST);
    private final Map<String, NavigableSet<Entry>> byOwner = new HashMap<>();
    private final Map<String, Entry> entries = new HashMap<>();

    /**
     * Lists the job at its status's place, replacing where it was listed before; an update that keeps the place
     * (every stage of a job with a submission time) changes nothing.
     */
    void put(JobStatus s) {
        Entry listed = entries.get(s.jobId());
        if (listed != null && listed.placeOf(s)) {
            return;
        }
        remove(s.jobId());
        Entry entry = Entry.of(s);
        entries.put(s.jobId(), entry);
        everyone.add(entry);
        if (entry.owner() != null) {
            byOwner.computeIfAbsent(entry.owner(), o -> new TreeSet<>(NEWEST_FIRST)).add(entry);
        }
    }

    void remove(String jobId) {
        Entry entry = entries.remove(jobId);
        if (entry == null) {
            return;
        }
        everyone.remove(entry);
        if (entry.owner() != null) {
            NavigableSet<Entry> own = byOwner.get(entry.owner());
            own.remove(entry);
            if (own.isEmpty()) {
                byOwner.remove(entry.owner());
            }
        }
    }

    /**
     * Job ids newest first, of {@code owner}'s jobs (everyone's when null), those listed after {@code after} only
     * when it is not null (a job of an earlier page, at the place its status gives it).
     */
    Iterator<String> newestFirst(String owner, JobStatus after) {
        NavigableSet<Entry> set = owner == null ? everyone : byOwner.getOrDefault(owner, NONE);
        NavigableSet<Entry> from = after == null ? set : set.tailSet(Entry.of(after), false);
        return from.stream().map(Entry::jobId).iterator();
    }
}
