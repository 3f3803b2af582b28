package dalle2.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle2.embedded.EmbeddedServersExtension;
import dalle2.kafka.KafkaClients;
import dalle2.kafka.Topics;
import dalle2.messages.Messages;
import dalle2.messages.TrainingRequest;
import dalle2.messages.TrainingStatus;
import dalle2.storage.ObjectStore;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code POST /v1/trainings} and {@code GET /v1/trainings/{id}} against the real broker and S3, with API keys. */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class GatewayTrainingsTest {

    @RegisterExtension
    static final EmbeddedServersExtension servers = EmbeddedServersExtension.kafkaAndS3();

    private static final String KEY = "trainer-key-0123456789abcdef";
    private static GatewayTestClient client;
    private static KafkaProducer<String, byte[]> producer;

    @BeforeAll
    static void start() throws Exception {
        Gateway gateway = servers.closeAfterAll(Gateway.start(GatewayConfig.of("127.0.0.1", 0, servers.bootstrap(),
                servers.storage("images"), GatewayPolicy.of(AccessConfig.keys(ApiKeys.parse(KEY))))));
        client = servers.closeAfterAll(new GatewayTestClient(gateway.port()));
        producer = servers.closeAfterAll(KafkaClients.producer(servers.bootstrap(), "test-producer"));
    }

    private static HttpResponse<Buffer> post(String body, String key) {
        var r = client.web().post("/v1/trainings").putHeader("Content-Type", "application/json");
        if (key != null) {
            r.putHeader("Authorization", "Bearer " + key);
        }
        return r.sendBuffer(Buffer.buffer(body)).await();
    }

    private static HttpResponse<Buffer> get(String id) {
        return client.web().get("/v1/trainings/" + id).putHeader("Authorization", "Bearer " + KEY).send().await();
    }

    @Test
    void aSubmittedTrainingIsOnTheJobsTopicAndAnswersQueuedThenWhatItsWorkerReports() throws Exception {
        HttpResponse<Buffer> accepted = post("{\"model\":\"decoder\",\"dataset\":\"fashion-mnist\",\"steps\":100,"
                + "\"hyper_parameters\":{\"batch_size\":16,\"channel_mult\":[1,2],\"scale_shift\":true},"
                + "\"base_version\":\"decoder@0123456789ab\"}", KEY);
        assertEquals(202, accepted.statusCode(), accepted.bodyAsString());
        String id = accepted.bodyAsJsonObject().getString("id");
        assertEquals("queued", accepted.bodyAsJsonObject().getString("state"));
        assertEquals("/v1/trainings/" + id, accepted.getHeader("Location"));

        JsonObject queued = get(id).bodyAsJsonObject();
        assertEquals("queued", queued.getString("state"), queued.encode());
        assertEquals("decoder", queued.getString("model"));
        assertEquals(16, queued.getJsonObject("hyper_parameters").getInteger("batch_size"));

        TrainingRequest onTopic = readJob(id);
        assertEquals(100, onTopic.steps());
        assertEquals("decoder@0123456789ab", onTopic.baseVersion());
        assertTrue(onTopic.owner() != null, "the job names its submitter's key (one-way)");

        // a worker's report, as the view reads it from the status topic
        TrainingStatus running = TrainingStatus.queued(onTopic).running("trainer-x", 0, Instant.now())
                .progress(25, new TrainingStatus.LossPoint(25, 0.125, 3e-4), Instant.now());
        producer.send(new ProducerRecord<>(Topics.TRAINING_STATUS, id, Messages.encode(running))).get();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        JsonObject seen;
        do {
            seen = get(id).bodyAsJsonObject();
        } while (!"running".equals(seen.getString("state")) && System.nanoTime() < deadline);
        assertEquals("running", seen.getString("state"), seen.encode());
        assertEquals(25, seen.getLong("step"));
        assertEquals(0.125, seen.getJsonArray("losses").getJsonObject(0).getDouble("loss"));
        assertEquals("trainer-x", seen.getString("worker"));

        // a sample grid the worker put in the bucket and named in the status, served by the gateway
        byte[] png = {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10, 1, 2, 3};
        String key = "trainings/" + id + "/samples/step-25.png";
        try (ObjectStore store = new ObjectStore(servers.storage("images"))) {
            store.putPng(key, png);
        }
        TrainingStatus sampled = running.withSample(new TrainingStatus.SampleGrid(25, key), Instant.now());
        producer.send(new ProducerRecord<>(Topics.TRAINING_STATUS, id, Messages.encode(sampled))).get();
        String url;
        do {
            seen = get(id).bodyAsJsonObject();
        } while (seen.getJsonArray("samples").isEmpty() && System.nanoTime() < deadline + 10_000_000_000L);
        url = seen.getJsonArray("samples").getJsonObject(0).getString("url");
        assertEquals("/v1/trainings/" + id + "/samples/25.png", url);
        HttpResponse<Buffer> grid = client.web().get(url).putHeader("Authorization", "Bearer " + KEY).send().await();
        assertEquals(200, grid.statusCode());
        assertEquals("image/png", grid.getHeader("Content-Type"));
        org.junit.jupiter.api.Assertions.assertArrayEquals(png, grid.body().getBytes());
        assertEquals(404, get(id + "/samples/26.png").statusCode(), "a step without a grid");
        assertEquals(404, get(id + "/samples/..%2Fsecret.png").statusCode());
        assertEquals(401, client.web().get(url).send().await().statusCode());
    }

    @ParameterizedTest(name = "{0} -> field {1}")
    @CsvSource(delimiter = '|', value = {
            "{\"model\":\"vae\",\"dataset\":\"fashion-mnist\",\"steps\":5}|model",
            "{\"dataset\":\"fashion-mnist\",\"steps\":5}|model",
            "{\"model\":\"clip\",\"steps\":5}|dataset",
            "{\"model\":\"clip\",\"dataset\":\"jsonl:/etc\",\"steps\":5}|dataset",
            "{\"model\":\"clip\",\"dataset\":\"fashion-mnist\"}|steps",
            "{\"model\":\"clip\",\"dataset\":\"fashion-mnist\",\"steps\":\"5\"}|steps",
            "{\"model\":\"clip\",\"dataset\":\"fashion-mnist\",\"steps\":5,\"hyper_parameters\":{\"learning_rate\":1}}|hyper_parameters.learning_rate",
            "{\"model\":\"clip\",\"dataset\":\"fashion-mnist\",\"steps\":5,\"hyper_parameters\":{\"batch_size\":2.5}}|hyper_parameters.batch_size",
            "{\"model\":\"clip\",\"dataset\":\"fashion-mnist\",\"steps\":5,\"hyper_parameters\":7}|hyper_parameters",
            "{\"model\":\"clip\",\"dataset\":\"fashion-mnist\",\"steps\":5,\"training_id\":\"mine\"}|training_id",
            "{\"model\":\"clip\",\"dataset\":\"fashion-mnist\",\"steps\":5,\"base_version\":\"a b\"}|base_version",
    })
    void badInputIs400NamingTheField(String body, String field) {
        HttpResponse<Buffer> r = post(body, KEY);
        assertEquals(400, r.statusCode(), r.bodyAsString());
        JsonObject error = r.bodyAsJsonObject().getJsonObject("error");
        assertEquals("invalid_request", error.getString("code"));
        assertEquals(field, error.getString("field"), error.encode());
    }

    private static HttpResponse<Buffer> postWithKey(String body, String idempotencyKey) {
        return client.web().post("/v1/trainings").putHeader("Content-Type", "application/json")
                .putHeader("Authorization", "Bearer " + KEY).putHeader("Idempotency-Key", idempotencyKey)
                .sendBuffer(Buffer.buffer(body)).await();
    }

    @Test
    void aRetryWithTheSameIdempotencyKeyIsTheSameTrainingAndAnotherBodyWithItIs409() throws Exception {
        String body = "{\"model\":\"clip\",\"dataset\":\"fashion-mnist\",\"steps\":40}";
        HttpResponse<Buffer> first = postWithKey(body, "nightly-clip-7");
        assertEquals(202, first.statusCode(), first.bodyAsString());
        String id = first.bodyAsJsonObject().getString("id");
        HttpResponse<Buffer> again = postWithKey(body, "nightly-clip-7");
        assertEquals(200, again.statusCode(), again.bodyAsString());
        assertEquals(id, again.bodyAsJsonObject().getString("id"), "one training, not two");
        assertEquals("true", again.getHeader("Idempotent-Replayed"));
        HttpResponse<Buffer> other = postWithKey(body.replace("40", "41"), "nightly-clip-7");
        assertEquals(409, other.statusCode(), other.bodyAsString());
        assertEquals("idempotency_key_reused", other.bodyAsJsonObject().getJsonObject("error").getString("code"));
        assertEquals(202, postWithKey(body, "nightly-clip-8").statusCode(), "another key, another training");

        // a worker took it: a retry answers what it became and writes no job again
        TrainingStatus running = TrainingStatus.queued(readJob(id)).running("trainer-x", 0, Instant.now());
        producer.send(new ProducerRecord<>(Topics.TRAINING_STATUS, id, Messages.encode(running))).get();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!"running".equals(get(id).bodyAsJsonObject().getString("state")) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        HttpResponse<Buffer> late = postWithKey(body, "nightly-clip-7");
        assertEquals(200, late.statusCode());
        assertEquals("running", late.bodyAsJsonObject().getString("state"));
        assertEquals(2, jobRecords(id), "the first submission and the retry while queued, none while running");
    }

    private static JsonObject list(String query) {
        HttpResponse<Buffer> r = client.web().get("/v1/trainings" + query).putHeader("Authorization", "Bearer " + KEY)
                .send().await();
        assertEquals(200, r.statusCode(), r.bodyAsString());
        return r.bodyAsJsonObject();
    }

    @Test
    void theCallersTrainingsAreListedNewestFirstInPages() throws Exception {
        List<String> ids = new java.util.ArrayList<>();
        for (int i = 0; i < 3; i++) {
            ids.add(post("{\"model\":\"prior\",\"dataset\":\"fashion-mnist\",\"steps\":" + (10 + i) + "}", KEY)
                    .bodyAsJsonObject().getString("id"));
            Thread.sleep(5); // distinct submission times
        }
        List<String> listed = new java.util.ArrayList<>();
        list("?limit=100").getJsonArray("data").forEach(t -> listed.add(((JsonObject) t).getString("id")));
        List<String> ours = listed.stream().filter(ids::contains).toList();
        assertEquals(List.of(ids.get(2), ids.get(1), ids.get(0)), ours, "newest first: " + listed);

        JsonObject first = list("?limit=1");
        assertEquals(1, first.getJsonArray("data").size());
        String next = first.getString("next_after");
        assertTrue(next != null, first.encode());
        JsonObject second = list("?limit=1&after=" + next);
        assertTrue(!second.getJsonArray("data").getJsonObject(0).getString("id").equals(next), "the next page");
        assertEquals("prior", list("?limit=100").getJsonArray("data").stream().map(t -> (JsonObject) t)
                .filter(t -> t.getString("id").equals(ids.get(0))).findFirst().orElseThrow().getString("model"));

        for (String[] bad : new String[][] {{"?limit=0", "limit"}, {"?limit=x", "limit"}, {"?state=running", "state"},
                {"?after=no-such-training", "after"}}) {
            HttpResponse<Buffer> r = client.web().get("/v1/trainings" + bad[0])
                    .putHeader("Authorization", "Bearer " + KEY).send().await();
            assertEquals(400, r.statusCode(), bad[0]);
            assertEquals(bad[1], r.bodyAsJsonObject().getJsonObject("error").getString("field"), bad[0]);
        }
        assertEquals(401, client.web().get("/v1/trainings").send().await().statusCode());
    }

    private static HttpResponse<Buffer> delete(String id) {
        return client.web().delete("/v1/trainings/" + id).putHeader("Authorization", "Bearer " + KEY).send().await();
    }

    @Test
    void aTrainingIsCancelledDurablyOnceAndAnEndedOneIsNot() throws Exception {
        String id = post("{\"model\":\"clip\",\"dataset\":\"fashion-mnist\",\"steps\":50}", KEY)
                .bodyAsJsonObject().getString("id");
        HttpResponse<Buffer> cancelled = delete(id);
        assertEquals(202, cancelled.statusCode(), cancelled.bodyAsString());
        assertEquals("cancelled", cancelled.bodyAsJsonObject().getString("state"));
        assertEquals("cancelled", get(id).bodyAsJsonObject().getString("state"));
        // durable: the last record of its key on the status topic, which every view and worker reads
        assertEquals(dalle2.messages.TrainingState.CANCELLED, lastStatus(id).state());
        HttpResponse<Buffer> again = delete(id);
        assertEquals(200, again.statusCode(), "cancelling twice is the same cancellation");
        assertEquals("cancelled", again.bodyAsJsonObject().getString("state"));

        String other = post("{\"model\":\"clip\",\"dataset\":\"fashion-mnist\",\"steps\":5}", KEY)
                .bodyAsJsonObject().getString("id");
        TrainingStatus succeeded = TrainingStatus.queued(readJob(other)).running("trainer-x", 0, Instant.now())
                .succeeded("clip@0123456789ab", Instant.now());
        producer.send(new ProducerRecord<>(Topics.TRAINING_STATUS, other, Messages.encode(succeeded))).get();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (!"succeeded".equals(get(other).bodyAsJsonObject().getString("state")) && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        HttpResponse<Buffer> late = delete(other);
        assertEquals(409, late.statusCode(), late.bodyAsString());
        assertEquals("already_finished", late.bodyAsJsonObject().getJsonObject("error").getString("code"));
        assertEquals(404, delete("no-such-training").statusCode());
        assertEquals(401, client.web().delete("/v1/trainings/" + id).send().await().statusCode());
    }

    @Test
    void withoutAKeyTrainingsAre401AndAnUnknownTrainingIs404() {
        HttpResponse<Buffer> anonymous = post("{\"model\":\"clip\",\"dataset\":\"fashion-mnist\",\"steps\":5}", null);
        assertEquals(401, anonymous.statusCode());
        assertEquals(401, client.web().get("/v1/trainings/x").send().await().statusCode());
        HttpResponse<Buffer> missing = get("no-such-training");
        assertEquals(404, missing.statusCode(), missing.bodyAsString());
        assertEquals("not_found", missing.bodyAsJsonObject().getJsonObject("error").getString("code"));
    }

    @Test
    void theOpenApiDocumentDescribesTheTrainingRoutes() {
        String doc = client.web().get("/openapi.yaml").send().await().bodyAsString();
        assertTrue(doc.contains("  /v1/trainings:") && doc.contains("  /v1/trainings/{id}:"), "documents the paths");
        assertTrue(doc.contains("    TrainingInput:") && doc.contains("published_version"), "documents the bodies");
    }


    private static int jobRecords(String id) {
        return dalle2.embedded.TopicRecords.all(servers.bootstrap(), Topics.TRAINING_JOBS, id, TrainingRequest.class)
                .size();
    }

    private static TrainingStatus lastStatus(String id) {
        List<TrainingStatus> all = dalle2.embedded.TopicRecords.all(servers.bootstrap(), Topics.TRAINING_STATUS, id,
                TrainingStatus.class);
        assertTrue(!all.isEmpty(), "no status of " + id + " on " + Topics.TRAINING_STATUS);
        return all.get(all.size() - 1);
    }

    private static TrainingRequest readJob(String id) {
        try (KafkaConsumer<String, byte[]> c = KafkaClients.readerConsumer(servers.bootstrap(), "test-reader")) {
            List<TopicPartition> partitions = c.partitionsFor(Topics.TRAINING_JOBS).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            c.assign(partitions);
            c.seekToBeginning(partitions);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < deadline) {
                for (ConsumerRecord<String, byte[]> r : c.poll(Duration.ofMillis(200))) {
                    if (id.equals(r.key())) {
                        return Messages.decode(r.value(), TrainingRequest.class);
                    }
                }
            }
        }
        throw new AssertionError("no job " + id + " on " + Topics.TRAINING_JOBS);
    }
}
