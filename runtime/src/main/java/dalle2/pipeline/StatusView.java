package dalle2.pipeline;

import dalle2.kafka.KafkaClients;
import dalle2.kafka.TopicReading;
import dalle2.kafka.Topics;
import dalle2.messages.GenerationRequest;
import dalle2.messages.JobState;
import dalle2.messages.JobStatus;
import dalle2.messages.Messages;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A bounded in-memory view of the compacted status topic: every gateway and worker reads the whole topic (no
 * consumer group, from the beginning), so any instance answers for any job and workers see cancellations.
 *
 * <p>Updates are applied monotonically ({@link JobState#mayFollow}): a redelivered message that repeats an
 * earlier stage never moves a job back, and nothing leaves a terminal state. At most {@code maxJobs} jobs are
 * kept: past that, finished jobs go first, the longest finished first, so that a job still queued or running
 * keeps answering while the view turns over; only a view full of unfinished jobs drops the least recently
 * updated of them.
 *
 * <p>A view made with {@link #withQueuedRequests} (the gateway's) also follows the requests topic from the prior
 * pool's committed offsets on: a request there that no status names yet — a job produced straight to Kafka and
 * not taken by a prior worker — is answered as {@code queued}, with its parameters. Any status read from the
 * status topic replaces that synthesized one. Requests below the committed offsets are not read: the prior pool
 * is done with them, so their jobs have a status of their own.
 */
public final class StatusView implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(StatusView.class);
    public static final int DEFAULT_MAX_JOBS = 100_000;

    /** Ordered by instant, not by text: "…00Z" and "…00.500Z" sort wrongly as strings. */
    private record QueueEntry(Instant submittedAt, String jobId) {
        static QueueEntry of(JobStatus s) {
            return new QueueEntry(Instant.parse(s.timestamps().submittedAt()), s.jobId());
        }
    }

    private static final Comparator<QueueEntry> QUEUE_ORDER =
            Comparator.comparing(QueueEntry::submittedAt).thenComparing(QueueEntry::jobId);

    private final String bootstrap;
    private final int maxJobs;
    private final String clientId;
    private final boolean followRequests;
    private final Object lock = new Object();
    /** Statuses read from the status topic (or written by this process), least recently updated first. */
    private final Map<String, JobStatus> jobs;
    /** The jobs of {@link #jobs} in a terminal state, the longest finished first: the first to go past the bound. */
    private final java.util.LinkedHashSet<String> finished = new java.util.LinkedHashSet<>();
    /** Synthesized {@code queued} statuses of requests no status names yet; never holds a job of {@link #jobs}. */
    private final Map<String, JobStatus> requested;
    /** The queued jobs in queue order, ranked in O(log n) for every poll of a queued job; guarded by the lock. */
    private final RankedSet<QueueEntry> queued = new RankedSet<>(QUEUE_ORDER);
    /** Each queued job's entry in {@link #queued}, so that polls and updates never parse its timestamp again. */
    private final Map<String, QueueEntry> queueEntries = new HashMap<>();
    /** Every job of {@link #jobs} and {@link #requested} in listing order; guarded by the lock. */
    private final JobListing listing = new JobListing();
    private final CountDownLatch caughtUp = new CountDownLatch(1);
    private volatile boolean running = true;
    private volatile KafkaConsumer<String, byte[]> consumer;
    private volatile long applied;
    /** True while the reader is consuming; false while it restarts after a failure. */
    private volatile boolean consuming;
    private final java.util.concurrent.atomic.AtomicLong restarts = new java.util.concurrent.atomic.AtomicLong();
    /** {@link #sync()} calls not yet given their end offsets (taken by the reader thread). */
    private final java.util.concurrent.ConcurrentLinkedQueue<CompletableFuture<Void>> syncRequests =
            new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final Thread thread;
    private final java.util.List<java.util.function.Consumer<JobStatus>> listeners =
            new java.util.concurrent.CopyOnWriteArrayList<>();

    public StatusView(String bootstrap, int maxJobs, String role) {
        this(bootstrap, maxJobs, role, false);
    }

    private StatusView(String bootstrap, int maxJobs, String role, boolean followRequests) {
        this.bootstrap = bootstrap;
        this.maxJobs = maxJobs;
        this.followRequests = followRequests;
        this.clientId = KafkaClients.clientId(role + "-status-view");
        this.jobs = new LinkedHashMap<>(1024, 0.75f, false);
        this.requested = boundedMap();
        this.thread = new Thread(this::run, clientId);
        this.thread.setDaemon(true);
    }

    /**
     * A view that also answers {@code queued} for requests on the requests topic that have no status yet (jobs
     * submitted straight to Kafka), with their queue position. What a gateway reads.
     */
    public static StatusView withQueuedRequests(String bootstrap, int maxJobs, String role) {
        return new StatusView(bootstrap, maxJobs, role, true);
    }

    private LinkedHashMap<String, JobStatus> boundedMap() {
        return new LinkedHashMap<>(1024, 0.75f, false) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, JobStatus> eldest) {
                if (size() > maxJobs) {
                    forget(eldest.getValue());
                    return true;
                }
                return false;
            }
        };
    }

    public StatusView start() {
        thread.start();
        return this;
    }

    /**
     * Calls {@code listener} with every status the view takes from now on, right after it is taken (on the
     * reader's thread, or on the thread of a local {@link #apply}): the moment a lookup first answers it. Keep it
     * short; what it throws is logged and ignored.
     */
    public void onApplied(java.util.function.Consumer<JobStatus> listener) {
        listeners.add(listener);
    }

    public void removeListener(java.util.function.Consumer<JobStatus> listener) {
        listeners.remove(listener);
    }

    /** Waits until the view has read its topics up to where they ended when the view started. */
    public boolean awaitCaughtUp(Duration timeout) throws InterruptedException {
        return caughtUp.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    public boolean isCaughtUp() {
        return caughtUp.getCount() == 0;
    }

    /**
     * Whether what the view answers is current: it caught up once and its reader is consuming now. While the
     * reader restarts after a failure the view keeps its jobs but is not healthy: they may be stale.
     */
    public boolean healthy() {
        return isCaughtUp() && consuming && thread.isAlive();
    }

    /**
     * Makes the reader fail at its next poll, as a broken consumer would: for fault tests of what depends on the
     * view (readiness, answers while it restarts). Does nothing else.
     */
    public void injectReaderFailure(RuntimeException failure) {
        injectedFailure = failure;
    }

    private volatile RuntimeException injectedFailure;

    /** Times the reader failed and was restarted. */
    public long restarts() {
        return restarts.get();
    }

    /**
     * Completes once the view has read every partition it follows up to where it ended when this was called: a
     * status or request that was acknowledged before the call is then visible in {@link #get}. Calls made
     * together share one end-offsets lookup. Completes exceptionally when the view closes first.
     */
    public CompletableFuture<Void> sync() {
        CompletableFuture<Void> f = new CompletableFuture<>();
        if (!running) {
            f.completeExceptionally(new IllegalStateException("status view closed"));
            return f;
        }
        syncRequests.add(f);
        return f;
    }

    /** The job's status; for a view that follows requests, a synthesized {@code queued} one when no status exists. */
    public Optional<JobStatus> get(String jobId) {
        synchronized (lock) {
            JobStatus s = jobs.get(jobId);
            return Optional.ofNullable(s != null ? s : requested.get(jobId));
        }
    }

    /**
     * The jobs {@code include} accepts, newest first (by submission time, the last update's for a job without one,
     * then by id), those after {@code after} (a job of an earlier page) only, at most {@code limit}: O(log n) plus
     * the jobs read, from an index kept per owner ({@link JobListing}).
     *
     * @param owner only this owner's jobs; null for everyone's
     */
    public List<JobStatus> newest(String owner, java.util.function.Predicate<JobStatus> include, JobStatus after,
                                  int limit) {
        List<JobStatus> page = new ArrayList<>(Math.min(limit, 1024));
        synchronized (lock) {
            for (java.util.Iterator<String> ids = listing.newestFirst(owner, after);
                 ids.hasNext() && page.size() < limit; ) {
                String id = ids.next();
                JobStatus s = jobs.get(id);
                if (s == null) {
                    s = requested.get(id);
                }
                if (s != null && include.test(s)) {
                    page.add(s);
                }
            }
        }
        return page;
    }

    public boolean isCancelled(String jobId) {
        return get(jobId).map(s -> s.state() == JobState.CANCELLED).orElse(false);
    }

    /** Jobs with a status of their own (not counting synthesized {@code queued} ones). */
    public int size() {
        synchronized (lock) {
            return jobs.size();
        }
    }

    /** Status records applied so far (including those refused as regressions). */
    public long applied() {
        return applied;
    }

    /**
     * 1-based position among jobs still waiting for a prior worker, oldest {@code submitted_at} first; empty unless
     * the job is queued. Counts the jobs this view knows of: gateway submissions, and for a view that follows
     * requests, Kafka submissions too.
     */
    public OptionalInt queuePosition(String jobId) {
        synchronized (lock) {
            JobStatus s = get(jobId).orElse(null);
            if (s == null || s.state() != JobState.QUEUED || s.timestamps().submittedAt() == null) {
                return OptionalInt.empty();
            }
            QueueEntry key = queueEntries.get(jobId);
            int rank = key == null ? -1 : queued.rank(key);
            return rank < 0 ? OptionalInt.empty() : OptionalInt.of(rank + 1);
        }
    }

    /**
     * Applies a status (read from the topic, or just written by this process, for read-your-writes). It replaces
     * a synthesized {@code queued} status whatever its state.
     *
     * @return whether it replaced what the view had
     */
    public boolean apply(JobStatus status) {
        boolean taken = take(status);
        if (taken) {
            for (java.util.function.Consumer<JobStatus> listener : listeners) {
                try {
                    listener.accept(status);
                } catch (RuntimeException e) {
                    LOG.warn("a status view listener failed on {}: {}", status.jobId(), e.toString());
                }
            }
        }
        return taken;
    }

    private boolean take(JobStatus status) {
        synchronized (lock) {
            JobStatus previous = jobs.get(status.jobId());
            if (previous != null && !status.state().mayFollow(previous.state())) {
                return false;
            }
            if (previous != null && claimedByAnother(previous, status)) {
                return false;
            }
            // replaced, not forgotten: remember(status) below moves the job's listing only if its place changed
            if (previous != null) {
                forgetQueued(previous);
                jobs.remove(status.jobId());
            }
            JobStatus synthesized = requested.remove(status.jobId());
            if (synthesized != null) {
                forgetQueued(synthesized);
            }
            jobs.put(status.jobId(), status);
            remember(status);
            if (status.state().terminal()) {
                finished.add(status.jobId());
            }
            trimJobs();
            return true;
        }
    }

    /**
     * Whether {@code next} is a second claim on a queued job with other parameters: two submissions with one
     * Idempotency-Key raced. The first queued status in the topic won; every view ignores the later one, so
     * every gateway answers from the same winner.
     */
    private static boolean claimedByAnother(JobStatus previous, JobStatus next) {
        return previous.state() == JobState.QUEUED && next.state() == JobState.QUEUED && previous.request() != null
                && next.request() != null && !previous.request().submittedAt().equals(next.request().submittedAt());
    }

    /**
     * Applies a request read from the requests topic: unless some status names the job already, the job is
     * {@code queued} from the request's submission time on. A request whose record key is not its job id is
     * ignored (the prior pool dead-letters it and reports the job failed).
     */
    void applyRequest(String recordKey, GenerationRequest request, Instant recordTime) {
        if (Topics.keyProblem(recordKey, request.jobId()) != null) {
            return;
        }
        synchronized (lock) {
            if (jobs.containsKey(request.jobId()) || requested.containsKey(request.jobId())) {
                return;                      // the usual case at a gateway: its own submission, already known
            }
        }
        String updatedAt = recordTime != null ? recordTime.toString() : request.submittedAt();
        JobStatus synthesized = JobStatus.queued(request).with(JobState.QUEUED,
                new JobStatus.Timestamps(request.submittedAt(), null, null, null, null, updatedAt), null);
        synchronized (lock) {
            if (jobs.containsKey(request.jobId()) || requested.containsKey(request.jobId())) {
                return;
            }
            requested.put(request.jobId(), synthesized);
            remember(synthesized);
        }
    }

    private boolean isKnown(String jobId) {
        if (jobId == null) {
            return false;
        }
        synchronized (lock) {
            return jobs.containsKey(jobId) || requested.containsKey(jobId);
        }
    }

    /** Drops jobs past the bound: finished ones first, the longest finished first; else the least recently updated. */
    private void trimJobs() {
        while (jobs.size() > maxJobs) {
            String victim = finished.isEmpty() ? jobs.keySet().iterator().next() : finished.iterator().next();
            finished.remove(victim);
            forget(jobs.remove(victim));
        }
    }

    /** Indexes a status just put into {@link #jobs} or {@link #requested}: its listing place and queue place. */
    private void remember(JobStatus s) {
        listing.put(s);
        if (s.state() == JobState.QUEUED && s.timestamps().submittedAt() != null) {
            QueueEntry entry = QueueEntry.of(s);
            queued.add(entry);
            queueEntries.put(s.jobId(), entry);
        }
    }

    /** Drops the indexes of a job that leaves {@link #jobs} or {@link #requested}. */
    private void forget(JobStatus s) {
        listing.remove(s.jobId());
        forgetQueued(s);
    }

    private void forgetQueued(JobStatus s) {
        if (s.state() == JobState.QUEUED && s.timestamps().submittedAt() != null) {
            QueueEntry entry = queueEntries.remove(s.jobId());
            queued.remove(entry != null ? entry : QueueEntry.of(s));
        }
    }

    static final Duration POLL_TIMEOUT = Duration.ofMillis(50);

    /** How long the reader waits before it restarts after a failure, doubling up to the cap. */
    static final Duration RESTART_BACKOFF = Duration.ofMillis(500);
    static final Duration RESTART_BACKOFF_CAP = Duration.ofSeconds(15);

    /**
     * Reads until closed. A failure of the reader (Kafka gone for good, a bug) restarts it with a new consumer
     * from the beginning after a backoff; the view keeps its jobs meanwhile (applying is monotonic, so reading
     * again changes nothing that was current) but is not {@link #healthy()}.
     */
    private void run() {
        Duration backoff = RESTART_BACKOFF;
        while (running) {
            try {
                consume();
            } catch (WakeupException e) {
                if (running) {
                    LOG.error("status view woken up unexpectedly", e);
                }
            } catch (RuntimeException | LinkageError | AssertionError e) {
                if (running) {
                    LOG.error("status view stopped; restarting it in {} ms", backoff.toMillis(), e);
                }
            }
            consuming = false;
            if (!running) {
                break;
            }
            restarts.incrementAndGet();
            try {
                Thread.sleep(backoff.toMillis());
            } catch (InterruptedException e) {
                break;
            }
            backoff = backoff.multipliedBy(2).compareTo(RESTART_BACKOFF_CAP) > 0 ? RESTART_BACKOFF_CAP
                    : backoff.multipliedBy(2);
        }
        for (CompletableFuture<Void> f; (f = syncRequests.poll()) != null; ) {
            f.completeExceptionally(new IllegalStateException("status view closed"));
        }
    }

    /** A {@link #sync()} call and the end offsets it waits for. */
    private record Barrier(Map<TopicPartition, Long> end, CompletableFuture<Void> done) {
    }

    private void consume() {
        List<Barrier> barriers = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> c = KafkaClients.readerConsumer(bootstrap, clientId)) {
            consumer = c;
            List<TopicPartition> statusPartitions = TopicReading.partitionsOf(c, Topics.STATUS, () -> running);
            if (statusPartitions == null) {
                return;
            }
            List<TopicPartition> partitions = new ArrayList<>(statusPartitions);
            Map<TopicPartition, Long> requestStarts = Map.of();
            if (followRequests) {
                List<TopicPartition> requestPartitions = TopicReading.partitionsOf(c, Topics.REQUESTS, () -> running);
                if (requestPartitions == null) {
                    return;
                }
                partitions.addAll(requestPartitions);
                requestStarts = priorCommittedOffsets(requestPartitions);
                LOG.debug("following {} from the prior pool's offsets {}", Topics.REQUESTS, requestStarts);
            }
            c.assign(partitions);
            c.seekToBeginning(partitions);
            for (Map.Entry<TopicPartition, Long> start : requestStarts.entrySet()) {
                c.seek(start.getKey(), start.getValue());
            }
            Map<TopicPartition, Long> end = c.endOffsets(partitions);
            consuming = false;
            while (running) {
                if (!syncRequests.isEmpty()) {
                    Map<TopicPartition, Long> now = c.endOffsets(partitions);
                    for (CompletableFuture<Void> f; (f = syncRequests.poll()) != null; ) {
                        barriers.add(new Barrier(now, f));
                    }
                }
                releaseReached(c, barriers);
                // short polls: a sync() call waits at most one poll before its end offsets are taken
                ConsumerRecords<String, byte[]> records = c.poll(POLL_TIMEOUT);
                RuntimeException injected = injectedFailure;
                if (injected != null) {
                    injectedFailure = null;
                    throw injected;
                }
                for (ConsumerRecord<String, byte[]> record : records) {
                    if (record.topic().equals(Topics.STATUS)) {
                        applyRecord(record);
                    } else {
                        applyRequestRecord(record);
                    }
                }
                if (!consuming && TopicReading.reached(c, end)) {
                    LOG.debug("status view caught up: {} jobs", size());
                    consuming = true;
                    caughtUp.countDown();
                }
                releaseReached(c, barriers);
            }
        } finally {
            consumer = null;
            // a barrier whose reader failed is served by the next reader, from scratch
            for (Barrier b : barriers) {
                syncRequests.add(b.done());
            }
        }
    }

    private static void releaseReached(KafkaConsumer<String, byte[]> c, List<Barrier> barriers) {
        barriers.removeIf(b -> {
            if (TopicReading.reached(c, b.end())) {
                b.done().complete(null);
                return true;
            }
            return false;
        });
    }

    /**
     * Where the prior pool will read next, per requests partition: records before that are done (each has its
     * status, or was dead-lettered). Partitions the pool never committed are read from the beginning, as a new
     * prior group would.
     */
    private Map<TopicPartition, Long> priorCommittedOffsets(List<TopicPartition> partitions) {
        Map<TopicPartition, Long> starts = new HashMap<>();
        try (Admin admin = KafkaClients.admin(bootstrap, clientId + "-admin")) {
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(Topics.PRIOR_GROUP)
                    .partitionsToOffsetAndMetadata().get(KafkaClients.ADMIN_API_TIMEOUT_MS, TimeUnit.MILLISECONDS);
            for (TopicPartition tp : partitions) {
                OffsetAndMetadata o = committed.get(tp);
                if (o != null) {
                    starts.put(tp, o.offset());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            LOG.warn("cannot read the prior pool's offsets ({}); following {} from the beginning", e.toString(),
                    Topics.REQUESTS);
        }
        return starts;
    }

    /**
     * Applies one status record. An unreadable one (or one that breaks the view's own checks) is logged and
     * passed over: the status topic has no dead-letter path, and no record may stop the reader.
     */
    private void applyRecord(ConsumerRecord<String, byte[]> record) {
        applied++;
        if (record.value() == null) {
            return; // a tombstone: compaction's way of deleting a key
        }
        try {
            apply(Messages.decode(record.value(), JobStatus.class));
        } catch (RuntimeException e) {
            LOG.warn("ignoring unreadable status at {}-{}@{}: {}", record.topic(), record.partition(), record.offset(),
                    e.getMessage());
        }
    }

    private void applyRequestRecord(ConsumerRecord<String, byte[]> record) {
        if (record.value() == null || isKnown(record.key())) {
            // a known key is the usual case at a gateway, its own submission: decoding the request would change
            // nothing (applyRequest ignores a known job, and a request under another job's key), and it was a
            // fifth of a gateway's CPU under a burst of submits
            return;
        }
        Instant recordTime = record.timestamp() >= 0 ? Instant.ofEpochMilli(record.timestamp()) : null;
        try {
            applyRequest(record.key(), Messages.decodeRequest(record.value(), recordTime), recordTime);
        } catch (RuntimeException e) {
            LOG.debug("unreadable request at {}-{}@{} (the prior pool dead-letters it): {}", record.topic(),
                    record.partition(), record.offset(), e.getMessage());
        }
    }

    @Override
    public void close() {
        running = false;
        KafkaConsumer<String, byte[]> c = consumer;
        if (c != null) {
            c.wakeup();
        }
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
