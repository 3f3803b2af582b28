package dalle2.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dalle2.decoder.DecoderWorker;
import dalle2.embedded.TopicRecords;
import dalle2.inference.ModelProvider;
import dalle2.json.Json;
import dalle2.kafka.KafkaClients;
import dalle2.kafka.Topics;
import dalle2.messages.DeadLetter;
import dalle2.messages.GenerationRequest;
import dalle2.messages.JobStatus;
import dalle2.messages.Messages;
import dalle2.storage.ObjectStore;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The pipeline's contract (README, "Delivery guarantees"), over HTTP and Kafka, against whatever Kafka and S3 a subclass provides:
 * the in-JVM broker and S3Proxy, or Testcontainers. A gateway, one prior worker and two decoder workers run in this
 * JVM. Models come from {@link #models()}: deterministic stand-ins here; a subclass may pass the real networks
 * (random weights are enough) to run the same contract end to end.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 90, unit = TimeUnit.SECONDS)
abstract class PipelineContract {

    /** Where Kafka and S3 are. */
    record Infrastructure(String kafkaBootstrap, String s3Endpoint, String s3Key, String s3Secret) {
    }

    protected abstract Infrastructure infrastructure();

    /** The models under test: the real networks, tiny and untrained, loaded the way the workers load them. */
    protected ModelProvider models() {
        return ModelFactory.load(TinyModels.folder());
    }

    /** The image size {@link #models()} draw. */
    protected int imageSize() {
        return TinyModels.IMAGE_SIZE;
    }

    private PipelineServices services;
    private ObjectStore store;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private String base;

    @BeforeAll
    void startServices() throws Exception {
        Infrastructure infra = infrastructure();
        ObjectStore.Config storage = new ObjectStore.Config(infra.s3Endpoint(), infra.s3Key(), infra.s3Secret(),
                "contract-images");
        services = PipelineServices.start(new PipelineServices.Settings(infra.kafkaBootstrap(), storage, "127.0.0.1",
                0, 1, 2, dalle2.djl.DeviceChoice.CPU, 8, 4, Duration.ofMillis(20)), models());
        store = new ObjectStore(storage);
        base = services.gatewayUrl();
        long deadline = System.currentTimeMillis() + 60_000;
        while (services.decoderWorkers().stream().anyMatch(w -> w.assignedPartitions() == 0)) {
            assertTrue(System.currentTimeMillis() < deadline, "both decoder workers get partitions");
            Thread.sleep(100);
        }
    }

    @AfterAll
    void stopServices() {
        if (services != null) {
            services.close();
        }
        if (store != null) {
            store.close();
        }
    }

    // ---- the contract ------------------------------------------------------------------------------------------

    @Test
    void aJobSubmittedOverHttpEndsSucceededWithPngsOfTheModelsSizeAndTheSameSeedGivesTheSameBytes() throws Exception {
        String body = "{\"prompt\":\"a red cube\",\"n\":2,\"seed\":11,\"prior_steps\":3,\"decoder_steps\":4}";
        JsonNode first = awaitTerminal(submit(body));
        assertEquals("succeeded", first.path("state").asText(), first.toString());
        assertEquals(11, first.path("params").path("seed").asLong());
        assertFalse(first.path("models").path("decoder").asText().isEmpty(), "the decoder version is recorded");
        assertFalse(first.path("models").path("prior").asText().isEmpty(), "the prior version is recorded");
        assertFalse(first.path("timestamps").path("finished_at").isNull());
        List<byte[]> a = images(first);
        assertEquals(2, a.size());
        for (byte[] png : a) {
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(png));
            assertEquals(imageSize(), img.getWidth());
            assertEquals(imageSize(), img.getHeight());
        }
        assertFalse(java.util.Arrays.equals(a.get(0), a.get(1)), "each image has its own seed");

