package dalle2.pipeline;

import dalle2.kafka.KafkaClients;
import dalle2.kafka.Topics;
import dalle2.messages.GenerationRequest;
import dalle2.messages.InvalidMessageException;
import dalle2.messages.JobState;
import dalle2.messages.JobStatus;
import dalle2.messages.SamplingParams;
import dalle2.registry.ServedModels;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The machinery every worker pool shares (prior, decoder, upsampler): one member of a consumer group that turns
 * each input record (one job) into per-image tasks, batches tasks across jobs, runs the model, persists each
 * image's result, and then writes the job's output and status.
 *
 * <p>Threads: the <b>poll thread</b> only polls, parses, hands tasks to the {@link DynamicBatcher}, pauses its
 * partitions while the worker is saturated and commits; the <b>model thread</b> runs batches; <b>I/O threads</b>
 * persist results and produce outputs. A record's offset is committed only after its job's output and final
 * status are acknowledged (acks=all) or the record went to the dead-letter topic: at-least-once.
 *
 * @param <M> input message
 * @param <T> one image's task
 * @param <O> the model's output for one task
 * @param <R> one image's persisted result (an embedding, an object key)
 */
public abstract class StageWorker<M, T, O, R> implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(StageWorker.class);

    /** The MDC key of the job a log line is about (a field of every JSON log line written while it is set). */
    public static final String JOB_ID_MDC_KEY = "job_id";
    /** The MDC key of the jobs a model call serves, comma-separated (a batch mixes jobs). */
    public static final String JOB_IDS_MDC_KEY = "job_ids";

    /**
     * @param maxBatch          most tasks (images) per model call
     * @param maxWait           longest a batch waits for more compatible tasks
     * @param maxInFlightImages pause the partitions when this many images are received and unfinished
     * @param progressInterval  at most one progress status per job per interval
     * @param drainTimeout      on close, how long to finish work already taken before leaving the group
     * @param retry             how storing an image and writing a job's output are retried before the job fails
     */
    public record Config(String bootstrap, String workerId, int maxBatch, Duration maxWait, int maxInFlightImages,
                         Duration progressInterval, Duration drainTimeout, int statusViewMaxJobs, RetryPolicy retry) {
        public Config {
            if (maxBatch < 1 || maxInFlightImages < 1) {
                throw new IllegalArgumentException("max batch and max in-flight images must be >= 1");
            }
            retry = retry == null ? RetryPolicy.DEFAULT : retry;
        }

        /** The settings before retries were configurable: {@link RetryPolicy#DEFAULT}. */
        public Config(String bootstrap, String workerId, int maxBatch, Duration maxWait, int maxInFlightImages,
                      Duration progressInterval, Duration drainTimeout, int statusViewMaxJobs) {
            this(bootstrap, workerId, maxBatch, maxWait, maxInFlightImages, progressInterval, drainTimeout,
                    statusViewMaxJobs, RetryPolicy.DEFAULT);
        }

        /**
         * Batches of up to {@code maxBatch} images, waiting at most 20 ms; progress at most twice a second; I/O
         * retried with {@link RetryPolicy#DEFAULT}.
         */
        public static Config defaults(String bootstrap, String workerId, int maxBatch) {
            return new Config(bootstrap, workerId, maxBatch, Duration.ofMillis(20), 2 * maxBatch,
                    Duration.ofMillis(500), Duration.ofSeconds(30), StatusView.DEFAULT_MAX_JOBS, RetryPolicy.DEFAULT);
        }

        public Config withMaxBatch(int newMaxBatch) {
            return new Config(bootstrap, workerId, newMaxBatch, maxWait, Math.max(maxInFlightImages, 2 * newMaxBatch),
                    progressInterval, drainTimeout, statusViewMaxJobs, retry);
        }

        public Config withMaxWait(Duration newMaxWait) {
            return new Config(bootstrap, workerId, maxBatch, newMaxWait, maxInFlightImages, progressInterval,
                    drainTimeout, statusViewMaxJobs, retry);
        }

        public Config withRetry(RetryPolicy newRetry) {
            return new Config(bootstrap, workerId, maxBatch, maxWait, maxInFlightImages, progressInterval,
                    drainTimeout, statusViewMaxJobs, newRetry);
        }
    }

    /**
     * What a worker has done so far.
     *
     * @param retries        I/O tries that failed and were tried again ({@link Config#retry})
     * @param batchesStopped batches the model stopped early because every job in them was cancelled
     */
    public record Stats(long records, long jobsSucceeded, long jobsFailed, long jobsSkipped, long images,
                        long batches, long deadLetters, long retries, long batchesStopped, long pollLoopRestarts,
                        long reportRetries) {
    }

    /** A job in flight: one input record. */
    protected final class Job {
        public final M message;
        public final GenerationRequest request;
        /** The model version that makes every image of this job ({@link #modelVersionFor}). */
        public final String modelVersion;
        final TopicPartition partition;
        final long offset;
        final AtomicReferenceArray<R> results;
        final AtomicInteger remaining;
        final AtomicBoolean abandoned = new AtomicBoolean();
        volatile JobStatus status;
        volatile long lastProgressNanos;
        /** When the poll thread took the record: the start of every image's latency. */
        final long receivedNanos = System.nanoTime();
        /** Later records of this job (duplicates) that count as done when this one is; null once it is done. */
        private List<PartitionConsumer.Done> duplicates = new ArrayList<>();

        /** Ties a duplicate record to this job; false when the job is done already. */
        synchronized boolean addDuplicate(PartitionConsumer.Done d) {
            if (duplicates == null) {
                return false;
            }
            duplicates.add(d);
            return true;
        }

        /** This job's record and its duplicates, once; afterwards empty. */
        synchronized List<PartitionConsumer.Done> finish() {
            if (duplicates == null) {
                return List.of();
            }
            List<PartitionConsumer.Done> all = new ArrayList<>(duplicates);
            all.add(0, new PartitionConsumer.Done(partition, offset));
            duplicates = null;
            return all;
        }

        Job(M message, GenerationRequest request, String modelVersion, TopicPartition partition, long offset) {
            this.message = message;
            this.request = request;
            this.modelVersion = modelVersion;
            this.partition = partition;
            this.offset = offset;
            this.results = new AtomicReferenceArray<>(request.n());
            this.remaining = new AtomicInteger(request.n());
        }

        public JobStatus status() {
            return status;
        }

        public List<R> results() {
            List<R> list = new ArrayList<>(results.length());
            for (int i = 0; i < results.length(); i++) {
                list.add(results.get(i));
            }
            return list;
        }
    }

    private record Item<J, T>(J job, int index, T task) {
    }

    protected final Config config;
    private final String inputTopic;
    private final String group;
    protected final StatusView view;
    protected final KafkaProducer<String, byte[]> producer;
    private final DynamicBatcher<Item<Job, T>> batcher;
    private final AtomicInteger inFlightImages = new AtomicInteger();
    /** Jobs taken and not yet done, by id: a second record of one of them (a duplicate request) is skipped. */
    private final java.util.concurrent.ConcurrentHashMap<String, Job> inFlightJobs =
            new java.util.concurrent.ConcurrentHashMap<>();
    private final IoThreads io;
    private final PartitionConsumer partitions;
    private final Thread modelThread;
    private volatile boolean running = true;
    private volatile boolean modelRunning = true;
    private final AtomicLong records = new AtomicLong();
    private final AtomicLong succeeded = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong skipped = new AtomicLong();
    private final AtomicLong images = new AtomicLong();
    private final AtomicLong batches = new AtomicLong();
    private final DeadLetterer deadLetterer;
    private final StageMeters meters;
    private final BatchStats batchStats;
    private final AtomicLong retries = new AtomicLong();
    private final AtomicLong batchesStopped = new AtomicLong();
    private final StageOutput output;
    private final ThreadShare threads;
    private final ServedModels<?> served;

    /**
     * A stage running the model versions {@code served} routes jobs to, whose model calls share {@code threads}
     * with the other model calls of this process. The worker closes {@code served} when it closes.
     */
    protected StageWorker(Config config, String inputTopic, String group, ThreadShare threads,
                          ServedModels<?> served) {
        this.config = config;
        this.threads = threads;
        this.served = served;
        this.inputTopic = inputTopic;
        this.group = group;
        this.meters = new StageMeters(group, config.workerId());
        this.batchStats = new BatchStats(meters);
        this.view = new StatusView(config.bootstrap(), config.statusViewMaxJobs(), group);
        this.producer = KafkaClients.workerProducer(config.bootstrap(), KafkaClients.clientId(group + "-" + config.workerId()));
        this.batcher = new DynamicBatcher<>(config.maxBatch(), config.maxWait(),
                item -> new BatchKey(paramsOf(item.job().message), item.job().modelVersion));
        this.io = new IoThreads(group + "-" + config.workerId(), config.workerId(), 2);
        this.output = new StageOutput(producer, view, io, config.workerId(), group + "-" + config.workerId() + "-late-ack",
                () -> !running && !modelRunning);
        this.partitions = new PartitionConsumer(config.bootstrap(), group, config.workerId(), inputTopic,
                config.drainTimeout(), this::accept, batcher::expectMore, inFlightImages::get,
                config.maxInFlightImages());
        this.deadLetterer = new DeadLetterer(config.workerId(), group + "/" + config.workerId(), meters, output,
                partitions);
        this.modelThread = new Thread(this::modelLoop, group + "-" + config.workerId() + "-model");
    }

    // ---- what a stage defines --------------------------------------------------------------------------------

    /**
     * Parses and validates an input record.
     *
     * @param recordTime the record's Kafka timestamp (null when it has none)
     * @throws InvalidMessageException for a poison record
     */
    protected abstract M parse(byte[] value, Instant recordTime);

    protected abstract GenerationRequest requestOf(M message);

    /**
     * Why this worker cannot run a well-formed message (e.g. an embedding of another width than its model's), or
     * null. Checked per job before batching, so one bad job never fails the jobs batched with it.
     */
    protected String problemOf(M message, String modelVersion) {
        return null;
    }

    /** The job's tasks, one per image, index k at position k. */
    protected abstract List<T> tasksOf(M message);

    /** The sampler settings of the job: the batch key. */
    protected abstract SamplingParams paramsOf(M message);

    /** Whether a job in this status needs no work from this stage (cancelled, finished, or past this stage). */
    protected abstract boolean alreadyHandled(JobStatus status);

    /** The status written when the job is taken (state of this stage, progress 0). */
    protected abstract JobStatus startedStatus(M message, String modelVersion, Instant now);

    /** The state this stage reports while it works. */
    protected abstract JobState workingState();

    /** Name of the stage in progress reports ("prior", "decoder", "upsampler"). */
    protected abstract String stageName();

    /** Steps of this stage for a job (for progress). */
    protected abstract int stepsOf(M message);

    /** The version most new jobs get ({@code ModelVersion}). */
    protected String modelVersion() {
        return served.stableVersion();
    }

    /** Runs the model on one batch (model thread). One output per task, in order. */
    protected abstract List<O> runModel(SamplingParams params, String modelVersion, List<T> tasks,
                                        StepProgress progress);

    /**
     * The model version that makes this job, chosen once when the job is taken: every image of it, and every
     * retry, is made by that version, however the pool's pin changes meanwhile. A pool that follows no registry
     * has one version.
     */
    protected String modelVersionFor(M message) {
        return served.assign(requestOf(message).jobId());
    }


    /** Batches hold images of one sampler setting and one model version. */
    private record BatchKey(SamplingParams params, String modelVersion) {
    }

    /** What a model call reports after each of its steps; it may stop the call by throwing. */
    @FunctionalInterface
    public interface StepProgress {
        void onStep(int done, int total);
    }

    /** Persists one image's output (I/O thread), e.g. puts the PNG; returns what the job's output needs. */
    protected abstract R persist(Job job, int index, T task, O output);

    /**
     * The most compute threads a model call on {@code images} images should use; it gets the smaller of this and
     * its share of the process's threads. All of them by default; a stage whose small batches run faster on
     * fewer threads says so (measured in BENCHMARKS.md, "Threads by batch size").
     */
    protected int threadsWanted(int images) {
        return Integer.MAX_VALUE;
    }

    /**
     * Writes the job's output and final status (I/O thread); the future completes when all of it is acknowledged.
     */
    protected abstract CompletableFuture<?> complete(Job job);

    // ---- lifecycle ---------------------------------------------------------------------------------------------

    /** Starts the status view, waits until it has caught up (so cancellations are known), then joins the group. */
    public StageWorker<M, T, O, R> start(Duration viewTimeout) throws InterruptedException {
        try (org.apache.kafka.clients.admin.Admin admin = KafkaClients.admin(config.bootstrap(),
                KafkaClients.clientId(group + "-admin"))) {
            Topics.ensure(admin, Topics.defaultSpecs(), viewTimeout.toMillis());
        }
        view.start();
        if (!view.awaitCaughtUp(viewTimeout)) {
            LOG.warn("{}: status view not caught up after {}; starting anyway", config.workerId(), viewTimeout);
        }
        modelThread.start();
        partitions.start();
        return this;
    }

    public Stats stats() {
        return new Stats(records.get(), succeeded.get(), failed.get(), skipped.get(), images.get(), batches.get(),
                deadLetterer.letters(), retries.get(), batchesStopped.get(), partitions.restarts(), output.reportRetries());
    }

    /** Partitions of the input topic this worker owns now. */
    public int assignedPartitions() {
        return partitions.assignedPartitions();
    }

    public StatusView statusView() {
        return view;
    }

    // ---- for health checks and metrics (dalle2.ops.WorkerOpsServer) -------------------------------------------

    /** The topic this worker's pool consumes. */
    public String inputTopic() {
        return inputTopic;
    }

    /** The consumer group of this worker's pool ("prior", "decoder", "upsampler"). */
    public String group() {
        return group;
    }

    public String workerId() {
        return config.workerId();
    }

    /** Images received and not yet finished (persisted, skipped or failed). */
    public int inFlightImages() {
        return inFlightImages.get();
    }

    /** The meters this worker records into as it works (steps, images, batch sizes, failures by reason). */
    public StageMeters meters() {
        return meters;
    }

    /**
     * Records in the assigned partitions that this worker has not fetched yet, from its last fetch of each: a
     * paused partition is not fetched, so its share is stale while the worker is saturated (the ops server also
     * exports the group's lag as the brokers count it).
     */
    public long consumerLag() {
        return partitions.lag();
    }

    /** The version of the weights in use, e.g. {@code decoder@3f9c0a1b2c3d}. */
    public String modelVersionInUse() {
        return modelVersion();
    }

    /** The versions new jobs get now: the stable one, and a canary while one takes a share. */
    public Set<String> modelVersionsServed() {
        return served.servedVersions();
    }

    /** Versions a registry-following pool refused to switch to (failed fetch, verification, load or check). */
    public long modelVersionsRefused() {
        return served.refusals();
    }

    /** Sizes and durations of the model calls; each stage's {@link #runModel} records its call here. */
    public BatchStats batchStats() {
        return batchStats;
    }

    public boolean pollThreadAlive() {
        return partitions.alive();
    }

    /** Whether the poll loop runs (not restarting after a failure, not stopped). */
    public boolean polling() {
        return partitions.polling();
    }

    /**
     * Dead letters and failure statuses that could not be produced yet and are being retried: while any is, the
     * partitions they came from cannot commit past them.
     */
    public int stalledReports() {
        return output.stalledReports();
    }

    public boolean modelThreadAlive() {
        return modelThread.isAlive();
    }

    /**
     * Stops polling, lets the jobs taken finish (up to the drain timeout), commits and leaves the group, then
     * stops the model thread and the I/O, and frees the models.
     */
    @Override
    public void close() {
        running = false;
        partitions.stop(config.drainTimeout().plusSeconds(10));
        modelRunning = false;
        join(modelThread, Duration.ofSeconds(30));
        // a try still waiting out its backoff now is dropped: its record was not committed and will be redelivered
        io.close(Duration.ofSeconds(10));
        served.close();
        producer.close(Duration.ofSeconds(5));
        view.close();
    }

    private static void join(Thread t, Duration timeout) {
        try {
            t.join(timeout.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---- taking records (on the poll thread: PartitionConsumer) ------------------------------------------

    /**
     * Takes one record: it ends as a job in the batcher, a skipped duplicate, or a dead letter — whatever it holds.
     * An unexpected failure while taking it dead-letters it too, so no record can stop the loop.
     */
    private void accept(ConsumerRecord<String, byte[]> record) {
        // records are keyed by their job id (Topics): every line about taking one carries its key as the job id
        try (MDC.MDCCloseable ignored = MDC.putCloseable(JOB_ID_MDC_KEY, record.key())) {
            acceptWithKeyInMdc(record);
        }
    }

    private void acceptWithKeyInMdc(ConsumerRecord<String, byte[]> record) {
        records.incrementAndGet();
        TopicPartition tp = new TopicPartition(record.topic(), record.partition());
        try {
            take(record, tp);
        } catch (RuntimeException e) {
            LOG.error("{}: cannot take {}-{}@{}", config.workerId(), record.topic(), record.partition(),
                    record.offset(), e);
            deadLetterer.deadLetter(record, record.key(), "unprocessable_record", "unprocessable record: " + describe(e), null);
        }
    }

    private void take(ConsumerRecord<String, byte[]> record, TopicPartition tp) {
        M message;
        try {
            message = parse(record.value(), record.timestamp() >= 0 ? Instant.ofEpochMilli(record.timestamp()) : null);
        } catch (InvalidMessageException e) {
            String reason = e.field() == null ? e.getMessage() : e.field() + ": " + e.getMessage();
            String key = record.key();
            JobStatus failedStatus = null;
            if (key != null && !key.isEmpty() && mayReportFailureOf(key)) {
                JobStatus known = view.get(key).orElse(null);
                failedStatus = known != null ? known.failed("invalid_message", reason, Instant.now())
                        : JobStatus.failedUnreadable(key, "invalid_message", reason);
            }
            deadLetterer.deadLetter(record, key, "invalid_message", reason, failedStatus);
            return;
        }
        GenerationRequest request = requestOf(message);
        String keyProblem = Topics.keyProblem(record.key(), request.jobId());
        if (keyProblem != null) {
            // processing it would put the job's messages on two partitions, out of order: refuse it, loudly
            refuse(record, tp, request, "invalid_key", keyProblem);
            return;
        }
        String modelVersion = modelVersionFor(message);
        String problem = problemOf(message, modelVersion);
        if (problem != null) {
            refuse(record, tp, request, "invalid_message", problem);
            return;
        }
        JobStatus known = view.get(request.jobId()).orElse(null);
        if (known != null && alreadyHandled(known)) {
            LOG.debug("{}: skipping {} ({})", config.workerId(), request.jobId(), known.state().wire());
            skipped.incrementAndGet();
            partitions.done(new PartitionConsumer.Done(tp, record.offset()));
            return;
        }
        Job job = new Job(message, request, modelVersion, tp, record.offset());
        for (Job running; (running = inFlightJobs.putIfAbsent(request.jobId(), job)) != null; ) {
            // its offset is committed only with the running job's: a crash before that redelivers both
            if (running.addDuplicate(new PartitionConsumer.Done(tp, record.offset()))) {
                LOG.debug("{}: skipping a duplicate record of {}, which this worker is running", config.workerId(),
                        request.jobId());
                skipped.incrementAndGet();
                return;
            }
            inFlightJobs.remove(request.jobId(), running);
        }
        job.status = startedStatus(message, modelVersion, Instant.now());
        sendStatus(job.status);
        List<T> tasks = tasksOf(message);
        inFlightImages.addAndGet(tasks.size());
        for (int k = 0; k < tasks.size(); k++) {
            batcher.add(new Item<>(job, k, tasks.get(k)));
        }
    }

    /**
     * Dead-letters a readable record this worker will not run and, unless a worker has taken its job already,
     * marks the job failed with {@code code} and the reason.
     */
    private void refuse(ConsumerRecord<String, byte[]> record, TopicPartition tp, GenerationRequest request,
                        String code, String reason) {
        JobStatus failedStatus = null;
        if (mayReportFailureOf(request.jobId())) {
            JobStatus known = view.get(request.jobId()).orElse(null);
            failedStatus = (known != null ? known : JobStatus.queued(request)).failed(code, reason, Instant.now());
        }
        deadLetterer.deadLetter(record, request.jobId(), code, reason, failedStatus);
    }

    /**
     * Whether a refused record may mark the job it names failed: only while no worker of this stage (or a later
     * one) has taken that job, so a stray record never fails a job that its own records are carrying, nor
     * rewrites a finished one.
     */
    private boolean mayReportFailureOf(String jobId) {
        JobStatus known = view.get(jobId).orElse(null);
        return known == null || known.state().precedes(workingState());
    }

    // ---- model thread ------------------------------------------------------------------------------------------

    private void modelLoop() {
        while (modelRunning) {
            List<Item<Job, T>> batch;
            try {
                batch = batcher.nextBatch(Duration.ofMillis(100));
            } catch (InterruptedException e) {
                return;
            }
            if (!batch.isEmpty()) {
                try (MDC.MDCCloseable ignored = MDC.putCloseable(JOB_IDS_MDC_KEY, jobIdsOf(batch))) {
                    runBatch(batch);
                }
            }
            // a pool that rolled out a new version releases the old one's weights once no job needs them
            served.releaseUnused(versionsInFlight());
        }
    }

    private Set<String> versionsInFlight() {
        Set<String> versions = new java.util.HashSet<>();
        for (Job job : inFlightJobs.values()) {
            versions.add(job.modelVersion);
        }
        return versions;
    }

    private String jobIdsOf(List<Item<Job, T>> batch) {
        Set<String> ids = new LinkedHashSet<>();
        for (Item<Job, T> item : batch) {
            ids.add(item.job().request.jobId());
        }
        return String.join(",", ids);
    }

    private void runBatch(List<Item<Job, T>> batch) {
        List<Item<Job, T>> live = new ArrayList<>(batch.size());
        for (Item<Job, T> item : batch) {
            if (item.job().abandoned.get() || view.isCancelled(item.job().request.jobId())) {
                itemFinished(item.job());
            } else {
                live.add(item);
            }
        }
        if (live.isEmpty()) {
            return;
        }
        Set<Job> jobs = new LinkedHashSet<>();
        List<T> tasks = new ArrayList<>(live.size());
        for (Item<Job, T> item : live) {
            jobs.add(item.job());
            tasks.add(item.task());
        }
        SamplingParams params = paramsOf(live.get(0).job().message);
        String modelVersion = live.get(0).job().modelVersion;
        batches.incrementAndGet();
        List<O> outputs;
        long[] stepStartNanos = {System.nanoTime()};
        try (ThreadShare.Lease share = threads.begin(threadsWanted(tasks.size()))) {
            outputs = runModel(params, modelVersion, tasks, (step, steps) -> {
                long now = System.nanoTime();
                meters.step(now - stepStartNanos[0]);
                stepStartNanos[0] = now;
                if (allCancelled(jobs)) {
                    throw new BatchCancelledException(step, steps);
                }
                progress(jobs, step, steps);
                share.rebalance();
            });
            if (outputs.size() != tasks.size()) {
                throw new IllegalStateException("model returned " + outputs.size() + " results for " + tasks.size() + " tasks");
            }
        } catch (RuntimeException e) {
            BatchCancelledException stopped = BatchCancelledException.in(e);
            if (stopped != null) {
                LOG.info("{}: stopped a batch of {} images after step {} of {}: every job in it was cancelled",
                        config.workerId(), tasks.size(), stopped.step(), stopped.steps());
                batchesStopped.incrementAndGet();
                for (Item<Job, T> item : live) {
                    itemFinished(item.job());
                }
                return;
            }
            LOG.error("{}: model failed on a batch of {} images", config.workerId(), tasks.size(), e);
            for (Job job : jobs) {
                fail(job, "model_error", String.valueOf(e.getMessage()));
            }
            for (Item<Job, T> item : live) {
                itemFinished(item.job());
            }
            return;
        }
        for (int i = 0; i < live.size(); i++) {
            persistLater(live.get(i), outputs.get(i), 1, Duration.ZERO);
        }
    }

    /**
     * Whether every job of a running batch is cancelled (or failed elsewhere): then nothing of it will be used.
     * Survivors are never sacrificed: a batch with one job still wanted runs to its end.
     */
    private boolean allCancelled(Set<Job> jobs) {
        for (Job job : jobs) {
            if (!job.abandoned.get() && !view.isCancelled(job.request.jobId())) {
                return false;
            }
        }
        return true;
    }

    /**
     * Try number {@code attempt} of persisting one image, on an I/O thread after {@code delay}. A transient failure
     * ({@link #retryable}) is tried again with backoff ({@link Config#retry}); the last failure fails the job.
     */
    private void persistLater(Item<Job, T> item, O output, int attempt, Duration delay) {
        Job job = item.job();
        io.later(delay, () -> withJobInMdc(job, () -> {
            // a job cancelled (or failed) meanwhile needs no image: don't store one
            if (job.abandoned.get() || view.isCancelled(job.request.jobId())) {
                itemFinished(job);
                return;
            }
            try {
                job.results.set(item.index(), persist(job, item.index(), item.task(), output));
                images.incrementAndGet();
                meters.image(System.nanoTime() - job.receivedNanos);
            } catch (RuntimeException e) {
                if (retryLater(e, attempt, "store image " + item.index() + " of " + job.request.jobId(),
                        wait -> persistLater(item, output, attempt + 1, wait))) {
                    return;
                }
                LOG.error("{}: cannot store image {} of {} (try {} of {})", config.workerId(), item.index(),
                        job.request.jobId(), attempt, config.retry().attempts(), e);
                fail(job, "storage_error", Failures.message("cannot store image " + item.index(), e, attempt));
            }
            itemFinished(job);
        }));
    }

    /** Runs {@code task} with the job's id in the logging MDC (I/O threads serve many jobs in turn). */
    private void withJobInMdc(Job job, Runnable task) {
        try (MDC.MDCCloseable ignored = MDC.putCloseable(JOB_ID_MDC_KEY, job.request.jobId())) {
            task.run();
        }
    }

    /**
     * Decides whether a failed try is tried again; if so, counts it and has {@code retry} schedule the next try
     * after the policy's backoff.
     */
    private boolean retryLater(Throwable e, int attempt, String what, java.util.function.Consumer<Duration> retry) {
        if ((!running && !modelRunning) || !config.retry().mayRetryAfter(attempt) || !retryable(e)) {
            return false;
        }
        Duration wait = config.retry().backoffAfter(attempt);
        retries.incrementAndGet();
        LOG.warn("{}: cannot {} (try {} of {}): {}; trying again in {} ms", config.workerId(), what, attempt,
                config.retry().attempts(), describe(e), wait.toMillis());
        retry.accept(wait);
        return true;
    }

    /** Whether a failed I/O try may succeed if tried again ({@link Failures#transientIo}). */
    protected boolean retryable(Throwable e) {
        return Failures.transientIo(e);
    }

    /** One line for a status or a log ({@link Failures#describe}). */
    static String describe(Throwable e) {
        return Failures.describe(e);
    }

    private void progress(Set<Job> jobs, int step, int steps) {
        long now = System.nanoTime();
        for (Job job : jobs) {
            boolean last = step >= steps;
            if (!last && now - job.lastProgressNanos < config.progressInterval().toNanos()) {
                continue;
            }
            job.lastProgressNanos = now;
            int jobSteps = stepsOf(job.message);
            JobStatus s = job.status;
            job.status = s.with(workingState(), s.timestamps().touched(Instant.now()),
                    new JobStatus.Progress(stageName(), Math.min(step, jobSteps), jobSteps));
            if (!job.abandoned.get()) {
                sendStatus(job.status);
            }
        }
    }

    /** One image of a job is finished (persisted, skipped or failed). */
    private void itemFinished(Job job) {
        inFlightImages.decrementAndGet();
        if (job.remaining.decrementAndGet() != 0 || job.abandoned.get()) {
            return;
        }
        completeLater(job, 1, Duration.ZERO);
    }

    /** Try number {@code attempt} of writing the job's output and final status, retried like {@link #persistLater}. */
    private void completeLater(Job job, int attempt, Duration delay) {
        Runnable task = () -> withJobInMdc(job, () -> {
            if (view.isCancelled(job.request.jobId())) {
                skipped.incrementAndGet();
                markDone(job);
                return;
            }
            FaultPoint.AFTER_IMAGE_STORED.reach(config.workerId(), job.request.jobId());
            CompletableFuture<?> output;
            try {
                output = complete(job);
            } catch (RuntimeException e) {
                output = CompletableFuture.failedFuture(e);
            }
            output.whenComplete((ok, e) -> {
                if (e == null) {
                    FaultPoint.AFTER_STATUS_PUBLISHED.reach(config.workerId(), job.request.jobId());
                    succeeded.incrementAndGet();
                    markDone(job);
                } else if (!retryLater(e, attempt, "write the output of " + job.request.jobId(),
                        wait -> completeLater(job, attempt + 1, wait))) {
                    LOG.error("{}: cannot write the output of {} (try {} of {})", config.workerId(),
                            job.request.jobId(), attempt, config.retry().attempts(), e);
                    fail(job, "output_error", Failures.message("cannot write the output", e, attempt));
                }
            });
        });
        if (attempt == 1) {
            task.run();
        } else {
            io.later(delay, task);
        }
    }

    /** Fails a job once: failed status, then its record counts as done. */
    protected void fail(Job job, String code, String message) {
        if (!job.abandoned.compareAndSet(false, true)) {
            return;
        }
        JobStatus known = view.get(job.request.jobId()).orElse(null);
        if (known != null && known.state().terminal()) {
            // cancelled meanwhile, or finished by another delivery of the same record: leave that status
            skipped.incrementAndGet();
            markDone(job);
            return;
        }
        failed.incrementAndGet();
        meters.failure(code);
        JobStatus failedStatus = job.status.failed(code, message, Instant.now());
        output.untilAcknowledged("report the failure of " + job.request.jobId(), () -> sendStatusAlways(failedStatus),
                () -> markDone(job));
    }

    private void markDone(Job job) {
        partitions.done(job.finish());
        inFlightJobs.remove(job.request.jobId(), job);
    }

    // ---- producing ---------------------------------------------------------------------------------------------

    /** Sends one record; the future completes when the brokers acknowledged it (acks=all). */
    protected CompletableFuture<RecordMetadata> send(String topic, String key, byte[] value) {
        return send(new ProducerRecord<>(topic, key, value));
    }

    private CompletableFuture<RecordMetadata> send(ProducerRecord<String, byte[]> record) {
        return output.send(record);
    }

    /** Sends a status unless the job was cancelled meanwhile (a cancelled job's status stays cancelled). */
    protected CompletableFuture<?> sendStatus(JobStatus status) {
        return output.sendStatus(status);
    }

    private CompletableFuture<?> sendStatusAlways(JobStatus status) {
        return output.sendStatusAlways(status);
    }
}
