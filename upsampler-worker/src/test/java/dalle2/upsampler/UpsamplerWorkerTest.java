package dalle2.upsampler;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import dalle2.embedded.EmbeddedServersExtension;
import dalle2.embedded.TopicRecords;
import dalle2.inference.DallE2;
import dalle2.inference.ImageUpsamplerModel;
import dalle2.inference.ModelProvider;
import dalle2.inference.TinyModels;
import dalle2.inference.UpsampleTask;
import dalle2.kafka.KafkaClients;
import dalle2.kafka.Topics;
import dalle2.messages.DeadLetter;
import dalle2.messages.GenerationRequest;
import dalle2.messages.JobState;
import dalle2.messages.JobStatus;
import dalle2.messages.LowResImages;
import dalle2.messages.Messages;
import dalle2.pipeline.RetryPolicy;
import dalle2.pipeline.StageWorker;
import dalle2.pipeline.StatusView;
import dalle2.sampling.DdimSampler;
import dalle2.storage.ObjectStore;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * One upsampler worker at a time (they share the upsampler group) on a real in-JVM broker and S3Proxy, with a
 * tiny real 32 → 256 upsampler (random weights, two DDIM steps). Jobs are produced straight to the low-resolution
 * topic (no prior or decoder needed), their base images random pixels.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class UpsamplerWorkerTest {

    @RegisterExtension
    static final EmbeddedServersExtension servers = EmbeddedServersExtension.kafkaAndS3();

    private ModelProvider models;
    private KafkaProducer<String, byte[]> producer;
    private StatusView view;

    @BeforeAll
    void start() throws Exception {
        models = DallE2.provider(TinyModels.writeWithUpsampler(Files.createTempDirectory("upsampler-worker-test")));
        servers.createTopics(1, 2, 2);
        producer = servers.closeAfterAll(KafkaClients.producer(servers.bootstrap(), "test"));
        view = servers.closeAfterAll(new StatusView(servers.bootstrap(), 10_000, "test").start());
        assertTrue(view.awaitCaughtUp(Duration.ofSeconds(30)));
    }

    @Test
    void aJobBecomesUpsamplingWithTheUpsamplersProgressThenSucceedsWith256PxPngsAtTheDecodersKeys() throws Exception {
        try (Worker w = worker("done", 2, Duration.ofMillis(20))) {
            String jobId = "upsampled-" + UUID.randomUUID();
            produce(Topics.LOWRES, jobId, Messages.encode(lowRes(jobId, 2, 256, 7L, 1)));

            JobStatus done = awaitState(jobId, JobState.SUCCEEDED);
            assertEquals(List.of(jobId + "/0.png", jobId + "/1.png"), done.imageKeys());
            assertEquals(w.model.version(), done.models().get("upsampler"));
            assertEquals("test-decoder", done.models().get("decoder"), "the earlier stages' versions are kept");
            for (String key : done.imageKeys()) {
                BufferedImage png = read(w.store, key);
                assertEquals(256, png.getWidth());
                assertEquals(256, png.getHeight());
            }
            List<JobStatus> statuses = TopicRecords.all(servers.bootstrap(), Topics.STATUS, jobId, JobStatus.class);
            JobStatus last = statuses.stream().filter(s -> s.state() == JobState.UPSAMPLING)
                    .reduce((a, b) -> b).orElseThrow(() -> new AssertionError("no upsampling status: " + statuses));
            assertEquals(UpsampleTask.STAGE, last.progress().stage());
            assertEquals(TinyModels.upsamplerConfig().samplingSteps(), last.progress().steps());
        }
    }

    @Test
    void aJobAloneAndTheSameJobBatchedWithJobsOfOtherSizesGiveIdenticalPngBytes() throws Exception {
        String alone = "alone-" + UUID.randomUUID();
        byte[] aloneBytes;
        try (Worker w = worker("alone", 1, Duration.ofMillis(20))) {
            produce(Topics.LOWRES, alone, Messages.encode(lowRes(alone, 1, 256, 11L, 5)));
            awaitState(alone, JobState.SUCCEEDED);
            aloneBytes = bytes(w.store, alone + "/0.png");
            assertEquals(1, w.model.largestBatch.get());
        }
        String batched = "batched-" + UUID.randomUUID();
        String other64 = "other-64-" + UUID.randomUUID();
        String other128 = "other-128-" + UUID.randomUUID();
        try (Worker w = worker("batched", 4, Duration.ofSeconds(3))) {
            producer.send(new ProducerRecord<>(Topics.LOWRES, other64, Messages.encode(lowRes(other64, 1, 64, 3L, 6))));
            producer.send(new ProducerRecord<>(Topics.LOWRES, batched,
                    Messages.encode(lowRes(batched, 1, 256, 11L, 5))));
            produce(Topics.LOWRES, other128, Messages.encode(lowRes(other128, 1, 128, 4L, 7)));
            awaitState(batched, JobState.SUCCEEDED);
            awaitState(other64, JobState.SUCCEEDED);
            awaitState(other128, JobState.SUCCEEDED);
            assertTrue(w.model.largestBatch.get() >= 2, "the jobs shared a model call: " + w.model.largestBatch);
            assertArrayEquals(aloneBytes, bytes(w.store, batched + "/0.png"),
                    "the same base image and seed give the same PNG, alone or batched");
            assertEquals(64, read(w.store, other64 + "/0.png").getWidth());
            assertEquals(128, read(w.store, other128 + "/0.png").getWidth());
        }
    }

    @Test
    void aRedeliveredJobOverwritesTheObjectsAtItsDeterministicKeysWithTheSamePixels() throws Exception {
        try (Worker w = worker("redelivered", 1, Duration.ofMillis(20))) {
            String reference = "reference-" + UUID.randomUUID();
            produce(Topics.LOWRES, reference, Messages.encode(lowRes(reference, 1, 128, 31L, 13)));
            awaitState(reference, JobState.SUCCEEDED);

            // what a worker that died after storing (a stale or torn object) and before committing leaves behind
            String redelivered = "redelivered-" + UUID.randomUUID();
            w.store.putPng(redelivered + "/0.png", new byte[] {1, 2, 3});
            produce(Topics.LOWRES, redelivered, Messages.encode(lowRes(redelivered, 1, 128, 31L, 13)));
            awaitState(redelivered, JobState.SUCCEEDED);
            assertArrayEquals(bytes(w.store, reference + "/0.png"), bytes(w.store, redelivered + "/0.png"),
                    "the same base image and seed, drawn again into the same key");
            java.util.Map<String, String> text = dalle2.inference.PngParameters.read(bytes(w.store, reference + "/0.png"));
            var params = dalle2.json.Json.mapper().readTree(text.get(dalle2.inference.PngParameters.PARAMETERS));
            assertEquals(128, params.path("size").asInt(), "the upsampler's PNG names its own size");
            assertEquals(31L, params.path("seed").asLong());
            assertTrue(params.path("models").has("upsampler"), params.toString());
            assertEquals("dalle2", text.get(dalle2.inference.PngParameters.SOFTWARE));
        }
    }

    @Test
    void sizes64And128AreAreaAveragesOfThe256ImageOfTheSameBaseImageAndSeed() throws Exception {
        try (Worker w = worker("sizes", 4, Duration.ofMillis(500))) {
            Map<Integer, String> jobs = new java.util.LinkedHashMap<>();
            for (int size : new int[] {256, 128, 64}) {
                String jobId = "size-" + size + "-" + UUID.randomUUID();
                jobs.put(size, jobId);
                produce(Topics.LOWRES, jobId, Messages.encode(lowRes(jobId, 1, size, 21L, 9)));
            }
            for (String jobId : jobs.values()) {
                awaitState(jobId, JobState.SUCCEEDED);
            }
            BufferedImage full = read(w.store, jobs.get(256) + "/0.png");
            for (int size : new int[] {128, 64}) {
                BufferedImage small = read(w.store, jobs.get(size) + "/0.png");
                assertEquals(size, small.getWidth());
                // averaging 8-bit pixels or averaging first and rounding once differ by at most one level
                assertTrue(maxChannelDifference(areaAverage(full, size), small) <= 1, "size " + size);
            }
        }
    }

    @Test
    void aPoisonLowResRecordIsDeadLetteredWithTheReasonAndItsJobFails() throws Exception {
        try (Worker w = worker("poison", 1, Duration.ofMillis(20))) {
            String garbage = "garbage-" + UUID.randomUUID();
            produce(Topics.LOWRES, garbage, "{\"images\": 12".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            DeadLetter letter = awaitDeadLetter(garbage);
            assertEquals(Topics.LOWRES, letter.topic());
            assertTrue(letter.reason().startsWith("images: wrong type for 'images'"), letter.reason());
            assertEquals("invalid_message", awaitState(garbage, JobState.FAILED).error().code());

            String truncated = "truncated-" + UUID.randomUUID();
            String json = new String(Messages.encode(lowRes(truncated, 1, 256, 1L, 2)),
                    java.nio.charset.StandardCharsets.UTF_8);
            String shortImage = java.util.Base64.getEncoder().encodeToString(new byte[100]);
            json = json.replaceFirst("\"images\":\\[\"[^\"]*\"\\]", "\"images\":[\"" + shortImage + "\"]");
            produce(Topics.LOWRES, truncated, json.getBytes(java.nio.charset.StandardCharsets.UTF_8));
            DeadLetter short100 = awaitDeadLetter(truncated);
            assertTrue(short100.reason().startsWith("images: image 0 has 100 bytes"), short100.reason());
            JobStatus failed = awaitState(truncated, JobState.FAILED);
            assertEquals("invalid_message", failed.error().code());
            assertEquals(short100.reason(), failed.error().message());

            String wrongSide = "wrong-side-" + UUID.randomUUID();
            GenerationRequest r = GenerationRequest.of(wrongSide, "a red apple", 1, 1L, 2, 2, 0.0, 1.0, 1.0, null, 256,
                    Instant.now(), null);
            produce(Topics.LOWRES, wrongSide, Messages.encode(LowResImages.of(r, Map.of(),
                    JobStatus.Timestamps.submitted(r.submittedAt()), 16, List.of(new byte[16 * 16 * 3]))));
            DeadLetter side = awaitDeadLetter(wrongSide);
            assertTrue(side.reason().contains("base images are 16 px") && side.reason().contains("takes 32 px"),
                    side.reason());
            assertEquals("invalid_message", awaitState(wrongSide, JobState.FAILED).error().code());
            assertEquals(0, w.worker.stats().images(), "nothing was drawn for any of them");
            assertEquals(3, w.worker.stats().deadLetters());
        }
    }

    // ---- helpers -----------------------------------------------------------------------------------------------

    /** An upsampler worker, its store and its model, closed together. */
    private final class Worker implements AutoCloseable {
        final UpsamplerWorker worker;
        final ObjectStore store;
        final BatchWatch model;

        Worker(UpsamplerWorker worker, ObjectStore store, BatchWatch model) {
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

    private Worker worker(String id, int maxBatch, Duration maxWait) throws Exception {
        ObjectStore store = new ObjectStore(servers.storage("upsampled-" + id));
        store.ensureBucket();
        BatchWatch model = new BatchWatch(models.upsamplerModel(Device.cpu()));
        StageWorker.Config config = StageWorker.Config.defaults(servers.bootstrap(), id, maxBatch)
                .withMaxWait(maxWait).withRetry(RetryPolicy.NONE);
        UpsamplerWorker worker = new UpsamplerWorker(config, model, store);
        worker.start(Duration.ofSeconds(30));
        await("the worker owns the low-resolution partitions", () -> worker.assignedPartitions() == 2,
                Duration.ofSeconds(30));
        return new Worker(worker, store, model);
    }

    /** The real upsampler, watched: the largest batch it was given. */
    static final class BatchWatch implements ImageUpsamplerModel {
        final ImageUpsamplerModel model;
        final AtomicInteger largestBatch = new AtomicInteger();

        BatchWatch(ImageUpsamplerModel model) {
            this.model = model;
        }

        @Override
        public String version() {
            return model.version();
        }

        @Override
        public int lowResSize() {
            return model.lowResSize();
        }

        @Override
        public int imageSize() {
            return model.imageSize();
        }

        @Override
        public int steps() {
            return model.steps();
        }

        @Override
        public List<BufferedImage> upsample(List<UpsampleTask> tasks, DdimSampler.Progress progress) {
            largestBatch.accumulateAndGet(tasks.size(), Math::max);
            return model.upsample(tasks, progress);
        }

        @Override
        public void close() {
            model.close();
        }
    }

    /** A job's base images: random pixels drawn from {@code pixels}, the same for the same arguments. */
    private static LowResImages lowRes(String jobId, int n, int size, long seed, long pixels) {
        GenerationRequest r = GenerationRequest.of(jobId, "a red apple", n, seed, 2, 2, 0.0, 1.0, 1.0, null, size,
                Instant.now(), null);
        Random random = new Random(pixels);
        List<byte[]> images = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            byte[] rgb = new byte[32 * 32 * 3];
            random.nextBytes(rgb);
            images.add(rgb);
        }
        return LowResImages.of(r, Map.of("prior", "test-prior", "decoder", "test-decoder"),
                JobStatus.Timestamps.submitted(r.submittedAt()), 32, images);
    }

    /** The mean of each {@code f × f} block of 8-bit pixels, rounded. */
    private static BufferedImage areaAverage(BufferedImage image, int size) {
        int f = image.getWidth() / size;
        BufferedImage out = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                int[] sum = new int[3];
                for (int dy = 0; dy < f; dy++) {
                    for (int dx = 0; dx < f; dx++) {
                        int rgb = image.getRGB(x * f + dx, y * f + dy);
                        sum[0] += (rgb >> 16) & 0xFF;
                        sum[1] += (rgb >> 8) & 0xFF;
                        sum[2] += rgb & 0xFF;
                    }
                }
                int r = Math.round(sum[0] / (float) (f * f));
                int g = Math.round(sum[1] / (float) (f * f));
                int b = Math.round(sum[2] / (float) (f * f));
                out.setRGB(x, y, (r << 16) | (g << 8) | b);
            }
        }
        return out;
    }

    private static int maxChannelDifference(BufferedImage a, BufferedImage b) {
        int max = 0;
        for (int y = 0; y < a.getHeight(); y++) {
            for (int x = 0; x < a.getWidth(); x++) {
                int p = a.getRGB(x, y);
                int q = b.getRGB(x, y);
                for (int shift = 0; shift <= 16; shift += 8) {
                    max = Math.max(max, Math.abs(((p >> shift) & 0xFF) - ((q >> shift) & 0xFF)));
                }
            }
        }
        return max;
    }

    private static byte[] bytes(ObjectStore store, String key) throws Exception {
        try (InputStream in = store.get(key).orElseThrow(() -> new AssertionError(key + " is not in storage"))) {
            return in.readAllBytes();
        }
    }

    private static BufferedImage read(ObjectStore store, String key) throws Exception {
        return ImageIO.read(new ByteArrayInputStream(bytes(store, key)));
    }

    private void produce(String topic, String key, byte[] value) throws Exception {
        producer.send(new ProducerRecord<>(topic, key, value)).get(30, TimeUnit.SECONDS);
    }

    private JobStatus awaitState(String jobId, JobState state) throws InterruptedException {
        await(jobId + " becomes " + state.wire(),
                () -> view.get(jobId).map(s -> s.state() == state).orElse(false), Duration.ofSeconds(90));
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