        List<byte[]> again = images(awaitTerminal(submit(body)));
        assertArrayEquals(a.get(0), again.get(0), "same job parameters and seed, same pixels and bytes");
        assertArrayEquals(a.get(1), again.get(1));
        List<byte[]> otherSeed = images(awaitTerminal(submit(body.replace("\"seed\":11", "\"seed\":12"))));
        assertFalse(java.util.Arrays.equals(a.get(0), otherSeed.get(0)));
    }

    @Test
    void aRequestProducedToKafkaWithTheClientsOwnJobIdIsProcessedAndVisibleOverHttp() throws Exception {
        String jobId = "client-" + UUID.randomUUID();
        String json = "{\"schema_version\":1,\"job_id\":\"" + jobId + "\",\"prompt\":\"via kafka\",\"n\":1,"
                + "\"seed\":3,\"prior_steps\":2,\"decoder_steps\":2}";
        produce(Topics.REQUESTS, jobId, json.getBytes(StandardCharsets.UTF_8));
        JsonNode status = awaitTerminal(jobId);
        assertEquals("succeeded", status.path("state").asText(), status.toString());
        assertEquals(1, images(status).size());
        assertTrue(store.stat(jobId + "/0.png").isPresent(), "deterministic key <job id>/<k>.png");
    }

    @Test
    void twoDecoderWorkersInOneGroupShareABurstAndEveryJobIsDoneOnce() throws Exception {
        List<DecoderWorker> decoders = services.decoderWorkers();
        long[] before = decoders.stream().mapToLong(w -> w.stats().images()).toArray();
        long succeededBefore = decoders.stream().mapToLong(w -> w.stats().jobsSucceeded()).sum();
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            ids.add(submit("{\"prompt\":\"burst " + i + "\",\"n\":1,\"seed\":" + i
                    + ",\"prior_steps\":2,\"decoder_steps\":3}"));
        }
        for (String id : ids) {
            assertEquals("succeeded", awaitTerminal(id).path("state").asText());
        }
        long[] done = new long[decoders.size()];
        for (int i = 0; i < done.length; i++) {
            done[i] = decoders.get(i).stats().images() - before[i];
            assertTrue(done[i] > 0, "decoder " + i + " did part of the burst: " + java.util.Arrays.toString(done));
        }
        assertEquals(16, done[0] + done[1], "each image drawn once in the normal path");
        assertEquals(16, decoders.stream().mapToLong(w -> w.stats().jobsSucceeded()).sum() - succeededBefore);
    }

    @Test
    void badInputOverHttpIs400WithAJsonError() throws Exception {
        HttpResponse<String> r = post("{\"prompt\":\"p\",\"n\":99}");
        assertEquals(400, r.statusCode());
        JsonNode error = Json.mapper().readTree(r.body()).path("error");
        assertEquals("n", error.path("field").asText());
        assertEquals(400, post("{\"prompt\":").statusCode());
    }

    @Test
    void aPoisonRecordGoesToTheDeadLetterTopicWithItsReasonAndItsJobFails() throws Exception {
        String jobId = "poison-" + UUID.randomUUID();
        byte[] poison = "{\"job_id\":\"x\",\"prompt\":\"p\",\"n\":\"many\"}".getBytes(StandardCharsets.UTF_8);
        produce(Topics.REQUESTS, jobId, poison);
        String embeddingsPoison = "emb-" + UUID.randomUUID();
        produce(Topics.EMBEDDINGS, embeddingsPoison, "not json".getBytes(StandardCharsets.UTF_8));

        DeadLetter letter = awaitDeadLetter(jobId);
        assertEquals(Topics.REQUESTS, letter.topic());
        assertArrayEquals(poison, letter.value());
        assertTrue(letter.reason().contains("n"), letter.reason());
        JsonNode status = awaitTerminal(jobId);
        assertEquals("failed", status.path("state").asText());
        assertEquals("invalid_message", status.path("error").path("code").asText());
        assertEquals(Topics.EMBEDDINGS, awaitDeadLetter(embeddingsPoison).topic());
    }

    @Test
    void aCancelledJobIsSkippedByTheWorkersAndStaysCancelled() throws Exception {
        String jobId = "cancel-" + UUID.randomUUID();
        GenerationRequest request = GenerationRequest.of(jobId, "never drawn", 1, 1L, 2, 2, 0.0, 1.0, 1.0,
                Instant.now(), null);
        produce(Topics.STATUS, jobId, Messages.encode(JobStatus.queued(request).cancelled(Instant.now())));
        JsonNode cancelled = awaitTerminal(jobId);
        assertEquals("cancelled", cancelled.path("state").asText());
        long skippedBefore = services.priorWorkers().get(0).stats().jobsSkipped();
        produce(Topics.REQUESTS, jobId, Messages.encode(request));
        long deadline = System.currentTimeMillis() + 20_000;
        while (services.priorWorkers().get(0).stats().jobsSkipped() == skippedBefore) {
            assertTrue(System.currentTimeMillis() < deadline, "the prior worker skips the cancelled job");
            Thread.sleep(50);
        }
        assertEquals("cancelled", awaitTerminal(jobId).path("state").asText());
        assertTrue(store.stat(jobId + "/0.png").isEmpty(), "no image for a cancelled job");
    }

    @Test
    void generateWritesThePngsAndAContactSheet(@TempDir Path out) throws Exception {
        List<Path> files = GenerateCommand.generate(http, base,
                "{\"prompt\":\"sheet\",\"n\":3,\"seed\":5,\"prior_steps\":2,\"decoder_steps\":2}", out,
                Duration.ofSeconds(60));
        assertEquals(List.of(out.resolve("0.png"), out.resolve("1.png"), out.resolve("2.png"),
                out.resolve("contact-sheet.png")), files);
        BufferedImage sheet = ImageIO.read(out.resolve("contact-sheet.png").toFile());
        assertEquals(3 * (imageSize() + 2) + 2, sheet.getWidth());
        assertTrue(Files.size(out.resolve("0.png")) > 0);
    }

    // ---- helpers -----------------------------------------------------------------------------------------------

    private HttpResponse<String> post(String json) throws IOException, InterruptedException {
        return http.send(HttpRequest.newBuilder(URI.create(base + "/v1/generations"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private String submit(String json) throws IOException, InterruptedException {
        HttpResponse<String> r = post(json);
        assertEquals(202, r.statusCode(), r.body());
        return Json.mapper().readTree(r.body()).path("id").asText();
    }

    private JsonNode awaitTerminal(String id) throws IOException, InterruptedException {
        long deadline = System.currentTimeMillis() + 60_000;
        while (true) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/v1/generations/" + id))
                    .build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 200) {
                JsonNode s = Json.mapper().readTree(r.body());
                String state = s.path("state").asText();
                if (state.equals("succeeded") || state.equals("failed") || state.equals("cancelled")) {
                    return s;
                }
            }
            assertTrue(System.currentTimeMillis() < deadline, "job " + id + " did not finish: " + r.body());
            Thread.sleep(50);
        }
    }

    private List<byte[]> images(JsonNode status) throws IOException, InterruptedException {
        List<byte[]> pngs = new ArrayList<>();
        for (JsonNode image : status.path("images")) {
            HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(URI.create(base + image.path("url").asText()))
                    .build(), HttpResponse.BodyHandlers.ofByteArray());
            assertEquals(200, r.statusCode());
            assertEquals("image/png", r.headers().firstValue("Content-Type").orElse(""));
            assertNotNull(image.path("presigned_url").asText(null));
            pngs.add(r.body());
        }
        return pngs;
    }

    private void produce(String topic, String key, byte[] value) throws Exception {
        try (KafkaProducer<String, byte[]> p = KafkaClients.producer(infrastructure().kafkaBootstrap(), "contract")) {
            p.send(new ProducerRecord<>(topic, key, value)).get(30, TimeUnit.SECONDS);
        }
    }

    private DeadLetter awaitDeadLetter(String key) {
        return TopicRecords.awaitDeadLetter(infrastructure().kafkaBootstrap(), key, Duration.ofSeconds(30));
    }
}
