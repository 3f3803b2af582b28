package dalle2.trainer.worker;

import ai.djl.ndarray.NDManager;
import dalle2.data.DatasetException;
import dalle2.djl.DjlRuntime;
import dalle2.kafka.Topics;
import dalle2.messages.InvalidMessageException;
import dalle2.messages.Messages;
import dalle2.messages.ModelManifest;
import dalle2.messages.ModelVersion;
import dalle2.messages.TrainingRequest;
import dalle2.messages.TrainingStatus;
import dalle2.pipeline.TrainingStatusView;
import dalle2.registry.ModelRegistry;
import dalle2.storage.ObjectStore;
import dalle2.trainer.TrainingListener;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one training job from start (or its last checkpoint in object storage) to its published model, reporting
 * on the training status topic as it goes: running, the loss every {@code log_interval} steps, each checkpoint
 * once it is in object storage, each sample grid, then succeeded with the version or failed with the reason.
 */
final class TrainingJobRunner {

    private static final Logger LOG = LoggerFactory.getLogger(TrainingJobRunner.class);
    private static final long FINAL_STATUS_TIMEOUT_S = 30;

    /** How a job left this worker. */
    enum Outcome {
        /** Succeeded or failed, and its final status is acknowledged: its record may be committed. */
        FINISHED,
        /** Stopped before its end (the worker is closing or lost the job's partition): another worker resumes it. */
        HANDED_OVER
    }

    private final TrainerWorker.Config config;
    private final ObjectStore store;
    private final CheckpointStore checkpoints;
    private final ModelRegistry registry;
    private final Producer<String, byte[]> producer;
    private final TrainingStatusView view;
    private volatile TrainingRun current;
    private volatile boolean stopRequested;
    /** The training whose cancellation was asked for (its status says cancelled), or null. */
    private volatile String cancelRequested;

    TrainingJobRunner(TrainerWorker.Config config, ObjectStore store, ModelRegistry registry,
                      Producer<String, byte[]> producer, TrainingStatusView view) {
        this.config = config;
        this.store = store;
        this.checkpoints = new CheckpointStore(store);
        this.registry = registry;
        this.producer = producer;
        this.view = view;
    }

    /** Stops the job in progress after its current step, with a checkpoint in object storage. */
    void stop() {
        stopRequested = true;
        TrainingRun run = current;
        if (run != null) {
            run.stop();
        }
    }

    /**
     * Stops the training in progress after its current step, if it is {@code trainingId}, and ends it as
     * cancelled: nothing is published, its record may be committed. Asked again until the job has ended.
     */
    void cancel(String trainingId) {
        if (trainingId.equals(cancelRequested)) {
            return;
        }
        LOG.info("{}: training {} was cancelled; stopping it after its current step", config.workerId(), trainingId);
        cancelRequested = trainingId;
        TrainingRun run = current;
        if (run != null) {
            run.stop();
        }
    }

    /**
     * @throws StatusNotWritten            Kafka did not take a status the job cannot finish without
     * @throws ObjectStore.StorageException object storage failed: both are tried again later, from the checkpoint
     */
    Outcome run(TrainingRequest request) throws IOException, InterruptedException {
        stopRequested = false;
        String id = request.trainingId();
        TrainingStatus known = view.get(id).orElse(TrainingStatus.queued(request));
        Path runDir = config.workDir().resolve(id);
        deleteRecursively(runDir);
        Files.createDirectories(runDir);
        Status status = new Status(known);
        try {
            TrainingRun run = new TrainingRun(request, runDir, config.dataDir(), config.clipDir());
            run.checkOptions();
            OptionalLong resumed = checkpoints.download(id, runDir);
            long fromStep = resumed.orElse(0);
            TrainingStatus running = known.running(config.workerId(), fromStep, Instant.now());
            status.set(resumed.isPresent() ? running.checkpointed(fromStep, Instant.now()) : running);
            await(send(status.get()));
            LOG.info("{}: {} training {} {} at step {} of {}", config.workerId(), resumed.isPresent() ? "resuming"
                    : "starting", request.model(), id, fromStep, request.steps());
            Path base = request.baseVersion() != null && resumed.isEmpty() ? baseModel(request) : null;
            current = run;
            if (stopRequested || id.equals(cancelRequested)) {
                run.stop();
            }
            boolean finished;
            try (NDManager manager = DjlRuntime.newManager()) {
                finished = run.train(resumed.isPresent(), base, listener(id, runDir, status), manager);
            } finally {
                current = null;
            }
            if (id.equals(cancelRequested)) {
                // the last word on the topic: a progress status written after the gateway's cancel must not outlive it
                await(send(status.get().cancelled(Instant.now())));
                LOG.info("{}: training {} cancelled at step {}; nothing published", config.workerId(), id,
                        status.get().step());
                return Outcome.FINISHED;
            }
            if (!finished) {
                LOG.info("{}: training {} stopped at its checkpoint; another worker resumes it", config.workerId(), id);
                return Outcome.HANDED_OVER;
            }
            ModelRegistry.PublishInfo info = publishInfo(request, status.get());
            TrainingModelCard.write(run.modelDir(), request, status.get(), info.clipVersion(), config.workerId(),
                    Instant.now());
            String version = registry.publish(request.model(), run.modelDir(), info).version();
            await(send(status.get().succeeded(version, Instant.now())));
            LOG.info("{}: training {} succeeded: published {}", config.workerId(), id, version);
            return Outcome.FINISHED;
        } catch (InvalidMessageException e) {
            return fail(status, "invalid_request", (e.field() == null ? "" : e.field() + ": ") + e.getMessage());
        } catch (IllegalArgumentException e) {
            // the trainer's own checks (a value out of range, a batch larger than the data), naming the option
            return fail(status, "invalid_request", e.getMessage());
        } catch (DatasetException e) {
            return fail(status, "dataset_unavailable", e.getMessage());
        } catch (ObjectStore.StorageException | StatusNotWritten e) {
            // object storage or Kafka is away: the job is not at fault, so it is tried again from its checkpoint
            throw e;
        } catch (RuntimeException | IOException e) {
            LOG.error("{}: training {} failed", config.workerId(), id, e);
            return fail(status, "training_error", String.valueOf(e.getMessage()));
        } finally {
            deleteRecursively(runDir);
        }
    }

