package dalle2.gateway;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle2.embedded.EmbeddedServersExtension;
import dalle2.embedded.TopicRecords;
import dalle2.kafka.KafkaClients;
import dalle2.kafka.Topics;
import dalle2.messages.GenerationRequest;
import dalle2.messages.JobStatus;
import dalle2.messages.Messages;
import dalle2.messages.SamplerKind;
import dalle2.storage.ObjectStore;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The HTTP API against a real in-JVM broker and S3Proxy, with no workers: what the gateway alone promises. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GatewayApiTest {

    @RegisterExtension
    static final EmbeddedServersExtension servers = EmbeddedServersExtension.kafkaAndS3();

    private static GatewayTestClient client;

    @BeforeAll
    static void start() throws Exception {
        Gateway gateway = servers.closeAfterAll(Gateway.start(GatewayConfig.of("127.0.0.1", 0, servers.bootstrap(),
                servers.storage("images"))));
        client = servers.closeAfterAll(new GatewayTestClient(gateway.port()));
    }

    private static HttpResponse<Buffer> post(String json) {
        return client.web().post("/v1/generations").putHeader("Content-Type", "application/json")
                .sendBuffer(Buffer.buffer(json)).await();
    }


    @Test
    void aValidSubmissionIsAcceptedOnlyOnceDurableAndItsRequestIsOnTheRequestsTopic() throws Exception {
        HttpResponse<Buffer> r = post("{\"prompt\":\"a red cube\",\"n\":2,\"seed\":7,\"decoder_steps\":5}");
        assertEquals(202, r.statusCode(), r.bodyAsString());
        JsonObject body = r.bodyAsJsonObject();
        String id = body.getString("id");
        assertEquals("queued", body.getString("state"), "one vocabulary: state, as in the job resource");
        assertEquals("queued", body.getString("status"), "the deprecated name still answers");
        assertEquals("/v1/generations/" + id, r.getHeader("Location"));

        JsonObject status = client.get("/v1/generations/" + id).bodyAsJsonObject();
        assertEquals("queued", status.getString("state"));
        assertEquals(7L, status.getJsonObject("params").getLong("seed"));
        assertEquals(5, status.getJsonObject("params").getInteger("decoder_steps"));
        // no sampler named: both stages on DPM-Solver++, the prior at its 20 steps
        assertEquals(SamplerKind.DPMPP_2M.defaultPriorSteps(), status.getJsonObject("params").getInteger("prior_steps"));
        assertEquals("dpmpp-2m", status.getJsonObject("params").getString("prior_sampler"));
        assertEquals("dpmpp-2m", status.getJsonObject("params").getString("sampler"));
        assertNotNull(status.getInteger("queue_position"));
        assertNotNull(status.getJsonObject("timestamps").getString("submitted_at"));

        GenerationRequest onTopic = readRequest(id);
        assertEquals("a red cube", onTopic.prompt());
        assertEquals(2, onTopic.n());
        assertEquals(7L, onTopic.seed());
    }

    @Test
    void theSamplerIsTakenFromTheBodyReportedAndDefaultsToDpmSolverUnlessEtaAsksForDdim() throws Exception {
        String id = post("{\"prompt\":\"a red cube\",\"sampler\":\"dpmpp-2m\",\"decoder_steps\":15}")
                .bodyAsJsonObject().getString("id");
        assertEquals("dpmpp-2m", client.get("/v1/generations/" + id).bodyAsJsonObject().getJsonObject("params")
                .getString("sampler"));
        assertEquals("dpmpp-2m", readRequest(id).sampler());
        assertEquals("dpmpp-2m", readRequest(id).priorStageSampler(), "a sampler named is both stages'");
        String plain = post("{\"prompt\":\"a red cube\"}").bodyAsJsonObject().getString("id");
        JsonObject plainParams = client.get("/v1/generations/" + plain).bodyAsJsonObject().getJsonObject("params");
        assertEquals("dpmpp-2m", plainParams.getString("sampler"));
        assertEquals(SamplerKind.DPMPP_2M.defaultDecoderSteps(), plainParams.getInteger("decoder_steps"));
        // eta above 0 is DDIM's: a request naming no sampler gets a DDIM decoder (and the prior's default)
        String stochastic = post("{\"prompt\":\"a red cube\",\"eta\":0.5}").bodyAsJsonObject().getString("id");
        assertEquals("ddim", readRequest(stochastic).sampler());
        assertEquals(50, readRequest(stochastic).decoderSteps());
        assertEquals("dpmpp-2m", readRequest(stochastic).priorStageSampler());
        String ddim = post("{\"prompt\":\"a red cube\",\"sampler\":\"ddim\"}").bodyAsJsonObject().getString("id");
        assertEquals("ddim", readRequest(ddim).priorStageSampler());
        assertEquals(64, readRequest(ddim).priorSteps(), "the DDIM prior's own default steps");
        String split = post("{\"prompt\":\"a red cube\",\"sampler\":\"dpmpp-2m\",\"prior_sampler\":\"ddim\","
                + "\"eta\":0.5}").bodyAsJsonObject().getString("id");
        JsonObject splitParams = client.get("/v1/generations/" + split).bodyAsJsonObject().getJsonObject("params");
        assertEquals("ddim", splitParams.getString("prior_sampler"));
        assertEquals("dpmpp-2m", splitParams.getString("sampler"));
        assertEquals(0.5, splitParams.getDouble("eta"), "eta is the DDIM prior's");

        HttpResponse<Buffer> unknown = post("{\"prompt\":\"p\",\"sampler\":\"euler-a\"}");
        assertEquals(400, unknown.statusCode());
        JsonObject error = unknown.bodyAsJsonObject().getJsonObject("error");
        assertEquals("sampler must be one of ddim, dpmpp-2m, got 'euler-a'", error.getString("message"));
    }

    @Test
    void aSubmissionWithoutASeedGetsOneAndReportsIt() {
        String id = post("{\"prompt\":\"x\"}").bodyAsJsonObject().getString("id");
        JsonObject params = client.get("/v1/generations/" + id).bodyAsJsonObject().getJsonObject("params");
        assertNotNull(params.getLong("seed"));
        assertEquals(1, params.getInteger("n"));
    }

    @Test
    void theSameIdempotencyKeyReturnsTheSameJobAndADifferentBodyWithItConflicts() {
        String body = "{\"prompt\":\"idempotent\",\"n\":1}";
        HttpResponse<Buffer> first = client.web().post("/v1/generations").putHeader("Content-Type", "application/json")
                .putHeader("Idempotency-Key", "key-123").sendBuffer(Buffer.buffer(body)).await();
        HttpResponse<Buffer> again = client.web().post("/v1/generations").putHeader("Content-Type", "application/json")
                .putHeader("Idempotency-Key", "key-123").sendBuffer(Buffer.buffer(body)).await();
        assertEquals(202, first.statusCode());
        assertEquals(200, again.statusCode());
        assertEquals(first.bodyAsJsonObject().getString("id"), again.bodyAsJsonObject().getString("id"));
        HttpResponse<Buffer> other = client.web().post("/v1/generations").putHeader("Content-Type", "application/json")
                .putHeader("Idempotency-Key", "key-123").sendBuffer(Buffer.buffer("{\"prompt\":\"else\"}")).await();
        assertEquals(409, other.statusCode());
        assertEquals("idempotency_key_reused", other.bodyAsJsonObject().getJsonObject("error").getString("code"));
        String plain = post(body).bodyAsJsonObject().getString("id");
        assertNotEquals(first.bodyAsJsonObject().getString("id"), plain);
    }

    @ParameterizedTest(name = "{0} -> 400 {1}")
    @CsvSource(delimiter = '|', value = {
            "{\"prompt\":\"\"}|prompt",
            "{\"n\":2}|prompt",
            "{\"prompt\":\"p\",\"n\":0}|n",
            "{\"prompt\":\"p\",\"n\":9}|n",
            "{\"prompt\":\"p\",\"n\":\"two\"}|n",
            "{\"prompt\":\"p\",\"n\":1.5}|n",
            "{\"prompt\":[1]}|prompt",
            "{\"prompt\":\"p\",\"eta\":2}|eta",
            "{\"prompt\":\"p\",\"prior_steps\":-1}|prior_steps",
            "{\"prompt\":\"p\",\"decoder_steps\":100000}|decoder_steps",
            "{\"prompt\":\"p\",\"decoder_guidance\":99}|decoder_guidance",
            "{\"prompt\":\"p\",\"job_id\":\"mine\"}|job_id",
            "{\"prompt\":\"p\",\"sampler\":\"euler-a\"}|sampler",
            "{\"prompt\":\"p\",\"sampler\":null,\"n\":0}|n",
            "{\"prompt\":\"p\",\"sampler\":\"dpmpp-2m\",\"eta\":0.5}|eta",
            "{\"prompt\":\"p\",\"prior_sampler\":\"plms\"}|prior_sampler",
            "{\"prompt\":\"p\",\"n\":|",
            "[1,2]|",
            "not json|",
    })
    void badInputIs400WithAnErrorNamingTheField(String json, String field) {
        HttpResponse<Buffer> r = post(json);
        assertEquals(400, r.statusCode(), r.bodyAsString());
        assertEquals("application/json", r.getHeader("Content-Type"));
        JsonObject error = r.bodyAsJsonObject().getJsonObject("error");
        assertNotNull(error.getString("code"));
        assertNotNull(error.getString("message"));
        assertEquals(field, error.getString("field"));
    }

    @Test
    void anOverlongPromptAnEmptyBodyAWrongContentTypeAndUnknownPathsAreErrorsNot500() {
        assertEquals(400, post("{\"prompt\":\"" + "x".repeat(1001) + "\"}").statusCode());
        assertEquals(400, post("").statusCode());
        HttpResponse<Buffer> text = client.web().post("/v1/generations").putHeader("Content-Type", "text/plain")
                .sendBuffer(Buffer.buffer("{\"prompt\":\"p\"}")).await();
        assertEquals(415, text.statusCode());
        assertEquals("unsupported_media_type", text.bodyAsJsonObject().getJsonObject("error").getString("code"));
        HttpResponse<Buffer> missing = client.get("/v1/generations/no-such-job");
        assertEquals(404, missing.statusCode());
        assertEquals("not_found", missing.bodyAsJsonObject().getJsonObject("error").getString("code"));
        assertEquals(404, client.get("/v2/nothing").statusCode());
        assertEquals(404, client.get("/v1/generations/bad%20id").statusCode());
        assertEquals(413, post("{\"prompt\":\"" + "x".repeat(70_000) + "\"}").statusCode());
    }

    @Test
    void deleteCancelsAQueuedJobOnceAndAnUnknownJobIs404() {
        String id = post("{\"prompt\":\"to cancel\"}").bodyAsJsonObject().getString("id");
        HttpResponse<Buffer> r = client.delete("/v1/generations/" + id);
        assertEquals(202, r.statusCode());
        assertEquals("cancelled", client.get("/v1/generations/" + id).bodyAsJsonObject().getString("state"));
        assertEquals(200, client.delete("/v1/generations/" + id).statusCode());
        assertEquals(404, client.delete("/v1/generations/unknown-job").statusCode());
    }

    @Test
    void aSucceededJobListsGatewayAndPresignedImageLinksAndStreamsItsPngs() throws Exception {
        // play the workers' part: images in storage, then the succeeded status on the topic
        GenerationRequest request = GenerationRequest.of("manual-job", "done", 2, 1L, 1, 1, 0.0, 1.0, 1.0,
                Instant.now(), null);
        byte[] png0 = {(byte) 0x89, 'P', 'N', 'G', 0};
        byte[] png1 = {(byte) 0x89, 'P', 'N', 'G', 1};
        try (ObjectStore store = new ObjectStore(servers.storage("images"));
             KafkaProducer<String, byte[]> producer = KafkaClients.producer(servers.bootstrap(), "t")) {
            store.putPng(ObjectStore.imageKey("manual-job", 0), png0);
            store.putPng(ObjectStore.imageKey("manual-job", 1), png1);
            JobStatus done = JobStatus.queued(request).withModel("decoder", "d-test")
                    .succeeded(List.of("manual-job/0.png", "manual-job/1.png"), Instant.now());
            producer.send(new ProducerRecord<>(Topics.STATUS, "manual-job", Messages.encode(done))).get();
        }
        JsonObject status = client.awaitState("manual-job", "succeeded");
        assertNull(status.getValue("queue_position"));
        assertEquals("d-test", status.getJsonObject("models").getString("decoder"));
        JsonObject image1 = status.getJsonArray("images").getJsonObject(1);
        assertEquals("/v1/generations/manual-job/images/1.png", image1.getString("url"));

        HttpResponse<Buffer> png = client.get(image1.getString("url"));
        assertEquals(200, png.statusCode());
        assertEquals("image/png", png.getHeader("Content-Type"));
        assertArrayEquals(png1, png.bodyAsBuffer().getBytes());
        byte[] viaPresigned = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create(image1.getString("presigned_url"))).build(),
                java.net.http.HttpResponse.BodyHandlers.ofByteArray()).body();
        assertArrayEquals(png1, viaPresigned);
        assertEquals(404, client.get("/v1/generations/manual-job/images/2.png").statusCode());
        assertEquals(404, client.get("/v1/generations/manual-job/images/x.png").statusCode());
        assertEquals(409, client.delete("/v1/generations/manual-job").statusCode());
    }

    @Test
    void healthReadinessMetricsAndTheOpenApiDocumentAreServed() {
        assertEquals(200, client.get("/healthz").statusCode());
        HttpResponse<Buffer> ready = client.get("/readyz");
        assertEquals(200, ready.statusCode(), ready.bodyAsString());
        assertEquals("ok", ready.bodyAsJsonObject().getJsonObject("checks").getString("kafka"));
        HttpResponse<Buffer> metrics = client.get("/metrics");
        assertEquals(200, metrics.statusCode());
        assertTrue(metrics.bodyAsString().contains("vertx_http_server"), "Vert.x HTTP server metrics");
        HttpResponse<Buffer> openapi = client.get("/openapi.yaml");
        assertEquals(200, openapi.statusCode());
        String doc = openapi.bodyAsString();
        for (String path : List.of("/v1/generations:", "/v1/generations/{id}:", "/v1/generations/{id}/images/{k}.png:",
                "/healthz:", "/readyz:", "/metrics:")) {
            assertTrue(doc.contains(path), "documents " + path);
        }
        assertTrue(doc.contains("sampler: {type: string, enum: [ddim, dpmpp-2m], description: 'default: dpmpp-2m"),
                "documents sampler");
    }


    private static GenerationRequest readRequest(String id) {
        return TopicRecords.awaitFirst(servers.bootstrap(), Topics.REQUESTS, id, GenerationRequest.class,
                Duration.ofSeconds(10));
    }
}
