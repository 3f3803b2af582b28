package dalle2.decoder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import dalle2.embedded.EmbeddedServersExtension;
import dalle2.embedded.ThreadCpu;
import dalle2.embedded.TopicRecords;
import dalle2.inference.DallE2;
import dalle2.inference.DecodeTask;
import dalle2.inference.ImageDecoderModel;
import dalle2.inference.ImageTensors;
import dalle2.inference.ModelProvider;
import dalle2.inference.TinyModels;
import dalle2.json.Json;
import dalle2.kafka.KafkaClients;
import dalle2.kafka.Topics;
import dalle2.messages.DeadLetter;
import dalle2.messages.GenerationRequest;
import dalle2.messages.ImageEmbeddings;
import dalle2.messages.JobState;
import dalle2.messages.JobStatus;
import dalle2.messages.LowResImages;
import dalle2.messages.Messages;
import dalle2.messages.SamplingParams;
import dalle2.models.DecoderConfig;
import dalle2.pipeline.RetryPolicy;
import dalle2.pipeline.StageWorker;
import dalle2.pipeline.StatusView;
import dalle2.sampling.DdimSampler;
import dalle2.storage.ObjectStore;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * One decoder worker at a time (they share the decoder group) on a real in-JVM broker and S3Proxy, with the tiny
 * real decoder: what a decoder does with mis-keyed records, with a storage that fails, and with cancellations
 * that arrive while its model runs. Jobs are produced straight to the embeddings topic (no prior needed).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class DecoderWorkerTest {

    @RegisterExtension
    static final EmbeddedServersExtension servers = EmbeddedServersExtension.kafkaAndS3();

    private ModelProvider models;
    private int dim;
    private KafkaProducer<String, byte[]> producer;
    private StatusView view;

    @BeforeAll
    void start() throws Exception {
        Path dir = TinyModels.write(Files.createTempDirectory("decoder-worker-test"));
        models = DallE2.provider(dir);
        dim = Json.readFile(dir.resolve(DallE2.DECODER_DIR).resolve(DecoderConfig.FILE_NAME), DecoderConfig.class)
                .conditionDim();
        servers.createTopics(1, 2, 2);
        producer = servers.closeAfterAll(KafkaClients.producer(servers.bootstrap(), "test"));
        view = servers.closeAfterAll(new StatusView(servers.bootstrap(), 10_000, "test").start());
        assertTrue(view.awaitCaughtUp(Duration.ofSeconds(30)));
    }

    // ---- record key = job id -----------------------------------------------------------------------------------

    @Test
    void anEmbeddingsRecordKeyedByAnotherIdOrByNothingIsDeadLetteredAndItsJobFailsNamingBoth() throws Exception {
        try (Worker w = worker("keys", bucket("keys"), RetryPolicy.NONE, 1, Duration.ofMillis(20))) {
            String jobId = "mis-keyed-" + UUID.randomUUID();
            produce(Topics.EMBEDDINGS, "someone-else", Messages.encode(embeddings(jobId, 1, 2)));
            String keyless = "keyless-" + UUID.randomUUID();
            produce(Topics.EMBEDDINGS, null, Messages.encode(embeddings(keyless, 1, 2)));

            DeadLetter letter = awaitDeadLetter(jobId);
            assertEquals(Topics.EMBEDDINGS, letter.topic());
            assertEquals("someone-else", letter.key(), "the original key is kept");
            assertTrue(letter.reason().contains("someone-else") && letter.reason().contains(jobId), letter.reason());
            JobStatus failed = awaitState(jobId, JobState.FAILED);
            assertEquals("invalid_key", failed.error().code());
            assertTrue(failed.error().message().contains("someone-else"), failed.error().message());
            assertEquals(1, failed.request().n(), "the status carries the body's parameters");

            assertTrue(awaitDeadLetter(keyless).reason().contains("no key"));
            assertEquals("invalid_key", awaitState(keyless, JobState.FAILED).error().code());
            assertEquals(0, w.worker.stats().images(), "nothing was drawn for either record");
            assertTrue(w.store.stat(jobId + "/0.png").isEmpty());
        }
    }

    @Test
    void anEmbeddingOfAnotherWidthFailsOnlyItsOwnJobNotTheJobsBatchedWithIt() throws Exception {
        // a batch of up to 8 waiting 500 ms: all three jobs would share one model call
        try (Worker w = worker("widths", bucket("widths"), RetryPolicy.NONE, 8, Duration.ofMillis(500))) {
            String before = "good-before-" + UUID.randomUUID();
            String wrong = "wrong-width-" + UUID.randomUUID();
            String after = "good-after-" + UUID.randomUUID();
            int realDim = dim;
            produce(Topics.EMBEDDINGS, before, Messages.encode(embeddings(before, 2, 2)));
            dim = realDim + 3;
            ImageEmbeddings wide;
            try {
                wide = embeddings(wrong, 1, 2);
            } finally {
                dim = realDim;
            }
            produce(Topics.EMBEDDINGS, wrong, Messages.encode(wide));
            produce(Topics.EMBEDDINGS, after, Messages.encode(embeddings(after, 1, 2)));

            JobStatus failed = awaitState(wrong, JobState.FAILED);
            assertEquals("invalid_message", failed.error().code());
            assertTrue(failed.error().message().contains((realDim + 3) + "-d"), failed.error().message());
            assertEquals(JobState.SUCCEEDED, awaitState(before, JobState.SUCCEEDED).state());
            assertEquals(JobState.SUCCEEDED, awaitState(after, JobState.SUCCEEDED).state());
            assertTrue(awaitDeadLetter(wrong).reason().contains("takes " + realDim + "-d"));
            assertEquals(3, w.worker.stats().images(), "the good jobs' images, and none for the bad one");
        }
    }

    // ---- sizes above the decoder's: the upsampler pool's work --------------------------------------------------

    @Test
    void aJobLargerThanTheDecodersImagesHandsItsBaseImagesToTheUpsamplersInsteadOfStoringThem() throws Exception {
        try (Worker w = worker("handoff", bucket("handoff"), RetryPolicy.NONE, 2, Duration.ofMillis(20))) {
            String large = "handoff-256-" + UUID.randomUUID();
            String base = "handoff-32-" + UUID.randomUUID();
            ImageEmbeddings m = embeddings(large, 2, 2);
            produce(Topics.EMBEDDINGS, large, Messages.encode(new ImageEmbeddings(null, large,
                    m.request().withSize(256), m.priorModelVersion(), m.dim(), m.embeddings(), m.priorStartedAt(),
                    m.priorFinishedAt())));
            produce(Topics.EMBEDDINGS, base, Messages.encode(new ImageEmbeddings(null, base,
                    m.request().withJobId(base), m.priorModelVersion(), m.dim(), m.embeddings(), m.priorStartedAt(),
                    m.priorFinishedAt())));

            LowResImages handed = TopicRecords.awaitFirst(servers.bootstrap(), Topics.LOWRES, large,
                    LowResImages.class, Duration.ofSeconds(60));
            assertEquals(TinyModels.IMAGE_SIZE, handed.size());
            assertEquals(256, handed.request().size());
            assertEquals(2, handed.images().size());
            assertEquals(w.model.version(), handed.models().get("decoder"));
            assertEquals("test-prior", handed.models().get("prior"));
            JobStatus decoded = awaitState(large, JobState.DECODING);
            assertEquals(new JobStatus.Progress("decoder", 2, 2), decoded.progress(), "the decoder is done");
            assertTrue(w.store.stat(large + "/0.png").isEmpty(), "the upsampler stores this job's images");

            JobStatus done = awaitState(base, JobState.SUCCEEDED);
            assertEquals(List.of(base + "/0.png", base + "/1.png"), done.imageKeys());
            for (int k = 0; k < 2; k++) {
                try (java.io.InputStream png = w.store.get(base + "/" + k + ".png").orElseThrow()) {
                    BufferedImage stored = javax.imageio.ImageIO.read(png);
                    assertArrayEquals(ImageTensors.rgbBytes(stored), handed.rgb(k),
                            "the base image of a larger job is the image of the size-32 job, pixel for pixel");
                }
            }
            assertTrue(TopicRecords.all(servers.bootstrap(), Topics.LOWRES, base, LowResImages.class).isEmpty(),
                    "a job of the decoder's size goes straight to storage");
        }
    }

    // ---- retries of storage ------------------------------------------------------------------------------------

    @Test
    void anImageThatCannotBeStoredAtFirstIsStoredByALaterTryAndTheJobSucceeds() throws Exception {
        String bucket = bucket("missing-late");   // created once the worker has failed to store into it
        try (Worker w = worker("late", bucket, new RetryPolicy(5, Duration.ofMillis(300), Duration.ofSeconds(3)), 1,
                Duration.ofMillis(20))) {
            String jobId = "late-bucket-" + UUID.randomUUID();
            produce(Topics.EMBEDDINGS, jobId, Messages.encode(embeddings(jobId, 1, 2)));
            await("a failed put is retried", () -> w.worker.stats().retries() >= 1, Duration.ofSeconds(60));
            w.store.ensureBucket();

            JobStatus done = awaitState(jobId, JobState.SUCCEEDED);
            assertEquals(List.of(jobId + "/0.png"), done.imageKeys());
            assertTrue(w.store.stat(jobId + "/0.png").isPresent(), "the PNG is in storage");
            assertEquals(0, w.worker.stats().jobsFailed());

            // the PNG says how it was made: prompt and parameters in its text chunks, read back from storage
            dalle2.messages.GenerationRequest request = embeddings(jobId, 1, 2).request();
            byte[] png;
            try (java.io.InputStream in = w.store.get(jobId + "/0.png").orElseThrow()) {
                png = in.readAllBytes();
            }
            java.util.Map<String, String> text = dalle2.inference.PngParameters.read(png);
            assertEquals(request.prompt(), text.get(dalle2.inference.PngParameters.DESCRIPTION));
            var params = dalle2.json.Json.mapper().readTree(text.get(dalle2.inference.PngParameters.PARAMETERS));
            assertEquals(request.seed().longValue(), params.path("seed").asLong());
            assertEquals(request.decoderSteps().intValue(), params.path("decoder_steps").asInt());
            assertEquals(request.decoderGuidance(), params.path("decoder_guidance").asDouble());
            assertEquals(request.sampler(), params.path("sampler").asText());
            assertEquals(32, params.path("size").asInt());
            assertEquals(0, params.path("index").asInt());
            assertEquals(done.models().get("decoder"), params.path("models").path("decoder").asText(),
                    "the model versions, as the status names them");
            assertEquals(done.models().get("prior"), params.path("models").path("prior").asText());
        }
    }

    @Test
    void aStoreThatKeepsFailingFailsTheJobWithAStorageErrorAfterTheBoundedTries() throws Exception {
        RetryPolicy retry = new RetryPolicy(3, Duration.ofMillis(100), Duration.ofSeconds(1));
        try (Worker w = worker("never", bucket("missing-never"), retry, 1, Duration.ofMillis(20))) {
            String jobId = "no-bucket-" + UUID.randomUUID();
            produce(Topics.EMBEDDINGS, jobId, Messages.encode(embeddings(jobId, 1, 2)));
            JobStatus failed = awaitState(jobId, JobState.FAILED);
            assertEquals("storage_error", failed.error().code());
            assertEquals("cannot store image 0 after 3 tries: NoSuchBucket: The specified bucket does not exist",
                    failed.error().message());
            assertEquals(2, w.worker.stats().retries(), "tried 3 times in all");
            Duration took = Duration.between(Instant.parse(failed.timestamps().decoderStartedAt()),
                    Instant.parse(failed.timestamps().finishedAt()));
            assertTrue(took.compareTo(Duration.ofSeconds(20)) < 0, "failed in bounded time: " + took);
        }
    }

    // ---- cancelling a running batch ----------------------------------------------------------------------------

    @Test
    void cancellingTheOnlyJobOfARunningBatchStopsTheModelWithinAFewStepsAndTheJobStaysCancelled() throws Exception {
        int steps = GenerationRequest.MAX_STEPS;
        try (Worker w = worker("cancel", bucket("cancel"), RetryPolicy.NONE, 1, Duration.ofMillis(20))) {
            String jobId = "cancel-running-" + UUID.randomUUID();
            produce(Topics.EMBEDDINGS, jobId, Messages.encode(embeddings(jobId, 1, steps)));
            await("the decode is under way", () -> w.model.step.get() >= 5, Duration.ofSeconds(60));
            cancel(jobId);
            int stepAtCancel = w.model.step.get();
            long cancelledAt = System.nanoTime();
            double secondsPerStep = (w.model.lastStepNanos - w.model.firstStepNanos) / 1e9 / (stepAtCancel - 1);

            await("the batch stops", () -> w.worker.stats().batchesStopped() == 1, Duration.ofSeconds(60));
            double stoppedAfter = (System.nanoTime() - cancelledAt) / 1e9;
            int stepAtStop = w.model.step.get();
            double fullDecode = secondsPerStep * steps;
            assertTrue(stepAtStop < steps / 2, "stopped at step " + stepAtStop + " of " + steps);
            assertTrue(stoppedAfter < fullDecode / 4, String.format(
                    "stopped %.2f s after the cancel; the whole decode takes ~%.1f s", stoppedAfter, fullDecode));
            System.out.printf("cancel at step %d, stopped at step %d of %d, %.2f s later (whole decode ~%.1f s)%n",
                    stepAtCancel, stepAtStop, steps, stoppedAfter, fullDecode);

            await("the job counts as skipped", () -> w.worker.stats().jobsSkipped() == 1, Duration.ofSeconds(10));
            assertEquals(0, w.worker.stats().jobsFailed(), "a cancelled batch is not a failure");
            Thread.sleep(300);
            assertEquals(JobState.CANCELLED, view.get(jobId).orElseThrow().state(), "the job stays cancelled");
            assertTrue(w.store.stat(jobId + "/0.png").isEmpty(), "no image for the cancelled job");
        }
    }

    @Test
    void cancellingOneJobOfARunningBatchLetsTheOtherFinishAndStoresNothingForTheCancelledOne() throws Exception {
        int steps = 40;
        try (Worker w = worker("survivor", bucket("survivor"), RetryPolicy.NONE, 2, Duration.ofSeconds(5))) {
            String cancelled = "batch-cancelled-" + UUID.randomUUID();
            String survivor = "batch-survivor-" + UUID.randomUUID();
            producer.send(new ProducerRecord<>(Topics.EMBEDDINGS, cancelled,
                    Messages.encode(embeddings(cancelled, 1, steps))));
            producer.send(new ProducerRecord<>(Topics.EMBEDDINGS, survivor,
                    Messages.encode(embeddings(survivor, 1, steps)))).get(30, TimeUnit.SECONDS);
            await("both jobs run in one batch", () -> w.model.batchSize.get() == 2 && w.model.step.get() >= 3,
                    Duration.ofSeconds(60));
            cancel(cancelled);

            JobStatus done = awaitState(survivor, JobState.SUCCEEDED);
            assertEquals(List.of(survivor + "/0.png"), done.imageKeys());
            assertEquals(steps, w.model.step.get(), "the batch ran to its last step");
            assertEquals(0, w.worker.stats().batchesStopped());
            assertEquals(1, w.worker.stats().batches(), "one batch held both jobs");
            await("the cancelled job counts as skipped", () -> w.worker.stats().jobsSkipped() == 1,
                    Duration.ofSeconds(10));
            assertEquals(JobState.CANCELLED, view.get(cancelled).orElseThrow().state());
            assertTrue(w.store.stat(survivor + "/0.png").isPresent());
            assertTrue(w.store.stat(cancelled + "/0.png").isEmpty(), "the cancelled job's image is not stored");
        }
    }

    // ---- a saturated worker -----------------------------------------------------------------------------------

    @Test
    void aSaturatedWorkerWaitsForItsModelWithoutSpinningAndLosesNoJobWhenItResumes() throws Exception {
        // produced before the worker starts: its first fetch holds more records than one poll hands over, so the
        // consumer still buffers records of the partitions it pauses (where the consumer's own poll would spin)
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            String id = "saturated-" + i + "-" + UUID.randomUUID();
            ids.add(id);
            producer.send(new ProducerRecord<>(Topics.EMBEDDINGS, id, Messages.encode(embeddings(id, 1, 2))));
        }
        producer.flush();
        CountDownLatch gate = new CountDownLatch(1);
        try (Worker w = worker("saturated", bucket("saturated"), RetryPolicy.NONE, 1, Duration.ofMillis(20), gate)) {
            await("the worker holds more images than its in-flight limit (2)", () -> w.worker.inFlightImages() > 2,
                    Duration.ofSeconds(30));
            double share = ThreadCpu.shareOfACore(Topics.DECODER_GROUP + "-saturated-poll", Duration.ofSeconds(2));
            System.out.printf("saturated worker's poll thread: %.1f%% of a core over 2 s%n", 100 * share);
            assertTrue(share < 0.2, String.format("the paused poll loop used %.0f%% of a core", 100 * share));

            gate.countDown();
            for (String id : ids) {
                awaitState(id, JobState.SUCCEEDED);
                assertTrue(w.store.stat(id + "/0.png").isPresent(), id + "'s image is stored");
            }
        }
    }

    // ---- helpers -----------------------------------------------------------------------------------------------

    /** A decoder worker, its store and its model, closed together. */
    private final class Worker implements AutoCloseable {
        final DecoderWorker worker;
        final ObjectStore store;
        final StepWatch model;

        Worker(DecoderWorker worker, ObjectStore store, StepWatch model) {
            this.worker = worker;
            this.store = store;
            this.model = model;
        }

        @Override
        public void close() {
            worker.close();
            store.close();
        }
    }

    /** A worker storing into {@code bucket}, which exists unless its name says "missing". */
    private Worker worker(String id, String bucket, RetryPolicy retry, int maxBatch, Duration maxWait)
            throws Exception {
        return worker(id, bucket, retry, maxBatch, maxWait, new CountDownLatch(0));
    }

    /** A worker whose model calls wait until {@code gate} opens. */
    private Worker worker(String id, String bucket, RetryPolicy retry, int maxBatch, Duration maxWait,
                          CountDownLatch gate) throws Exception {
        ObjectStore store = new ObjectStore(servers.storage(bucket));
        if (!bucket.startsWith("missing")) {
            store.ensureBucket();
        }
        StepWatch model = new StepWatch(models.decoderModel(Device.cpu()), gate);
        StageWorker.Config config = StageWorker.Config.defaults(servers.bootstrap(), id, maxBatch)
                .withMaxWait(maxWait).withRetry(retry);
        DecoderWorker worker = new DecoderWorker(config, model, store);
        worker.start(Duration.ofSeconds(30));
        await("the worker owns the embeddings partitions", () -> worker.assignedPartitions() == 2,
                Duration.ofSeconds(30));
        return new Worker(worker, store, model);
    }

    /** The real decoder, watched: which step of which batch size it is at, and when steps finished. */
    static final class StepWatch implements ImageDecoderModel {
        final ImageDecoderModel model;
        final AtomicInteger step = new AtomicInteger();
        final AtomicInteger batchSize = new AtomicInteger();
        volatile long firstStepNanos;
        volatile long lastStepNanos;
        private final CountDownLatch gate;

        StepWatch(ImageDecoderModel model, CountDownLatch gate) {
            this.model = model;
            this.gate = gate;
        }

        @Override
        public String version() {
            return model.version();
        }

        @Override
        public int imageSize() {
            return model.imageSize();
        }

        @Override
        public int embeddingDim() {
            return model.embeddingDim();
        }

        @Override
        public List<BufferedImage> decode(SamplingParams params, List<DecodeTask> tasks,
                                          DdimSampler.Progress progress) {
            try {
                gate.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted at the gate", e);
            }
            step.set(0);
            batchSize.set(tasks.size());
            return model.decode(params, tasks, (done, total) -> {
                long now = System.nanoTime();
                if (done == 1) {
                    firstStepNanos = now;
                }
                lastStepNanos = now;
                step.set(done);
                progress.onStep(done, total);
            });
        }

        @Override
        public void close() {
            model.close();
        }
    }

    private static String bucket(String name) {
        return name + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    private ImageEmbeddings embeddings(String jobId, int n, int decoderSteps) {
        GenerationRequest r = GenerationRequest.of(jobId, "a red apple", n, 7L, 2, decoderSteps, 0.0, 1.0, 1.0,
                Instant.now(), null);
        Random random = new Random(jobId.hashCode());
        List<float[]> vectors = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            float[] v = new float[dim];
            double norm = 0;
            for (int i = 0; i < dim; i++) {
                v[i] = (float) random.nextGaussian();
                norm += v[i] * v[i];
            }
            for (int i = 0; i < dim; i++) {
                v[i] /= (float) Math.sqrt(norm);
            }
            vectors.add(v);
        }
        return ImageEmbeddings.of(r, "test-prior", vectors, Instant.now(), Instant.now());
    }

    /** What the gateway's DELETE does: a cancelled status on the status topic. */
    private void cancel(String jobId) throws Exception {
        JobStatus now = view.get(jobId).orElseThrow();
        produce(Topics.STATUS, jobId, Messages.encode(now.cancelled(Instant.now())));
    }

    private void produce(String topic, String key, byte[] value) throws Exception {
        producer.send(new ProducerRecord<>(topic, key, value)).get(30, TimeUnit.SECONDS);
    }

    private JobStatus awaitState(String jobId, JobState state) throws InterruptedException {
        await(jobId + " becomes " + state.wire(),
                () -> view.get(jobId).map(s -> s.state() == state).orElse(false), Duration.ofSeconds(60));
        return view.get(jobId).orElseThrow();
    }

    private static void await(String what, BooleanSupplier condition, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(10);
        }
    }

    private DeadLetter awaitDeadLetter(String key) {
        return TopicRecords.awaitDeadLetter(servers.bootstrap(), key, Duration.ofSeconds(30));
    }
}