    private Outcome fail(Status status, String code, String reason) throws InterruptedException {
        LOG.warn("{}: training {} failed: {}", config.workerId(), status.get().trainingId(), reason);
        await(send(status.get().failed(code, reason == null ? "" : reason, Instant.now())));
        return Outcome.FINISHED;
    }

    private TrainingListener listener(String id, Path runDir, Status status) {
        return new TrainingListener() {
            @Override
            public void logged(long step, float loss, float learningRate) {
                status.set(status.get().progress(step, new TrainingStatus.LossPoint(step, loss, learningRate),
                        Instant.now()));
                send(status.get());
            }

            @Override
            public void checkpointed(long step) throws IOException {
                checkpoints.upload(id, runDir, step);
                status.set(status.get().progress(step, null, Instant.now()).checkpointed(step, Instant.now()));
                send(status.get());
            }

            @Override
            public void sampled(long step, Path png) throws IOException {
                String key = "trainings/" + id + "/samples/step-" + step + ".png";
                store.putPng(key, Files.readAllBytes(png));
                status.set(status.get().withSample(new TrainingStatus.SampleGrid(step, key), Instant.now()));
                send(status.get());
            }
        };
    }

    /** The published version a job starts from, fetched (and verified) into the worker's model cache. */
    private Path baseModel(TrainingRequest request) {
        ModelManifest manifest = registry.manifest(request.model(), request.baseVersion())
                .orElseThrow(() -> new InvalidMessageException("base_version", "no published " + request.model()
                        + " version " + request.baseVersion()));
        return registry.fetch(manifest, config.workDir().resolve("models"));
    }

    private ModelRegistry.PublishInfo publishInfo(TrainingRequest request, TrainingStatus status) {
        Map<String, Double> figures = new LinkedHashMap<>();
        figures.put("steps", (double) request.steps());
        if (!status.losses().isEmpty()) {
            figures.put("final_loss", status.losses().get(status.losses().size() - 1).loss());
        }
        boolean onClipEmbeddings = request.model().equals("prior") || request.model().equals("decoder");
        String clipVersion = onClipEmbeddings ? ModelVersion.of("clip", config.clipDir()) : null;
        return new ModelRegistry.PublishInfo(clipVersion, request.baseVersion(), request.trainingId(), figures);
    }

    /** The status the training thread keeps current (and the worker reads when it hands the job over). */
    private static final class Status {
        private volatile TrainingStatus value;

        Status(TrainingStatus value) {
            this.value = value;
        }

        TrainingStatus get() {
            return value;
        }

        void set(TrainingStatus next) {
            value = next;
        }
    }

    private Future<RecordMetadata> send(TrainingStatus status) {
        view.apply(status);
        return producer.send(new ProducerRecord<>(Topics.TRAINING_STATUS, status.trainingId(),
                Messages.encode(status)), (m, e) -> {
                    if (e != null) {
                        LOG.warn("{}: training status of {} not written: {}", config.workerId(),
                                status.trainingId(), e.toString());
                    }
                });
    }

    /** A status the job's record may not be committed without could not be written. */
    static final class StatusNotWritten extends RuntimeException {
        StatusNotWritten(String message, Throwable cause) {
            super(message, cause);
        }
    }

    private static void await(Future<RecordMetadata> sent) throws InterruptedException {
        try {
            sent.get(FINAL_STATUS_TIMEOUT_S, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            throw new StatusNotWritten("the training status was not written: " + e.getCause(), e.getCause());
        } catch (TimeoutException e) {
            throw new StatusNotWritten("the training status topic did not acknowledge within "
                    + FINAL_STATUS_TIMEOUT_S + " s", e);
        }
    }

    static void deleteRecursively(Path path) throws IOException {
        if (!Files.exists(path)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(path)) {
            for (Path p : (Iterable<Path>) walk.sorted(Comparator.reverseOrder())::iterator) {
                Files.delete(p);
            }
        }
    }
}
