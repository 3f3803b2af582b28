package dalle2.trainer.worker;

import dalle2.djl.DjlRuntime;
import dalle2.kafka.KafkaClients;
import dalle2.kafka.Topics;
import dalle2.messages.InvalidMessageException;
import dalle2.messages.Messages;
import dalle2.messages.TrainingRequest;
import dalle2.messages.TrainingState;
import dalle2.messages.TrainingStatus;
import dalle2.pipeline.TrainingStatusView;
import dalle2.registry.ModelRegistry;
import dalle2.storage.ObjectStore;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A member of the {@code trainer} consumer group: takes one training job at a time from {@code training.jobs} and
 * runs it on a training thread while the poll thread keeps polling (so the group keeps it, whatever
 * {@code max.poll.interval.ms} says) with every partition paused (so no second job arrives). A job's offset is
 * committed only once it has finished, succeeded or failed with its final status acknowledged: a worker that dies
 * mid-run leaves its job uncommitted, and the group hands it to another worker, which resumes it from its last
 * checkpoint in object storage. A worker that is closed, or loses the job's partition to a rebalance, stops the
 * run at a checkpoint and commits nothing, with the same result.
 */
public final class TrainerWorker implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(TrainerWorker.class);
    private static final Duration POLL_TIMEOUT = Duration.ofMillis(100);

    /**
     * @param dataDir where the datasets jobs name are ({@code --data-dir}): job locations resolve inside it
     * @param workDir local run folders, one per job in progress, deleted when it ends
     * @param clipDir the CLIP model folder the prior and decoder train on embeddings of
     */
    public record Config(String bootstrap, String workerId, Path dataDir, Path workDir, Path clipDir,
                         Duration viewTimeout) {
    }

    /** What this worker has done so far. */
    public record Stats(long taken, long finished, long handedOver, long skipped) {
    }

    private final Config config;
    private final TrainingStatusView view;
    private final KafkaProducer<String, byte[]> producer;
    private final TrainingJobRunner runner;
    private final ExecutorService trainingThread;
    private final Thread pollThread;
    private volatile boolean running = true;
    private final AtomicLong taken = new AtomicLong();
    private final AtomicLong finished = new AtomicLong();
    private final AtomicLong handedOver = new AtomicLong();
    private final AtomicLong skipped = new AtomicLong();

    /** The job in progress: its record and the training thread's future. */
    private record Current(TopicPartition partition, long offset, String trainingId,
                           Future<TrainingJobRunner.Outcome> outcome) {
    }

    private volatile Current current;
    private volatile int assignedPartitions;

    /** How long a job that failed for want of Kafka or storage waits before this worker tries it again. */
    static final Duration RETRY_BACKOFF = Duration.ofSeconds(5);
    static final Duration RETRY_BACKOFF_CAP = Duration.ofMinutes(5);

    /** A job to take again from its checkpoint once {@code notBefore} has passed (poll thread only). */
    private record Retry(TopicPartition partition, long offset, long notBeforeNanos) {
    }

    private Retry retry;
    private Duration backoff = RETRY_BACKOFF;

    /** Publishes finished models through the {@link ModelRegistry} (object storage and the models topic). */
    public TrainerWorker(Config config, ObjectStore store) {
        this.config = config;
        // the engine is loaded here, not on the training thread: gradient tracking is off on the loading thread
        DjlRuntime.engine();
        this.view = new TrainingStatusView(config.bootstrap(), TrainingStatusView.DEFAULT_MAX_TRAININGS,
                Topics.TRAINER_GROUP);
        this.producer = KafkaClients.workerProducer(config.bootstrap(),
                KafkaClients.clientId(Topics.TRAINER_GROUP + "-" + config.workerId()));
        this.runner = new TrainingJobRunner(config, store, new ModelRegistry(store, producer), producer, view);
        this.trainingThread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "trainer-" + config.workerId() + "-training");
            t.setDaemon(true);
            return t;
        });
        this.pollThread = new Thread(this::pollLoop, "trainer-" + config.workerId() + "-poll");
    }

    /** Creates the topics if needed, reads the training statuses up to now, then joins the group. */
    public TrainerWorker start() throws InterruptedException {
        try (Admin admin = KafkaClients.admin(config.bootstrap(), KafkaClients.clientId("trainer-admin"))) {
            Topics.ensure(admin, Topics.defaultSpecs(), config.viewTimeout().toMillis());
        }
        view.start();
        if (!view.awaitCaughtUp(config.viewTimeout())) {
            LOG.warn("{}: training status view not caught up after {}; starting anyway", config.workerId(),
                    config.viewTimeout());
        }
        pollThread.start();
        return this;
    }

    public Stats stats() {
        return new Stats(taken.get(), finished.get(), handedOver.get(), skipped.get());
    }

    /** The training in progress, or null. */
    public String currentTraining() {
        Current c = current;
        return c == null ? null : c.trainingId();
    }

    public TrainingStatusView statusView() {
        return view;
    }

    public String workerId() {
        return config.workerId();
    }

    public boolean pollThreadAlive() {
        return pollThread.isAlive();
    }

    /** Partitions of the training jobs topic this member owns now. */
    public int assignedPartitions() {
        return assignedPartitions;
    }

    /** Stops the run in progress at a checkpoint (uncommitted: another worker resumes it) and leaves the group. */
    @Override
    public void close() {
        running = false;
        runner.stop();
        try {
            pollThread.join(TimeUnit.MINUTES.toMillis(3));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        trainingThread.shutdownNow();
        try {
            // a stopped training still writes its last checkpoint: the worker is closed once it has
            if (!trainingThread.awaitTermination(1, TimeUnit.MINUTES)) {
                LOG.warn("{}: the training thread did not stop within a minute of close", config.workerId());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        producer.close(Duration.ofSeconds(5));
        view.close();
    }

    private void pollLoop() {
        while (running) {
            try {
                consume();
            } catch (RuntimeException e) {
                if (!running) {
                    break;
                }
                LOG.error("{}: poll loop failed; restarting it in 1 s", config.workerId(), e);
                // the group may give the job to another worker while this one rejoins: stop it at a checkpoint
                Current inProgress = current;
                if (inProgress != null) {
                    runner.stop();
                    awaitQuietly(inProgress.outcome());
                    current = null;
                    handedOver.incrementAndGet();
                }
                retry = null;
                try {
                    Thread.sleep(1000);
                } catch (InterruptedException interrupted) {
                    break;
                }
            }
        }
    }

    private void consume() {
        try (KafkaConsumer<String, byte[]> c = KafkaClients.trainerConsumer(config.bootstrap(),
                KafkaClients.clientId(Topics.TRAINER_GROUP + "-" + config.workerId()))) {
            c.subscribe(List.of(Topics.TRAINING_JOBS), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                    handOverIfIn(partitions);
                    assignedPartitions = c.assignment().size() - partitions.size();
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                    assignedPartitions = c.assignment().size();
                }

                @Override
                public void onPartitionsLost(Collection<TopicPartition> partitions) {
                    handOverIfIn(partitions);
                    assignedPartitions = 0;
                }
            });
            while (running) {
                cancelIfAsked();
                finishIfDone(c);
                retryIfDue(c);
                if (current != null || retry != null) {
                    // partitions assigned while a job runs must not deliver a second one
                    c.pause(c.assignment());
                } else if (!c.paused().isEmpty()) {
                    c.resume(c.paused());
                }
                // paused while a training runs, the loop waits here, not inside poll (KafkaClients.pollWait)
                Duration wait = KafkaClients.pollWait(c, POLL_TIMEOUT);
                for (ConsumerRecord<String, byte[]> record : c.poll(wait)) {
                    if (current != null || retry != null) {
                        // fetched before the pause took effect: read it again once this worker is free
                        c.seek(new TopicPartition(record.topic(), record.partition()), record.offset());
                        continue;
                    }
                    take(c, record);
                }
                if (wait.isZero()) {
                    awaitTrainingOrTimeout();
                }
            }
            Current stopping = current;
            if (stopping != null) {
                runner.stop();
                awaitQuietly(stopping.outcome());
                finishIfDone(c);
            }
        }
    }

    /** Up to one poll timeout, less when the running training ends first. */
    private void awaitTrainingOrTimeout() {
        Current job = current;
        try {
            if (job != null) {
                job.outcome().get(POLL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            } else {
                Thread.sleep(POLL_TIMEOUT.toMillis());
            }
        } catch (TimeoutException | ExecutionException | CancellationException e) {
            // still running, or ended with a failure that finishIfDone reads on the next turn
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The running training's status says cancelled (a gateway's DELETE): the runner stops and ends it so. */
    private void cancelIfAsked() {
        Current c = current;
        if (c != null && !c.outcome().isDone() && view.get(c.trainingId())
                .map(s -> s.state() == TrainingState.CANCELLED).orElse(false)) {
            runner.cancel(c.trainingId());
        }
    }

    /** A rebalance took the running job's partition: stop it at a checkpoint for its next owner. */
    private void handOverIfIn(Collection<TopicPartition> partitions) {
        if (retry != null && partitions.contains(retry.partition())) {
            retry = null;
        }
        Current c = current;
        if (c != null && partitions.contains(c.partition())) {
            LOG.info("{}: lost {}; stopping training {} at a checkpoint", config.workerId(), c.partition(),
                    c.trainingId());
            runner.stop();
            awaitQuietly(c.outcome());
            current = null;
            handedOver.incrementAndGet();
        }
    }

    private void take(KafkaConsumer<String, byte[]> c, ConsumerRecord<String, byte[]> record) {
        TopicPartition tp = new TopicPartition(record.topic(), record.partition());
        taken.incrementAndGet();
        TrainingRequest request;
        try {
            request = Messages.decode(record.value(), TrainingRequest.class);
        } catch (InvalidMessageException e) {
            refuse(record, e);
            commit(c, tp, record.offset());
            return;
        }
        String keyProblem = Topics.keyProblem(record.key(), request.trainingId());
        if (keyProblem != null) {
            refuse(record, new InvalidMessageException("training_id", keyProblem));
            commit(c, tp, record.offset());
            return;
        }
        TrainingStatus known = view.get(request.trainingId()).orElse(null);
        if (known != null && known.state().terminal()) {
            LOG.info("{}: training {} already {}; skipping its record", config.workerId(), request.trainingId(),
                    known.state().wire());
            skipped.incrementAndGet();
            commit(c, tp, record.offset());
            return;
        }
        c.pause(c.assignment());
        current = new Current(tp, record.offset(), request.trainingId(),
                trainingThread.submit(() -> runner.run(request)));
    }

    /** Commits the job's record once its training finished; a job handed over is left for the next owner. */
    private void finishIfDone(KafkaConsumer<String, byte[]> c) {
        Current job = current;
        if (job == null || !job.outcome().isDone()) {
            return;
        }
        current = null;
        TrainingJobRunner.Outcome outcome;
        try {
            outcome = job.outcome().get();
        } catch (ExecutionException e) {
            handedOver.incrementAndGet();
            if (running && c.assignment().contains(job.partition())) {
                LOG.warn("{}: training {} interrupted ({}); trying it again from its checkpoint in {} s",
                        config.workerId(), job.trainingId(), e.getCause().toString(), backoff.toSeconds());
                retry = new Retry(job.partition(), job.offset(), System.nanoTime() + backoff.toNanos());
                backoff = backoff.multipliedBy(2).compareTo(RETRY_BACKOFF_CAP) > 0 ? RETRY_BACKOFF_CAP
                        : backoff.multipliedBy(2);
            }
            return;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        if (outcome == TrainingJobRunner.Outcome.FINISHED) {
            commit(c, job.partition(), job.offset());
            finished.incrementAndGet();
            backoff = RETRY_BACKOFF;
        } else {
            handedOver.incrementAndGet();
        }
    }

    /** Takes a job that failed for want of Kafka or storage again, from its checkpoint, once its wait is over. */
    private void retryIfDue(KafkaConsumer<String, byte[]> c) {
        Retry due = retry;
        if (due == null || System.nanoTime() < due.notBeforeNanos()) {
            return;
        }
        retry = null;
        if (c.assignment().contains(due.partition())) {
            c.seek(due.partition(), due.offset());
        }
    }

    private void commit(KafkaConsumer<String, byte[]> c, TopicPartition tp, long offset) {
        try {
            c.commitSync(Map.of(tp, new OffsetAndMetadata(offset + 1)), Duration.ofSeconds(10));
        } catch (RuntimeException e) {
            LOG.warn("{}: commit of {}@{} failed (the job will be redelivered, and skipped as finished): {}",
                    config.workerId(), tp, offset, e.toString());
        }
    }

    /** An unreadable job fails its training (when its key names one) with the reason; the record is committed. */
    private void refuse(ConsumerRecord<String, byte[]> record, InvalidMessageException e) {
        String reason = e.field() == null ? e.getMessage() : e.field() + ": " + e.getMessage();
        LOG.warn("{}: refusing training job {}-{}@{}: {}", config.workerId(), record.topic(), record.partition(),
                record.offset(), reason);
        String key = record.key();
        if (key == null || key.isEmpty()) {
            return;
        }
        TrainingStatus known = view.get(key).orElse(null);
        if (known == null || known.state().terminal()) {
            return; // nothing to mark: no status of its own, or one that a real run already finished
        }
        TrainingStatus failed = known.failed("invalid_message", reason, Instant.now());
        try {
            producer.send(new ProducerRecord<>(Topics.TRAINING_STATUS, key, Messages.encode(failed)))
                    .get(30, TimeUnit.SECONDS);
            view.apply(failed);
        } catch (Exception sendFailure) {
            LOG.warn("{}: cannot mark training {} failed: {}", config.workerId(), key, sendFailure.toString());
        }
    }

    private static void awaitQuietly(Future<?> f) {
        try {
            f.get(3, TimeUnit.MINUTES);
        } catch (Exception e) {
            // the outcome is read (or given up on) by the caller
        }
    }
}
