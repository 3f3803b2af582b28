package dalle2.trainer.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle2.embedded.EmbeddedServersExtension;
import dalle2.embedded.ThreadCpu;
import dalle2.kafka.KafkaClients;
import dalle2.kafka.Topics;
import dalle2.messages.TrainingRequest;
import dalle2.messages.TrainingState;
import dalle2.messages.TrainingStatus;
import dalle2.pipeline.TrainingStatusView;
import dalle2.registry.ModelRegistry;
import dalle2.ops.WorkerOpsServer;
import dalle2.storage.ObjectStore;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A trainer worker on the embedded broker and S3 server: jobs in, statuses, checkpoints and models out. The last
 * test closes the worker mid-run, so it runs last.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class TrainerWorkerTest {

    @RegisterExtension
    static final EmbeddedServersExtension servers = EmbeddedServersExtension.kafkaAndS3();

    @TempDir
    static Path dir;

    static ObjectStore store;
    static KafkaProducer<String, byte[]> producer;
    static TrainingStatusView view;
    static TrainerWorker worker;
    /** The ops endpoints of {@link #worker}, as {@code dalle2 trainer-worker} serves them. */
    static WorkerOpsServer ops;
    static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    /** The shipped CLIP: prior and decoder jobs train on its embeddings. */
    static final Path CLIP = Path.of("..", "trained_models", "clip");
    /** What the first test published, for the test that starts from it. */
    static String firstClipVersion;
    static double firstClipFirstLoss;

    @BeforeAll
    static void startWorker() throws Exception {
        TrainingFixtures.writeSquares(dir.resolve("data"));
        TrainingFixtures.createTopics(servers.bootstrap());
        store = servers.closeAfterAll(new ObjectStore(servers.storage("trainer-test")));
        store.ensureBucket();
        producer = servers.closeAfterAll(KafkaClients.producer(servers.bootstrap(), "test-producer"));
        view = servers.closeAfterAll(new TrainingStatusView(servers.bootstrap(), 100, "test").start());
        worker = servers.closeAfterAll(new TrainerWorker(new TrainerWorker.Config(servers.bootstrap(), "trainer-a",
                dir.resolve("data"), dir.resolve("work"), CLIP, Duration.ofSeconds(30)), store).start());
        ops = servers.closeAfterAll(WorkerOpsServer.start("127.0.0.1", 0, servers.bootstrap()));
        ops.watch(new TrainerWorkerWatch(worker));
    }

    private static HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(ops.url() + path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** The value of the series of {@code name} whose labels include {@code labels}, from the Prometheus text. */
    private static double metric(String text, String name, String labels) {
        return text.lines().filter(l -> l.startsWith(name + "{") && l.contains(labels)).findFirst()
                .map(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1)))
                .orElseThrow(() -> new AssertionError("no " + name + " with " + labels + " in:\n" + text));
    }

    @Test
    @Order(1)
    void aJobTrainsReportsItsLossesCheckpointsToStorageAndPublishesItsModel() throws Exception {
        TrainingRequest job = TrainingFixtures.clipJob("clip-run-1", 6, 4);
        long jobOffset = TrainingFixtures.submit(producer, job);
        TrainingStatus done = TrainingFixtures.await(view, job.trainingId(), s -> s.state().terminal(),
                Duration.ofMinutes(2));

        assertEquals(TrainingState.SUCCEEDED, done.state(), String.valueOf(done.error()));
        assertEquals(6, done.step());
        assertEquals(6, done.losses().size(), "a loss every log_interval (1) steps");
        assertEquals(6L, done.checkpointStep(), "the final checkpoint is in storage too");
        assertEquals(1, done.attempts());
        assertEquals("trainer-a", done.worker());
        String version = done.publishedVersion();
        assertNotNull(version);
        assertTrue(version.startsWith("clip@"), version);
        String prefix = ModelRegistry.versionPrefix("clip", version);
        assertTrue(store.stat(prefix + ModelRegistry.MANIFEST).isPresent());
        assertTrue(store.stat(prefix + "weights.safetensors").isPresent());
        assertTrue(store.stat(prefix + "tokenizer.json").isPresent(), store.list(prefix).toString());
        var manifest = new ModelRegistry(store, producer).manifest("clip", version).orElseThrow();
        assertEquals(job.trainingId(), manifest.trainingId());
        assertTrue(manifest.evaluation().containsKey("final_loss"), manifest.evaluation().toString());
        assertTrue(manifest.files().containsKey("MODEL_CARD.md"), "a published version carries its card: "
                + manifest.files().keySet());
        try (java.io.InputStream card = store.get(ModelRegistry.versionPrefix("clip", version) + "MODEL_CARD.md")
                .orElseThrow()) {
            String text = new String(card.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            assertTrue(text.contains(job.trainingId()) && text.contains("| steps | 6 |") && text.contains("→"),
                    text);
        }
        firstClipVersion = version;
        firstClipFirstLoss = done.losses().get(0).loss();
        assertEquals(6, new CheckpointStore(store).latest(job.trainingId()).orElseThrow().step());
        // older checkpoints are gone once a newer one is named
        assertTrue(store.list(CheckpointStore.prefix(job.trainingId())).stream()
                .noneMatch(k -> k.contains("/step-4/")), store.list(CheckpointStore.prefix(job.trainingId())).toString());
        assertTrue(committedJobs() > jobOffset, "the finished job's record is committed");

        HttpResponse<String> ready = get(WorkerOpsServer.READY_PATH);
        assertEquals(200, ready.statusCode(), ready.body());
        assertTrue(ready.body().contains("\"trainer-a.status_view\":\"ok\""), ready.body());
        assertEquals(200, get(WorkerOpsServer.HEALTH_PATH).statusCode());
        String metrics = get(WorkerOpsServer.METRICS_PATH).body();
        assertEquals(1.0, metric(metrics, "dalle2_trainer_jobs_total", "outcome=\"finished\""), metrics);
        assertEquals(0.0, metric(metrics, "dalle2_trainer_busy", "worker=\"trainer-a\""));

        // the Grafana dashboard's trainer panels query series a trainer exports
        String dashboard = java.nio.file.Files.readString(Path.of("..", "deploy", "grafana", "dalle2-workers.json"));
        java.util.Set<String> queried = new java.util.TreeSet<>();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("dalle2_trainer_[a-z_]+").matcher(dashboard);
        while (m.find()) {
            queried.add(m.group());
        }
        assertTrue(queried.size() >= 4, "the dashboard shows the trainers: " + queried);
        for (String name : queried) {
            assertTrue(metrics.lines().anyMatch(l -> l.startsWith(name + "{")), name + " is not exported:\n" + metrics);
        }
        assertTrue(dashboard.contains("dalle2_consumer_group_lag{pool=\\\"trainer\\\"}"), "the trainer group's lag");
        assertTrue(metrics.contains("dalle2_consumer_group_lag{pool=\"trainer\"}"), metrics);
    }

    @Test
    @Order(2)
    void aJobTheTrainerRefusesFailsWithTheOptionNamedAndIsCommitted() throws Exception {
        TrainingRequest tooBig = TrainingRequest.of("clip-too-big", "clip", TrainingFixtures.DATASET, 3,
                Map.of("batch_size", 64, "warmup", 1), null, Instant.now());
        TrainingFixtures.submit(producer, tooBig);
        TrainingStatus failed = TrainingFixtures.await(view, tooBig.trainingId(), s -> s.state().terminal(),
                Duration.ofMinutes(1));
        assertEquals(TrainingState.FAILED, failed.state());
        assertEquals("invalid_request", failed.error().code());
        assertTrue(failed.error().message().contains("--batch-size"), failed.error().message());

        TrainingRequest missing = TrainingRequest.of("clip-no-data", "clip", "jsonl:nowhere", 3, Map.of("warmup", 1),
                null, Instant.now());
        TrainingFixtures.submit(producer, missing);
        TrainingStatus unavailable = TrainingFixtures.await(view, missing.trainingId(), s -> s.state().terminal(),
                Duration.ofMinutes(1));
        assertEquals("dataset_unavailable", unavailable.error().code(), unavailable.error().message());
    }

    @Test
    @Order(3)
    void aJobFromABaseVersionStartsFromItsWeightsAndItsVersionSaysSo() throws Exception {
        TrainingRequest base = TrainingFixtures.clipJob("clip-from-base", 2, 2);
        TrainingRequest fromBase = new TrainingRequest(null, base.trainingId(), "clip", base.dataset(), base.steps(),
                base.hyperParameters(), firstClipVersion, base.submittedAt(), null);
        TrainingFixtures.submit(producer, fromBase);
        TrainingStatus done = TrainingFixtures.await(view, fromBase.trainingId(), s -> s.state().terminal(),
                Duration.ofMinutes(2));
        assertEquals(TrainingState.SUCCEEDED, done.state(), String.valueOf(done.error()));
        assertTrue(done.losses().get(0).loss() != firstClipFirstLoss, "the first step starts from the base's weights");
        var manifest = new ModelRegistry(store, producer).manifest("clip", done.publishedVersion()).orElseThrow();
        assertEquals(firstClipVersion, manifest.lineage().baseVersion());

        TrainingRequest missing = new TrainingRequest(null, "clip-from-nothing", "clip", base.dataset(), 2L,
                base.hyperParameters(), "clip@000000000000", base.submittedAt(), null);
        TrainingFixtures.submit(producer, missing);
        TrainingStatus failed = TrainingFixtures.await(view, missing.trainingId(), s -> s.state().terminal(),
                Duration.ofMinutes(1));
        assertEquals("invalid_request", failed.error().code());
        assertTrue(failed.error().message().startsWith("base_version: no published clip version"),
                failed.error().message());
    }

    @Test
    @Order(4)
    void aDecoderJobTrainsOnTheWorkersClipAndItsVersionNamesThatClip() throws Exception {
        TrainingRequest job = TrainingRequest.of("decoder-run-1", "decoder", TrainingFixtures.DATASET, 2,
                Map.of("base_channels", 16, "channel_mult", java.util.List.of(1, 2), "attention", java.util.List.of(16),
                        "batch_size", 4, "warmup", 1, "log_interval", 1), null, Instant.now());
        TrainingFixtures.submit(producer, job);
        TrainingStatus done = TrainingFixtures.await(view, job.trainingId(), s -> s.state().terminal(),
                Duration.ofMinutes(2));
        assertEquals(TrainingState.SUCCEEDED, done.state(), String.valueOf(done.error()));
        var manifest = new ModelRegistry(store, producer).manifest("decoder", done.publishedVersion()).orElseThrow();
        assertEquals(dalle2.messages.ModelVersion.of("clip", CLIP), manifest.lineage().clipVersion());
    }

    @Test
    @Order(5)
    void anUpsamplerJobPutsItsSampleGridsInTheBucketAndNamesThemInItsStatus() throws Exception {
        TrainingRequest job = TrainingRequest.of("upsampler-run-1", "upsampler", TrainingFixtures.DATASET, 2,
                Map.ofEntries(Map.entry("image_size", 32), Map.entry("low_res_size", 16), Map.entry("base_channels", 8),
                        Map.entry("channel_mult", java.util.List.of(1, 2)), Map.entry("crop", 32),
                        Map.entry("batch_size", 4), Map.entry("warmup", 1), Map.entry("log_interval", 1),
                        Map.entry("sample_every", 2), Map.entry("sampling_steps", 2)), null, Instant.now());
        TrainingFixtures.submit(producer, job);
        TrainingStatus done = TrainingFixtures.await(view, job.trainingId(), s -> s.state().terminal(),
                Duration.ofMinutes(2));
        assertEquals(TrainingState.SUCCEEDED, done.state(), String.valueOf(done.error()));
        assertEquals(1, done.samples().size(), done.samples().toString());
        TrainingStatus.SampleGrid grid = done.samples().get(0);
        assertEquals(2, grid.step());
        assertEquals("trainings/upsampler-run-1/samples/step-2.png", grid.key());
        try (var png = store.get(grid.key()).orElseThrow()) {
            assertNotNull(javax.imageio.ImageIO.read(png), "the grid is a PNG");
        }
        assertTrue(done.publishedVersion().startsWith("upsampler@"), done.publishedVersion());
        var manifest = new ModelRegistry(store, producer).manifest("upsampler", done.publishedVersion()).orElseThrow();
        assertEquals(null, manifest.lineage().clipVersion(), "an upsampler sees pixels only");
    }

    @Test
    @Order(6)
    void aWorkerClosedMidRunLeavesItsJobUncommittedAndTheNextWorkerFinishesItFromItsCheckpoint() throws Exception {
        TrainingRequest job = TrainingFixtures.clipJob("clip-handed-over", 12, 3);
        long jobOffset = TrainingFixtures.submit(producer, job);
        TrainingStatus midRun = TrainingFixtures.await(view, job.trainingId(),
                s -> s.checkpointStep() != null && s.checkpointStep() >= 3, Duration.ofMinutes(2));
        String metrics = get(WorkerOpsServer.METRICS_PATH).body();
        assertEquals(1.0, metric(metrics, "dalle2_trainer_busy", "worker=\"trainer-a\""), metrics);
        assertEquals(12.0, metric(metrics, "dalle2_trainer_steps", "worker=\"trainer-a\""));
        double step = metric(metrics, "dalle2_trainer_step", "worker=\"trainer-a\"");
        assertTrue(step > 0 && step < 12, "the step of the run in progress: " + step + " (checkpointed "
                + midRun.checkpointStep() + ")");
        assertTrue(metric(metrics, "dalle2_trainer_loss", "worker=\"trainer-a\"") > 0, metrics);
        worker.close(); // as on SIGTERM: stop at a checkpoint, commit nothing, leave the group
        TrainingStatus handedOver = view.get(job.trainingId()).orElseThrow();
        assertEquals(TrainingState.RUNNING, handedOver.state());
        assertTrue(handedOver.step() < 12 && handedOver.checkpointStep() == handedOver.step(),
                "stopped with a checkpoint of its last step: " + handedOver.step() + " / " + handedOver.checkpointStep());
        assertTrue(committedJobs() <= jobOffset, "the job's record is not committed");
        assertEquals(1, worker.stats().handedOver());

        try (TrainerWorker next = new TrainerWorker(new TrainerWorker.Config(servers.bootstrap(), "trainer-b",
                dir.resolve("data"), dir.resolve("work-b"), null, Duration.ofSeconds(30)), store).start()) {
            TrainingStatus done = TrainingFixtures.await(view, job.trainingId(), s -> s.state().terminal(),
                    Duration.ofMinutes(2));
            assertEquals(TrainingState.SUCCEEDED, done.state(), String.valueOf(done.error()));
            assertEquals("trainer-b", done.worker());
            assertEquals(2, done.attempts());
            assertEquals(12, done.losses().size(), "each step's loss once, across the hand-over");
        }
        assertTrue(committedJobs() > jobOffset);
    }

    @Test
    @Order(7)
    void aJobWhoseCheckpointCannotBeStoredIsNotFailedButTriedAgainOnceStorageIsBack() throws Exception {
        // a bucket that does not exist yet: every upload fails as it would while the storage is away
        ObjectStore missing = servers.closeAfterAll(new ObjectStore(servers.storage("created-later")));
        TrainingRequest job = TrainingFixtures.clipJob("clip-storage-away", 3, 3);
        long jobOffset = TrainingFixtures.submit(producer, job);
        try (TrainerWorker patient = new TrainerWorker(new TrainerWorker.Config(servers.bootstrap(), "trainer-c",
                dir.resolve("data"), dir.resolve("work-c"), null, Duration.ofSeconds(30)), missing).start()) {
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
            while (patient.stats().handedOver() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(100);
            }
            assertEquals(1, patient.stats().handedOver(), "the failed upload left the job to be tried again");
            assertEquals(TrainingState.RUNNING, view.get(job.trainingId()).orElseThrow().state(),
                    "not failed: storage being away is not the job's fault");
            assertTrue(committedJobs() <= jobOffset, "and not committed");
            missing.ensureBucket();
            TrainingStatus done = TrainingFixtures.await(view, job.trainingId(), s -> s.state().terminal(),
                    Duration.ofMinutes(1));
            assertEquals(TrainingState.SUCCEEDED, done.state(), String.valueOf(done.error()));
            assertEquals(2, done.attempts());
        }
        assertTrue(committedJobs() > jobOffset);
    }

    @Test
    @Order(8)
    void aCancelledTrainingNeverStartsOrStopsWithinAStepPublishingNothing() throws Exception {
        TrainingRequest early = TrainingFixtures.clipJob("clip-cancelled-queued", 3, 3);
        TrainingFixtures.submit(producer, early);
        cancel(early.trainingId());
        TrainingRequest job = TrainingFixtures.clipJob("clip-cancelled-running", 400, 100);
        long jobOffset = TrainingFixtures.submit(producer, job);
        try (TrainerWorker cancelling = new TrainerWorker(new TrainerWorker.Config(servers.bootstrap(), "trainer-d",
                dir.resolve("data"), dir.resolve("work-d"), null, Duration.ofSeconds(30)), store).start()) {
            TrainingStatus running = TrainingFixtures.await(view, job.trainingId(),
                    s -> s.state() == TrainingState.RUNNING && s.step() >= 2, Duration.ofMinutes(2));
            assertEquals(1, cancelling.stats().skipped(), "the training cancelled while queued never started");
            cancel(job.trainingId());
            long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
            while (cancelling.stats().finished() == 0 && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertEquals(1, cancelling.stats().finished(), "the running training ended as cancelled");
            assertEquals(null, cancelling.currentTraining());
            TrainingStatus last = lastStatus(job.trainingId());
            assertEquals(TrainingState.CANCELLED, last.state(), "the worker's own last word is the cancellation");
            assertTrue(last.step() >= running.step() && last.step() < 400, "stopped within a few steps: " + last.step());
            assertEquals(null, last.publishedVersion());
            assertEquals(TrainingState.CANCELLED, lastStatus(early.trainingId()).state());
        }
        assertTrue(committedJobs() > jobOffset, "both records are committed: no worker takes them again");
    }

    @Test
    @Order(9)
    void aWorkerTrainingWithTheNextJobQueuedWaitsWithoutSpinningAndThenTakesIt() throws Exception {
        // both queued before the worker starts: its first fetch holds the second job's record too, which the
        // consumer keeps buffered while the partition is paused (where the consumer's own poll would spin)
        TrainingRequest first = TrainingFixtures.clipJob("clip-long-first", 400, 100);
        TrainingRequest second = TrainingFixtures.clipJob("clip-queued-second", 2, 2);
        TrainingFixtures.submit(producer, first);
        long secondOffset = TrainingFixtures.submit(producer, second);
        try (TrainerWorker busy = new TrainerWorker(new TrainerWorker.Config(servers.bootstrap(), "trainer-e",
                dir.resolve("data"), dir.resolve("work-e"), null, Duration.ofSeconds(30)), store).start()) {
            TrainingFixtures.await(view, first.trainingId(), s -> s.state() == TrainingState.RUNNING && s.step() >= 2,
                    Duration.ofMinutes(2));
            double share = ThreadCpu.shareOfACore("trainer-trainer-e-poll", Duration.ofSeconds(2));
            System.out.printf("training trainer's poll thread: %.1f%% of a core over 2 s%n", 100 * share);
            assertTrue(share < 0.2, String.format("the paused poll loop used %.0f%% of a core", 100 * share));
            assertEquals(TrainingState.QUEUED, view.get(second.trainingId()).orElseThrow().state(),
                    "one job at a time");

            cancel(first.trainingId());
            TrainingStatus done = TrainingFixtures.await(view, second.trainingId(), s -> s.state().terminal(),
                    Duration.ofMinutes(1));
            assertEquals(TrainingState.SUCCEEDED, done.state(), String.valueOf(done.error()));
            assertEquals("trainer-e", done.worker());
        }
        assertTrue(committedJobs() > secondOffset);
    }

    /** What DELETE /v1/trainings/{id} writes. */
    private static void cancel(String trainingId) throws Exception {
        TrainingStatus known = TrainingFixtures.await(view, trainingId, s -> true, Duration.ofSeconds(10));
        producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(Topics.TRAINING_STATUS, trainingId,
                dalle2.messages.Messages.encode(known.cancelled(Instant.now())))).get();
    }

    /** The last record of a training's key on the status topic: what a view reading from scratch ends with. */
    private static TrainingStatus lastStatus(String trainingId) {
        var all = dalle2.embedded.TopicRecords.all(servers.bootstrap(), Topics.TRAINING_STATUS, trainingId,
                TrainingStatus.class);
        assertTrue(!all.isEmpty(), "no status of " + trainingId);
        return all.get(all.size() - 1);
    }

    private static long committedJobs() throws Exception {
        try (Admin admin = KafkaClients.admin(servers.bootstrap(), "test-offsets")) {
            Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets(Topics.TRAINER_GROUP)
                    .partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
            OffsetAndMetadata o = offsets.get(new TopicPartition(Topics.TRAINING_JOBS, 0));
            return o == null ? 0 : o.offset();
        }
    }
}
