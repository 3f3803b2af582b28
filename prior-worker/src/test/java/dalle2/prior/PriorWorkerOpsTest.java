package dalle2.prior;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dalle2.embedded.EmbeddedServersExtension;
import dalle2.inference.DallE2;
import dalle2.inference.TinyModels;
import dalle2.json.Json;
import dalle2.kafka.KafkaClients;
import dalle2.kafka.Topics;
import dalle2.messages.GenerationRequest;
import dalle2.messages.Messages;
import dalle2.ops.WorkerOpsServer;
import dalle2.pipeline.StageWorker;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real prior worker (tiny untrained models) on the in-JVM broker, watched by a {@link WorkerOpsServer} on
 * loopback: the probes answer what a kubelet needs and the metrics move with the work. The tests run in order,
 * one worker's life: starting, ready, working, stopped.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class PriorWorkerOpsTest {

    private static final String WORKER_ID = "ops-test";
    private static final String LABELS = "pool=\"prior\",worker=\"" + WORKER_ID + "\"";

    @TempDir
    Path models;

    @RegisterExtension
    static final EmbeddedServersExtension servers = EmbeddedServersExtension.kafkaOnly();

    private WorkerOpsServer ops;
    private PriorWorker worker;
    private KafkaProducer<String, byte[]> producer;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    void startBrokerAndOpsServer() throws Exception {
        ops = servers.closeAfterAll(WorkerOpsServer.start("127.0.0.1", 0, servers.bootstrap()));
        producer = servers.closeAfterAll(KafkaClients.producer(servers.bootstrap(), "ops-test-producer"));
    }

    @Test
    @Order(1)
    void beforeItsWorkerHasStartedTheProcessIsAliveButNotReady() throws Exception {
        assertTrue(ops.port() > 0, "port 0 picks a free port");
        HttpResponse<String> health = get("/healthz");
        assertEquals(200, health.statusCode(), health.body());
        assertEquals("starting", json(health).path("status").asText());
        HttpResponse<String> ready = get("/readyz");
        assertEquals(503, ready.statusCode(), ready.body());
        assertEquals("starting", json(ready).path("checks").path("workers").asText());
    }

    @Test
    @Order(2)
    void aStartedWorkerIsAliveAndReadyOnceItsStatusViewCaughtUpAndKafkaAnswers() throws Exception {
        worker = servers.closeAfterAll(new PriorWorker(StageWorker.Config.defaults(servers.bootstrap(), WORKER_ID, 4),
                DallE2.provider(TinyModels.write(models)).embeddingModel()));
        worker.start(Duration.ofSeconds(60));
        ops.watch(worker);

        HttpResponse<String> health = get("/healthz");
        assertEquals(200, health.statusCode(), health.body());
        assertEquals("ok", json(health).path("checks").path(WORKER_ID + ".model_thread").asText());
        HttpResponse<String> ready = get("/readyz");
        assertEquals(200, ready.statusCode(), ready.body());
        JsonNode checks = json(ready).path("checks");
        assertEquals("ok", checks.path("kafka").asText());
        assertEquals("ok", checks.path(WORKER_ID + ".status_view").asText());

        await(() -> worker.assignedPartitions() == Topics.REQUESTS_PARTITIONS, "the only member owns every partition");
        assertEquals(Topics.REQUESTS_PARTITIONS, value(metrics(), "dalle2_worker_assigned_partitions{" + LABELS + "}"));
    }

    @Test
    @Order(3)
    void theMetricsCountAFinishedJobItsImagesItsBatchesAndTheModelTime() throws Exception {
        String before = metrics();
        assertEquals(0, value(before, "dalle2_worker_records_total{" + LABELS + "}"));
        assertEquals(0, value(before, "dalle2_worker_batch_size_count{" + LABELS + "}"));

        GenerationRequest request = GenerationRequest.of("ops-job-1", "a red apple", 3, 5L, 2, 2, null, null, null,
                Instant.now(), null);
        producer.send(new ProducerRecord<>(Topics.REQUESTS, request.jobId(), Messages.encode(request))).get();
        await(() -> worker.stats().jobsSucceeded() == 1, "the job succeeds");

        HttpResponse<String> response = get("/metrics");
        assertEquals(200, response.statusCode());
        assertTrue(response.headers().firstValue("Content-Type").orElse("").startsWith("text/plain; version=0.0.4"));
        String after = response.body();
        assertEquals(1, value(after, "dalle2_worker_records_total{" + LABELS + "}"));
        assertEquals(1, value(after, "dalle2_worker_jobs_total{" + LABELS + ",outcome=\"succeeded\"}"));
        assertEquals(0, value(after, "dalle2_worker_jobs_total{" + LABELS + ",outcome=\"failed\"}"));
        assertEquals(3, value(after, "dalle2_worker_images_total{" + LABELS + "}"));
        assertEquals(0, value(after, "dalle2_worker_in_flight_images{" + LABELS + "}"));
        double calls = value(after, "dalle2_worker_batch_size_count{" + LABELS + "}");
        assertTrue(calls >= 1, "at least one model call");
        assertEquals(calls, value(after, "dalle2_worker_batches_total{" + LABELS + "}"));
        assertEquals(3, value(after, "dalle2_worker_batch_size_sum{" + LABELS + "}"), "3 images over the calls");
        assertEquals(calls, value(after, "dalle2_worker_batch_size_bucket{" + LABELS + ",le=\"+Inf\"}"));
        assertEquals(calls, value(after, "dalle2_worker_batch_size_bucket{" + LABELS + ",le=\"4\"}"),
                "no call above max batch 4");
        assertTrue(value(after, "dalle2_worker_model_seconds_total{" + LABELS + "}") > 0, "model time is counted");
        assertEquals(0, value(after, "dalle2_worker_model_busy_seconds{" + LABELS + "}"), "idle now");
        assertTrue(after.contains("# TYPE dalle2_worker_batch_size histogram\n"));
    }

    @Test
    @Order(4)
    void anUnreadableRecordIsCountedAsADeadLetter() throws Exception {
        producer.send(new ProducerRecord<>(Topics.REQUESTS, "ops-job-bad",
                "{not json".getBytes(StandardCharsets.UTF_8))).get();
        await(() -> worker.stats().deadLetters() == 1, "the record is dead-lettered");
        assertEquals(1, value(metrics(), "dalle2_worker_dead_letters_total{" + LABELS + "}"));
    }

    @Test
    @Order(5)
    void otherPathsAre404AndOtherMethods405() throws Exception {
        assertEquals(404, get("/").statusCode());
        assertEquals(404, get("/healthz/more").statusCode());
        HttpResponse<String> post = http.send(HttpRequest.newBuilder(URI.create(ops.url() + "/metrics"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(405, post.statusCode());
        assertEquals("GET, HEAD", post.headers().firstValue("Allow").orElse(""));
    }

    @Test
    @Order(6)
    void aStoppedWorkerFailsTheLivenessAndReadinessProbes() throws Exception {
        worker.close();
        HttpResponse<String> health = get("/healthz");
        assertEquals(503, health.statusCode(), health.body());
        assertEquals("stopped", json(health).path("checks").path(WORKER_ID + ".poll_thread").asText());
        assertEquals(503, get("/readyz").statusCode());
    }

    // ---- helpers -----------------------------------------------------------------------------------------------

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(ops.url() + path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private String metrics() throws Exception {
        return get("/metrics").body();
    }

    private static JsonNode json(HttpResponse<String> response) throws Exception {
        return Json.mapper().readTree(response.body());
    }

    /** The value of the sample named exactly {@code series} (name and labels). */
    private static double value(String metrics, String series) {
        for (String line : metrics.split("\n")) {
            if (line.startsWith(series + " ")) {
                return Double.parseDouble(line.substring(series.length() + 1));
            }
        }
        throw new AssertionError("no sample " + series + " in\n" + metrics);
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, what);
            Thread.sleep(50);
        }
    }
}
