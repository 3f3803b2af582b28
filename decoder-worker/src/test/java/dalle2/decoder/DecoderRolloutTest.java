package dalle2.decoder;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDManager;
import dalle2.djl.DjlRuntime;
import dalle2.embedded.EmbeddedServersExtension;
import dalle2.inference.DallE2;
import dalle2.inference.DecodeTask;
import dalle2.inference.ImageDecoderModel;
import dalle2.inference.ImageTensors;
import dalle2.inference.TinyModels;
import dalle2.json.Json;
import dalle2.kafka.KafkaClients;
import dalle2.kafka.Topics;
import dalle2.messages.GenerationRequest;
import dalle2.messages.ImageEmbeddings;
import dalle2.messages.JobState;
import dalle2.messages.JobStatus;
import dalle2.messages.Messages;
import dalle2.messages.ModelManifest;
import dalle2.messages.ModelPin;
import dalle2.messages.ModelVersion;
import dalle2.models.Decoder;
import dalle2.models.DecoderConfig;
import dalle2.pipeline.StageWorker;
import dalle2.pipeline.StatusView;
import dalle2.registry.ModelCatalog;
import dalle2.registry.ModelRegistry.PublishInfo;
import dalle2.registry.ModelRegistry;
import dalle2.registry.ServedModels;
import dalle2.sampling.DdimSampler;
import dalle2.storage.ObjectStore;
import java.awt.image.BufferedImage;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import java.util.function.BooleanSupplier;
import java.util.stream.IntStream;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Roll-out on a real broker and S3 server: a decoder worker following the registry switches to a newly pinned
 * version between batches without a restart; every job, including the ones in flight during the switch, is made
 * entirely by the one version its status names (each of its PNGs equals that version's own drawing); a canary
 * takes its share by job id; the pin set back rolls back; a version that fails to verify is not switched to.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(300)
class DecoderRolloutTest {

    @RegisterExtension
    static final EmbeddedServersExtension servers = EmbeddedServersExtension.kafkaAndS3();

    private Path models;
    private String clip;
    private int dim;
    private KafkaProducer<String, byte[]> producer;
    private StatusView view;
    private ObjectStore store;
    private ModelRegistry registry;
    private final Map<String, ImageDecoderModel> direct = new LinkedHashMap<>();

    @BeforeAll
    void start() throws Exception {
        models = TinyModels.write(Files.createTempDirectory("rollout-test"));
        clip = ModelVersion.of("clip", models.resolve(DallE2.CLIP_DIR));
        dim = Json.readFile(models.resolve(DallE2.DECODER_DIR).resolve(DecoderConfig.FILE_NAME), DecoderConfig.class)
                .conditionDim();
        servers.createTopics(1, 2, 2);
        producer = servers.closeAfterAll(KafkaClients.producer(servers.bootstrap(), "test"));
        view = servers.closeAfterAll(new StatusView(servers.bootstrap(), 10_000, "test").start());
        assertTrue(view.awaitCaughtUp(Duration.ofSeconds(30)));
        store = servers.closeAfterAll(new ObjectStore(servers.storage("rollout")));
        store.ensureBucket();
        registry = new ModelRegistry(store, producer);
    }

    /** Another tiny decoder: same shape, other weights (seed). */
    private Path otherDecoder(long seed) throws Exception {
        Path dir = Files.createTempDirectory("decoder-" + seed);
        DecoderConfig config = Json.readFile(models.resolve(DallE2.DECODER_DIR).resolve(DecoderConfig.FILE_NAME),
                DecoderConfig.class);
        try (NDManager manager = DjlRuntime.newManager()) {
            Decoder.create(config, manager, seed).save(dir);
        }
        return dir;
    }

    @Test
    void aPinnedVersionTakesOverBetweenBatchesAndEveryJobIsMadeByTheOneVersionItsStatusNames() throws Exception {
        ModelManifest a = registry.publish("decoder", models.resolve(DallE2.DECODER_DIR), PublishInfo.upload(clip));
        ModelManifest b = registry.publish("decoder", otherDecoder(11), PublishInfo.upload(clip));
        registry.pin(ModelPin.of("decoder", a.version(), null, 0, Instant.now()));
        Path cache = Files.createTempDirectory("model-cache");
        try (ModelCatalog catalog = new ModelCatalog(servers.bootstrap(), "rollout-test").start()) {
            assertTrue(catalog.awaitCaughtUp(Duration.ofSeconds(30)));
            ImageDecoderModel local = DallE2.decoderAt(models.resolve(DallE2.DECODER_DIR), Device.cpu());
            ServedModels<ImageDecoderModel> served = ServedModels.following("decoder", local.version(), local,
                    catalog, registry, cache, (manifest, dir) -> DallE2.decoderAt(dir, Device.cpu()));
            StageWorker.Config config = StageWorker.Config.defaults(servers.bootstrap(), "rollout", 2)
                    .withMaxWait(Duration.ofMillis(20));
            try (DecoderWorker worker = new DecoderWorker(config, served, new ObjectStore(servers.storage("rollout")))) {
                worker.start(Duration.ofSeconds(30));
                await("the worker owns the embeddings partitions", () -> worker.assignedPartitions() == 2);
                await("the pool runs the pinned A", () -> served.stableVersion().equals(a.version()));

                List<String> jobs = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    jobs.add(submit(3));
                }
                String first = jobs.get(0);
                await("the first job is taken", () -> view.get(first).map(s -> s.state() == JobState.DECODING
                        || s.state() == JobState.SUCCEEDED).orElse(false));
                // the switch while these jobs are in flight: each is finished by the version it was taken with
                registry.pin(ModelPin.of("decoder", b.version(), null, 0, Instant.now()));
                for (int i = 0; i < 4; i++) {
                    jobs.add(submit(3));
                }
                await("the pool switched to B", () -> served.stableVersion().equals(b.version()));
                String afterSwitch = submit(3);
                jobs.add(afterSwitch);

                Map<String, Integer> byVersion = new LinkedHashMap<>();
                for (String job : jobs) {
                    String version = checkMadeEntirelyBy(job, cache);
                    byVersion.merge(version, 1, Integer::sum);
                }
                assertEquals(b.version(), decoderOf(afterSwitch), "a job taken after the switch gets B");
                assertTrue(byVersion.containsKey(a.version()), "jobs taken before the switch: " + byVersion);
                assertEquals(Map.of(a.version(), byVersion.get(a.version()), b.version(), byVersion.get(b.version())),
                        byVersion, "only the two published versions made images: " + byVersion);

                // a canary: its share by job id, the rest on the stable version
                registry.pin(ModelPin.of("decoder", a.version(), b.version(), 50, Instant.now()));
                await("the canary is live", () -> served.stableVersion().equals(a.version())
                        && served.canaryVersion().map(b.version()::equals).orElse(false));
                ModelPin canary = catalog.pin("decoder").orElseThrow();
                assertEquals(java.util.Set.of(a.version(), b.version()), worker.modelVersionsServed(),
                        "the model-version metric shows both");
                int toCanary = 0;
                for (int i = 0; i < 8; i++) {
                    String job = submit(1);
                    String version = checkMadeEntirelyBy(job, cache);
                    assertEquals(canary.routesToCanary(job) ? b.version() : a.version(), version, job);
                    toCanary += version.equals(b.version()) ? 1 : 0;
                }
                assertTrue(toCanary > 0 && toCanary < 8, "both versions take jobs: " + toCanary + " of 8 on B");

                // rollback: the pin set back
                registry.pin(ModelPin.of("decoder", a.version(), null, 0, Instant.now()));
                await("rolled back to A alone", () -> served.canaryVersion().isEmpty());
                assertEquals(a.version(), checkMadeEntirelyBy(submit(2), cache));
                await("B's weights are released once no job needs them",
                        () -> !served.loadedVersions().contains(b.version()), Duration.ofSeconds(40));

                // a version whose files do not verify: not switched to, and the reason is kept
                ModelManifest c = registry.publish("decoder", otherDecoder(12), PublishInfo.upload(clip));
                store.put(ModelRegistry.versionPrefix("decoder", c.version()) + "weights.safetensors",
                        "truncated".getBytes(StandardCharsets.UTF_8), "application/octet-stream");
                registry.pin(ModelPin.of("decoder", c.version(), null, 0, Instant.now()));
                await("the failed load is reported", () -> served.lastFailure() != null
                        && served.lastFailure().contains(c.version()));
                assertTrue(served.lastFailure().contains("SHA-256"), served.lastFailure());
                assertEquals(a.version(), served.stableVersion(), "the pool keeps what it ran");
                assertTrue(worker.modelVersionsRefused() >= 1, "the refusal is counted for the metrics");
                assertEquals(a.version(), checkMadeEntirelyBy(submit(1), cache));
            }
        }
    }

    @Test
    void anEmbeddingFromAnotherClipIsRefusedByADecoderThatRecordsItsClip() throws Exception {
        ModelManifest a = registry.publish("decoder", models.resolve(DallE2.DECODER_DIR), PublishInfo.upload(clip));
        Path dir = registry.fetch(a, Files.createTempDirectory("clip-check"));
        ImageDecoderModel decoder = DallE2.decoderAt(dir, Device.cpu());
        assertEquals(clip, decoder.clipVersion());
        StageWorker.Config config = StageWorker.Config.defaults(servers.bootstrap(), "clip-check", 2);
        try (DecoderWorker worker = new DecoderWorker(config, decoder, new ObjectStore(servers.storage("rollout")))) {
            worker.start(Duration.ofSeconds(30));
            await("the worker owns the embeddings partitions", () -> worker.assignedPartitions() == 2);
            String job = "other-clip-" + UUID.randomUUID();
            ImageEmbeddings message = embeddings(job, 1, "prior@000000000000+clip@000000000000");
            producer.send(new ProducerRecord<>(Topics.EMBEDDINGS, job, Messages.encode(message))).get();
            await(job + " fails", () -> view.get(job).map(s -> s.state() == JobState.FAILED).orElse(false));
            JobStatus failed = view.get(job).orElseThrow();
            assertTrue(failed.error().message().contains("clip_mismatch")
                    && failed.error().message().contains(clip), failed.error().message());
            String good = submitWith(1, "prior@000000000000+" + clip);
            await(good + " succeeds", () -> view.get(good).map(s -> s.state() == JobState.SUCCEEDED).orElse(false));
        }
    }

    @Test
    void duringARollOutToANewClipTheOldClipsEmbeddingsAreDrawnByTheOldDecoderWhileTheyLast() throws Exception {
        String newClip = "clip@0000000000c2";
        ModelManifest old = registry.publish("decoder", models.resolve(DallE2.DECODER_DIR), PublishInfo.upload(clip));
        ModelManifest next = registry.publish("decoder", otherDecoder(13), PublishInfo.upload(newClip));
        registry.pin(ModelPin.of("decoder", old.version(), null, 0, Instant.now()));
        Path cache = Files.createTempDirectory("clip-rollout-cache");
        try (ModelCatalog catalog = new ModelCatalog(servers.bootstrap(), "clip-rollout").start()) {
            assertTrue(catalog.awaitCaughtUp(Duration.ofSeconds(30)));
            ImageDecoderModel local = DallE2.decoderAt(registry.fetch(old, cache.resolve("local")), Device.cpu());
            ServedModels<ImageDecoderModel> served = ServedModels.following("decoder", local.version(), local,
                    catalog, registry, cache, (manifest, dir) -> DallE2.decoderAt(dir, Device.cpu()));
            StageWorker.Config config = StageWorker.Config.defaults(servers.bootstrap(), "clip-rollout", 2)
                    .withMaxWait(Duration.ofMillis(20));
            try (DecoderWorker worker = new DecoderWorker(config, served, new ObjectStore(servers.storage("rollout")))) {
                worker.start(Duration.ofSeconds(30));
                await("the worker owns the embeddings partitions", () -> worker.assignedPartitions() == 2);
                registry.pin(ModelPin.of("decoder", next.version(), null, 0, Instant.now()));
                await("the pool switched to the new CLIP's decoder", () -> served.stableVersion().equals(next.version()));

                String fromOldPrior = submitWith(2, "prior@000000000000+" + clip);
                String fromNewPrior = submitWith(1, "prior@000000000001+" + newClip);
                assertEquals(old.version(), checkMadeEntirelyBy(fromOldPrior, cache),
                        "an embedding of the old CLIP still in the queue is drawn by the old CLIP's decoder");
                assertEquals(next.version(), checkMadeEntirelyBy(fromNewPrior, cache));
                await("the old decoder is released once no such embedding comes",
                        () -> !served.loadedVersions().contains(old.version()), Duration.ofSeconds(40));
                String late = "late-" + UUID.randomUUID();
                producer.send(new ProducerRecord<>(Topics.EMBEDDINGS, late,
                        Messages.encode(embeddings(late, 1, "prior@000000000000+" + clip)))).get();
                await(late + " fails", () -> view.get(late).map(st -> st.state() == JobState.FAILED).orElse(false));
                assertTrue(view.get(late).orElseThrow().error().message().contains("clip_mismatch"),
                        "after that, it is refused with the reason, not drawn with the wrong decoder");
            }
        }
    }

    @Test
    void aNewClipRollsOutInThreePinsWithoutFailingAJob() throws Exception {
        String newClip = "clip@0000000000c3";
        ModelManifest old = registry.publish("decoder", models.resolve(DallE2.DECODER_DIR), PublishInfo.upload(clip));
        ModelManifest next = registry.publish("decoder", otherDecoder(14), PublishInfo.upload(newClip));
        registry.pin(ModelPin.of("decoder", old.version(), null, 0, Instant.now()));
        Path cache = Files.createTempDirectory("three-pins-cache");
        try (ModelCatalog catalog = new ModelCatalog(servers.bootstrap(), "three-pins").start()) {
            assertTrue(catalog.awaitCaughtUp(Duration.ofSeconds(30)));
            ImageDecoderModel local = DallE2.decoderAt(registry.fetch(old, cache.resolve("local")), Device.cpu());
            ServedModels<ImageDecoderModel> served = ServedModels.following("decoder", local.version(), local,
                    catalog, registry, cache, (manifest, dir) -> DallE2.decoderAt(dir, Device.cpu()));
            StageWorker.Config config = StageWorker.Config.defaults(servers.bootstrap(), "three-pins", 2)
                    .withMaxWait(Duration.ofMillis(20));
            try (DecoderWorker worker = new DecoderWorker(config, served, new ObjectStore(servers.storage("rollout")))) {
                worker.start(Duration.ofSeconds(30));
                await("the worker owns the embeddings partitions", () -> worker.assignedPartitions() == 2);
                String oldPrior = "prior@000000000000+" + clip;
                String newPrior = "prior@000000000001+" + newClip;

                // 1. the new decoder as a 0 % canary: loaded, and drawing only its own CLIP's embeddings
                registry.pin(ModelPin.of("decoder", old.version(), next.version(), 0, Instant.now()));
                await("the new decoder is loaded", () -> served.canaryVersion().isPresent());
                assertEquals(old.version(), checkMadeEntirelyBy(submitWith(1, oldPrior), cache));
                // 2. the prior switches (its embeddings now come in the new CLIP), the old CLIP's still queued
                String queuedOld = submitWith(1, oldPrior);
                String firstNew = submitWith(1, newPrior);
                assertEquals(old.version(), checkMadeEntirelyBy(queuedOld, cache));
                assertEquals(next.version(), checkMadeEntirelyBy(firstNew, cache));
                // 3. the new decoder as the stable one
                registry.pin(ModelPin.of("decoder", next.version(), null, 0, Instant.now()));
                await("the new decoder is stable", () -> served.stableVersion().equals(next.version())
                        && served.canaryVersion().isEmpty());
                String lastOld = submitWith(1, oldPrior);
                assertEquals(old.version(), checkMadeEntirelyBy(lastOld, cache), "the old CLIP's backlog drains");
                assertEquals(next.version(), checkMadeEntirelyBy(submitWith(2, newPrior), cache));
                assertEquals(0, worker.stats().jobsFailed(), "no job failed across the three pins");
            }
        }
    }

    /** Checks every PNG of a finished job against its named version's own drawing; returns that version. */
    private String checkMadeEntirelyBy(String jobId, Path cache) throws Exception {
        await(jobId + " succeeds", () -> view.get(jobId).map(s -> s.state() == JobState.SUCCEEDED).orElse(false));
        JobStatus status = view.get(jobId).orElseThrow();
        String version = status.models().get("decoder");
        ImageDecoderModel model = direct.computeIfAbsent(version, v -> {
            ModelManifest manifest = registry.manifest("decoder", v).orElseThrow();
            return DallE2.decoderAt(registry.fetch(manifest, cache.resolve("direct")), Device.cpu());
        });
        ImageEmbeddings message = sent.get(jobId);
        List<DecodeTask> tasks = IntStream.range(0, message.request().n()).mapToObj(k -> DecodeTask.of(message, k)).toList();
        List<BufferedImage> expected = model.decode(DecodeTask.params(message), tasks, DdimSampler.Progress.NONE);
        for (int k = 0; k < tasks.size(); k++) {
            try (InputStream png = store.get(ObjectStore.imageKey(jobId, k)).orElseThrow()) {
                assertArrayEquals(ImageTensors.rgbBytes(expected.get(k)), ImageTensors.rgbBytes(ImageIO.read(png)),
                        jobId + " image " + k + " is " + version + "'s own drawing");
            }
        }
        return version;
    }

    private String decoderOf(String jobId) {
        return view.get(jobId).orElseThrow().models().get("decoder");
    }

    private final Map<String, ImageEmbeddings> sent = new java.util.concurrent.ConcurrentHashMap<>();

    private String submit(int n) throws Exception {
        return submitWith(n, "prior@000000000000+" + clip);
    }

    private String submitWith(int n, String priorVersion) throws Exception {
        String job = "rollout-" + UUID.randomUUID();
        ImageEmbeddings message = embeddings(job, n, priorVersion);
        sent.put(job, message);
        producer.send(new ProducerRecord<>(Topics.EMBEDDINGS, job, Messages.encode(message))).get();
        return job;
    }

    private ImageEmbeddings embeddings(String jobId, int n, String priorVersion) {
        GenerationRequest r = GenerationRequest.of(jobId, "a red apple", n, 7L, 2, 2, 0.0, 1.0, 1.0, Instant.now(), null);
        Random random = new Random(jobId.hashCode());
        List<float[]> vectors = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            float[] v = new float[dim];
            for (int i = 0; i < dim; i++) {
                v[i] = (float) random.nextGaussian() / (float) Math.sqrt(dim);
            }
            vectors.add(v);
        }
        return ImageEmbeddings.of(r, priorVersion, vectors, Instant.now(), Instant.now());
    }

    private static void await(String what, BooleanSupplier condition) throws InterruptedException {
        await(what, condition, Duration.ofSeconds(60));
    }

    private static void await(String what, BooleanSupplier condition, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("timed out waiting until " + what);
            }
            Thread.sleep(20);
        }
    }
}
