package dalle2.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle2.embedded.EmbeddedServersExtension;
import dalle2.embedded.TopicRecords;
import dalle2.kafka.Topics;
import dalle2.messages.GenerationRequest;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two gateways on one cluster, as a scaled deployment runs them: a job accepted by one is visible on the other at
 * once, an Idempotency-Key raced on both gives one job, and a gateway whose status view is down says so instead
 * of answering stale states.
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class GatewayConsistencyTest {

    @RegisterExtension
    static final EmbeddedServersExtension servers = EmbeddedServersExtension.kafkaAndS3();

    private static Gateway gatewayA;
    private static GatewayTestClient a;
    private static GatewayTestClient b;
    /** A third gateway of the same cluster after its deployment gained an upsampler pool: it defaults to 256 px. */
    private static GatewayTestClient upgraded;

    @BeforeAll
    static void start() throws Exception {
        servers.createTopics(2, 2, 3);
        gatewayA = servers.closeAfterAll(Gateway.start(GatewayConfig.of("127.0.0.1", 0, servers.bootstrap(),
                servers.storage("images"))));
        Gateway gatewayB = servers.closeAfterAll(Gateway.start(GatewayConfig.of("127.0.0.1", 0, servers.bootstrap(),
                servers.storage("images"))));
        a = servers.closeAfterAll(new GatewayTestClient(gatewayA.port()));
        b = servers.closeAfterAll(new GatewayTestClient(gatewayB.port()));
        Gateway gatewayC = servers.closeAfterAll(Gateway.start(GatewayConfig.of("127.0.0.1", 0, servers.bootstrap(),
                servers.storage("images")).withSizes(ImageSizes.WITH_UPSAMPLER)));
        upgraded = servers.closeAfterAll(new GatewayTestClient(gatewayC.port()));
    }

    private static Future<HttpResponse<Buffer>> post(GatewayTestClient client, String key, String json) {
        var request = client.web().post("/v1/generations").putHeader("Content-Type", "application/json");
        if (key != null) {
            request.putHeader("Idempotency-Key", key);
        }
        return request.sendBuffer(Buffer.buffer(json));
    }

    @Test
    void aJobAcceptedByOneGatewayIsQueuedOnTheOtherRightAfterThe202() {
        for (int i = 0; i < 20; i++) {
            HttpResponse<Buffer> accepted = post(a, null, "{\"prompt\":\"visible " + i + "\"}").await();
            assertEquals(202, accepted.statusCode(), accepted.bodyAsString());
            String id = accepted.bodyAsJsonObject().getString("id");
            HttpResponse<Buffer> elsewhere = b.get("/v1/generations/" + id);
            assertEquals(200, elsewhere.statusCode(), "round " + i + ": " + elsewhere.bodyAsString());
            assertEquals("queued", elsewhere.bodyAsJsonObject().getString("state"));
        }
        assertEquals(404, b.get("/v1/generations/never-submitted").statusCode(), "an unknown id is still 404");
    }

    @Test
    void oneIdempotencyKeyPostedConcurrentlyToTwoGatewaysGivesOneJobAnsweredOnceWith202() {
        for (int i = 0; i < 10; i++) {
            String key = "race-same-" + i + "-" + System.nanoTime();
            String body = "{\"prompt\":\"raced " + i + "\",\"seed\":5}";
            List<HttpResponse<Buffer>> answers = new ArrayList<>();
            List<Future<HttpResponse<Buffer>>> sent = List.of(post(a, key, body), post(b, key, body),
                    post(a, key, body), post(b, key, body));
            for (Future<HttpResponse<Buffer>> f : sent) {
                answers.add(f.await());
            }
            long created = answers.stream().filter(r -> r.statusCode() == 202).count();
            assertEquals(1, created, "round " + i + ": one 202, the rest replays: " + codes(answers));
            String id = answers.get(0).bodyAsJsonObject().getString("id");
            for (HttpResponse<Buffer> r : answers) {
                assertTrue(r.statusCode() == 202 || r.statusCode() == 200, codes(answers));
                assertEquals(id, r.bodyAsJsonObject().getString("id"));
            }
        }
    }

    @Test
    void aRetryOfTheSameBodyToAGatewayWithOtherDefaultsGetsItsJobAndOnlyAFieldItSetsDifferentlyConflicts() {
        String key = "upgrade-retry-" + System.nanoTime();
        String body = "{\"prompt\":\"a retry across an upgrade\",\"seed\":3}";
        HttpResponse<Buffer> first = post(a, key, body).await();
        assertEquals(202, first.statusCode(), first.bodyAsString());
        String id = first.bodyAsJsonObject().getString("id");

        // the same body: its size was left to the defaults, which gave 32 px when it was accepted
        HttpResponse<Buffer> retried = post(upgraded, key, body).await();
        assertEquals(200, retried.statusCode(), retried.bodyAsString());
        assertEquals(id, retried.bodyAsJsonObject().getString("id"));
        assertEquals("true", retried.getHeader("Idempotent-Replayed"));
        JsonObject params = upgraded.get("/v1/generations/" + id).bodyAsJsonObject().getJsonObject("params");
        assertEquals(32, params.getInteger("size"), "the job keeps the size it was accepted with");
        assertEquals(200, post(upgraded, key, "{\"prompt\":\"a retry across an upgrade\",\"seed\":3,\"size\":32}")
                .await().statusCode(), "the value it got, set explicitly");

        HttpResponse<Buffer> other = post(upgraded, key,
                "{\"prompt\":\"a retry across an upgrade\",\"seed\":3,\"size\":256}").await();
        assertEquals(409, other.statusCode(), other.bodyAsString());
        assertEquals("idempotency_key_reused", other.bodyAsJsonObject().getJsonObject("error").getString("code"));
        assertEquals(409, post(a, key, "{\"prompt\":\"another prompt\",\"seed\":3}").await().statusCode());
        assertEquals(409, post(a, key, "{\"prompt\":\"a retry across an upgrade\",\"seed\":3,\"sampler\":\"ddim\"}")
                .await().statusCode(), "a sampler other than the one the job got");
        assertEquals(409, post(a, key, "{\"prompt\":\"a retry across an upgrade\",\"seed\":3,\"eta\":0.5}")
                .await().statusCode(), "eta, which the job's DPM-Solver++ stages do not take");
    }

    @Test
    void oneIdempotencyKeyRacedWithTwoBodiesGivesOneJobWhoseParametersEveryGatewayAgreesOn() throws Exception {
        for (int i = 0; i < 10; i++) {
            String key = "race-differ-" + i + "-" + System.nanoTime();
            Future<HttpResponse<Buffer>> fromA = post(a, key, "{\"prompt\":\"from a\",\"seed\":1}");
            Future<HttpResponse<Buffer>> fromB = post(b, key, "{\"prompt\":\"from b\",\"seed\":2}");
            HttpResponse<Buffer> ra = fromA.await();
            HttpResponse<Buffer> rb = fromB.await();
            List<HttpResponse<Buffer>> both = List.of(ra, rb);
            assertEquals(1, both.stream().filter(r -> r.statusCode() == 202).count(), codes(both));
            assertEquals(1, both.stream().filter(r -> r.statusCode() == 409).count(), codes(both));
            HttpResponse<Buffer> winner = ra.statusCode() == 202 ? ra : rb;
            String winningPrompt = ra.statusCode() == 202 ? "from a" : "from b";
            String id = winner.bodyAsJsonObject().getString("id");
            JsonObject onA = a.get("/v1/generations/" + id).bodyAsJsonObject();
            JsonObject onB = b.get("/v1/generations/" + id).bodyAsJsonObject();
            assertEquals(winningPrompt, onA.getJsonObject("params").getString("prompt"), onA.encode());
            assertEquals(winningPrompt, onB.getJsonObject("params").getString("prompt"), onB.encode());
            for (GenerationRequest r : TopicRecords.all(servers.bootstrap(), Topics.REQUESTS, id,
                    GenerationRequest.class)) {
                assertEquals(winningPrompt, r.prompt(), "only the winner's request reaches the workers");
            }
        }
    }

    @Test
    void aGatewayWhoseStatusViewFailsIsNotReadyAndAnswers503UntilTheViewHasRestarted() throws Exception {
        String id = post(a, null, "{\"prompt\":\"before the failure\"}").await().bodyAsJsonObject().getString("id");
        assertEquals(200, a.get("/readyz").statusCode());
        long restartsBefore = gatewayA.verticle().statusView().restarts();

        gatewayA.verticle().statusView().injectReaderFailure(new IllegalStateException("injected reader failure"));
        HttpResponse<Buffer> duringRestart = awaitStatus(a, "/readyz", 503);
        assertEquals("restarting", duringRestart.bodyAsJsonObject().getJsonObject("checks").getString("status_view"),
                duringRestart.bodyAsString());
        HttpResponse<Buffer> stale = a.get("/v1/generations/" + id);
        if (stale.statusCode() == 503) { // unless the view came back already
            assertEquals("2", stale.getHeader("Retry-After"));
            assertEquals("status_unavailable", stale.bodyAsJsonObject().getJsonObject("error").getString("code"));
        }

        awaitStatus(a, "/readyz", 200);
        assertEquals(restartsBefore + 1, gatewayA.verticle().statusView().restarts());
        assertEquals("queued", a.get("/v1/generations/" + id).bodyAsJsonObject().getString("state"),
                "the restarted view knows the job again");
        assertEquals(202, post(a, null, "{\"prompt\":\"after the failure\"}").await().statusCode());
    }

    private static HttpResponse<Buffer> awaitStatus(GatewayTestClient client, String path, int status)
            throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            HttpResponse<Buffer> r = client.get(path);
            if (r.statusCode() == status) {
                return r;
            }
            assertTrue(System.nanoTime() < deadline, path + " never answered " + status + ": " + r.bodyAsString());
            Thread.sleep(20);
        }
    }

    private static String codes(List<HttpResponse<Buffer>> answers) {
        return answers.stream().map(r -> r.statusCode() + " " + r.bodyAsString()).toList().toString();
    }
}
