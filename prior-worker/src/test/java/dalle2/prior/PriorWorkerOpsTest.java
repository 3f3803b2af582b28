package dalle2.prior;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
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
import java.nio.file.Files;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
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
import org.slf4j.LoggerFactory;

/**
 * A real prior worker (tiny untrained models) on the in-JVM broker, watched by a {@link WorkerOpsServer} on
 * loopback: the probes answer what a kubelet needs and the metrics, scraped over HTTP, move with the work. The tests run in order,
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
        assertEquals(0, value(before, "dalle2_worker_step_seconds_count{" + LABELS + "}"));
        assertEquals(0, value(before, "dalle2_worker_image_seconds_count{" + LABELS + "}"));
        assertEquals(0, value(before, "dalle2_worker_consumer_lag{" + LABELS + "}"));

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
        assertEquals(calls, value(after, "dalle2_worker_batch_size_bucket{le=\"+Inf\"," + LABELS + "}"));
        assertEquals(calls, value(after, "dalle2_worker_batch_size_bucket{le=\"4.0\"," + LABELS + "}"),
                "no call above max batch 4");
        assertTrue(value(after, "dalle2_worker_model_seconds_total{" + LABELS + "}") > 0, "model time is counted");
        assertEquals(0, value(after, "dalle2_worker_model_busy_seconds{" + LABELS + "}"), "idle now");
        assertTrue(after.contains("# TYPE dalle2_worker_batch_size histogram\n"));

        // every sampling step of every call is timed, and every image from its record's arrival to its result
        int steps = 2;
        assertEquals(calls * steps, value(after, "dalle2_worker_step_seconds_count{" + LABELS + "}"));
        assertTrue(value(after, "dalle2_worker_step_seconds_sum{" + LABELS + "}") > 0);
        assertEquals(3, value(after, "dalle2_worker_image_seconds_count{" + LABELS + "}"));
        assertTrue(value(after, "dalle2_worker_image_seconds_sum{" + LABELS + "}")
                >= value(after, "dalle2_worker_model_seconds_total{" + LABELS + "}"),
                "an image waits at least for the model calls that drew it");
        assertEquals(0, value(after, "dalle2_worker_consumer_lag{" + LABELS + "}"), "everything fetched");
        await(() -> scrapedValue("dalle2_consumer_group_lag{pool=\"prior\"}") == 0, "the group commits the job");
        assertEquals(0, value(after, "dalle2_worker_failures_total{" + LABELS + ",reason=\"model_error\"}"));
        assertEquals(1, value(after, "dalle2_worker_model_version{" + LABELS + ",version=\""
                + worker.modelVersionInUse() + "\"}"));
        assertTrue(worker.modelVersionInUse().startsWith("prior@"), worker.modelVersionInUse());
        // the JVM's own meters; the heap pools are named after the collector, which the CPU count chooses
        assertTrue(after.lines().anyMatch(l -> l.startsWith("jvm_memory_used_bytes{area=\"heap\",")), after);
        assertTrue(value(after, "process_start_time_seconds") > 1.7e9);
    }

    @Test
    @Order(4)
    void anUnreadableRecordIsCountedAsADeadLetterAndLoggedWithItsJobId() throws Exception {
        // the stage worker's parts (dead letters, reports, the poll thread) log under its package
        Logger stageLog = (Logger) LoggerFactory.getLogger(StageWorker.class.getPackageName());
        ListAppender<ILoggingEvent> logged = new ListAppender<>();
        logged.start();
        stageLog.addAppender(logged);
        try {
            producer.send(new ProducerRecord<>(Topics.REQUESTS, "ops-job-bad",
                    "{not json".getBytes(StandardCharsets.UTF_8))).get();
            await(() -> worker.stats().deadLetters() == 1, "the record is dead-lettered");
        } finally {
            stageLog.detachAppender(logged);
        }
        ILoggingEvent deadLettering = logged.list.stream()
                .filter(e -> e.getFormattedMessage().contains("dead-lettering")).findFirst()
                .orElseThrow(() -> new AssertionError("no dead-lettering line in " + logged.list));
        assertEquals("ops-job-bad", deadLettering.getMDCPropertyMap().get(StageWorker.JOB_ID_MDC_KEY));
        String after = metrics();
        assertEquals(1, value(after, "dalle2_worker_dead_letters_total{" + LABELS + "}"));
        assertEquals(1, value(after, "dalle2_worker_failures_total{" + LABELS + ",reason=\"invalid_message\"}"));
    }

    @Test
    @Order(5)
    void everyMetricTheGrafanaDashboardQueriesIsExportedByAWorker() throws Exception {
        JsonNode dashboard = Json.mapper().readTree(Files.readString(DASHBOARD));
        Set<String> queried = new TreeSet<>();
        for (JsonNode query : dashboard.findValues("expr")) {
            queried.addAll(metricNames(query.asText()));
        }
        // the trainer panels' series come from trainer workers (TrainerWorkerTest checks those)
        queried.removeIf(name -> name.startsWith("dalle2_trainer_"));
        for (JsonNode query : dashboard.path("templating").path("list").findValues("query")) {
            queried.addAll(metricNames(query.asText()));
        }
        assertTrue(queried.size() >= 10, "the dashboard queries the worker metrics: " + queried);

        Set<String> exported = new TreeSet<>();
        for (String line : metrics().split("\n")) {
            if (!line.isEmpty() && !line.startsWith("#")) {
                exported.add(line.split("[{ ]", 2)[0]);
            }
        }
        Set<String> missing = new TreeSet<>(queried);
        missing.removeAll(exported);
        assertTrue(missing.isEmpty(), "queried by " + DASHBOARD + " but not exported: " + missing);
    }

    @Test
    @Order(6)
    void otherPathsAre404AndMethodsOtherThanGetAndHead405() throws Exception {
        assertEquals(404, get("/").statusCode());
        assertEquals(404, get("/healthz/more").statusCode());
        HttpResponse<String> post = http.send(HttpRequest.newBuilder(URI.create(ops.url() + "/metrics"))
                .POST(HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(405, post.statusCode());
        assertEquals("GET, HEAD", post.headers().firstValue("Allow").orElse(""));
        HttpResponse<String> head = http.send(HttpRequest.newBuilder(URI.create(ops.url() + "/healthz"))
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, head.statusCode());
        assertEquals("", head.body());
    }

    @Test
    @Order(7)
    void aStoppedWorkerFailsTheLivenessAndReadinessProbesAndItsGroupLagCountsWhatArrivesMeanwhile() throws Exception {
        worker.close();
        HttpResponse<String> health = get("/healthz");
        assertEquals(503, health.statusCode(), health.body());
        assertEquals("stopped", json(health).path("checks").path(WORKER_ID + ".poll_thread").asText());
        assertEquals(503, get("/readyz").statusCode());

        // the group has committed everything so far; what arrives now waits, and the brokers count it
        for (int i = 0; i < 2; i++) {
            GenerationRequest waiting = GenerationRequest.of("ops-waiting-" + i, "a pear", 1, 5L, 2, 2, null, null,
                    null, Instant.now(), null);
            producer.send(new ProducerRecord<>(Topics.REQUESTS, waiting.jobId(), Messages.encode(waiting))).get();
        }
        assertEquals(2, value(metrics(), "dalle2_consumer_group_lag{pool=\"prior\"}"));
    }

    // ---- helpers -----------------------------------------------------------------------------------------------

    /** The dashboard in deploy/, from this module's folder (where Maven runs its tests). */
    private static final Path DASHBOARD = Path.of("..", "deploy", "grafana", "dalle2-workers.json");

    private static final Pattern METRIC_NAME = Pattern.compile("\\b(?:dalle2|jvm|process)_[a-z_]+\\b");

    private static Set<String> metricNames(String query) {
        Set<String> names = new TreeSet<>();
        Matcher m = METRIC_NAME.matcher(query);
        while (m.find()) {
            names.add(m.group());
        }
        return names;
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create(ops.url() + path)).timeout(Duration.ofSeconds(10)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private String metrics() throws Exception {
        return get("/metrics").body();
    }

    /** The scraped value of {@code series}, or NaN while it cannot be read. */
    private double scrapedValue(String series) {
        try {
            return value(metrics(), series);
        } catch (Exception | AssertionError e) {
            return Double.NaN;
        }
    }

    private static JsonNode json(HttpResponse<String> response) throws Exception {
        return Json.mapper().readTree(response.body());
    }

    /**
     * The value of the sample {@code series} (name and labels, as {@code name{a="x",b="y"}}); the labels may come
     * in any order, as the exposition format allows.
     */
    private static double value(String metrics, String series) {
        String wanted = canonical(series);
        for (String line : metrics.split("\n")) {
            int space = line.lastIndexOf(' ');
            if (!line.startsWith("#") && space > 0 && canonical(line.substring(0, space)).equals(wanted)) {
                return Double.parseDouble(line.substring(space + 1));
            }
        }
        throw new AssertionError("no sample " + series + " in\n" + metrics);
    }

    private static final Pattern LABEL = Pattern.compile("(\\w+)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    /** The series' name and its labels sorted by name. */
    private static String canonical(String series) {
        int brace = series.indexOf('{');
        if (brace < 0) {
            return series;
        }
        Map<String, String> labels = new TreeMap<>();
        Matcher m = LABEL.matcher(series.substring(brace));
        while (m.find()) {
            labels.put(m.group(1), m.group(2));
        }
        return series.substring(0, brace) + labels;
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, what);
            Thread.sleep(50);
        }
    }
}
