package dalle2.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle2.embedded.EmbeddedServersExtension;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** API keys, their scoping of idempotency keys, and the per-key rate limit, against the real broker and S3. */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
class GatewayAccessTest {

    @RegisterExtension
    static final EmbeddedServersExtension servers = EmbeddedServersExtension.kafkaAndS3();

    private static final String ALICE = "alice-key-0123456789abcdef";
    private static final String BOB = "bob-key-0123456789abcdef";
    private static final String LIMITED = "limited-key-0123456789abcdef";
    private static final String BODY = "{\"prompt\":\"a key\",\"prior_steps\":2,\"decoder_steps\":2}";
    private static final int LIMITED_BURST = 3;

    private static GatewayTestClient client;
    private static GatewayTestClient limitedClient;
    private static LogCapture logs;

    @BeforeAll
    static void start() throws Exception {
        logs = new LogCapture();
        ApiKeys keys = ApiKeys.parse("# the test's callers\nalice:" + ALICE + "\n\n" + BOB + "\n");
        Gateway gateway = servers.closeAfterAll(Gateway.start(GatewayConfig.of("127.0.0.1", 0, servers.bootstrap(),
                servers.storage("images"), GatewayPolicy.of(AccessConfig.keys(keys)))));
        client = servers.closeAfterAll(new GatewayTestClient(gateway.port()));
        // a second instance on the same topics with a tight limit: 3 at once, then one every 100 s
        Gateway limited = servers.closeAfterAll(Gateway.start(GatewayConfig.of("127.0.0.1", 0, servers.bootstrap(),
                servers.storage("images"), GatewayPolicy.of(AccessConfig.keys(ApiKeys.parse(LIMITED + "," + ALICE)))
                        .withRateLimit(new RateLimitConfig(0.01, LIMITED_BURST)))));
        limitedClient = servers.closeAfterAll(new GatewayTestClient(limited.port()));
    }

    @AfterAll
    static void noLogLineEverShowedAKey() {
        logs.close();
        assertTrue(logs.lines().stream().anyMatch(l -> l.contains("API keys required")), "the start was logged");
        for (String line : logs.lines()) {
            for (String key : new String[] {ALICE, BOB, LIMITED}) {
                assertFalse(line.contains(key), "a log line shows a key: " + line);
            }
        }
    }

    private static HttpRequest<Buffer> as(HttpRequest<Buffer> request, String key) {
        return key == null ? request : request.putHeader("Authorization", "Bearer " + key);
    }

    private static HttpResponse<Buffer> submit(GatewayTestClient c, String key, String idempotencyKey) {
        HttpRequest<Buffer> r = as(c.web().post("/v1/generations"), key).putHeader("Content-Type", "application/json");
        if (idempotencyKey != null) {
            r.putHeader("Idempotency-Key", idempotencyKey);
        }
        return r.sendBuffer(Buffer.buffer(BODY)).await();
    }

    private static void assertUnauthorized(HttpResponse<Buffer> r) {
        assertEquals(401, r.statusCode(), r.bodyAsString());
        assertTrue(r.getHeader("WWW-Authenticate").startsWith("Bearer"), "WWW-Authenticate: Bearer");
        JsonObject error = r.bodyAsJsonObject().getJsonObject("error");
        assertEquals("unauthorized", error.getString("code"));
        assertEquals("Authorization", error.getString("field"));
    }

    @Test
    void withKeysConfiguredEveryV1RouteIs401WithoutAValidKeyAndTheImagesAreNoException() {
        String id = submit(client, ALICE, null).bodyAsJsonObject().getString("id");
        for (String key : new String[] {null, "wrong-key-0123456789abcdef", ALICE + "x", ALICE.toUpperCase()}) {
            assertUnauthorized(submit(client, key, null));
            assertUnauthorized(as(client.web().get("/v1/generations/" + id), key).send().await());
            assertUnauthorized(as(client.web().get("/v1/generations/" + id + "/images/0.png"), key).send().await());
            assertUnauthorized(as(client.web().delete("/v1/generations/" + id), key).send().await());
            assertUnauthorized(as(client.web().get("/v1/unknown"), key).send().await());
        }
        assertEquals(200, as(client.web().get("/v1/generations/" + id), BOB).send().await().statusCode(),
                "an unnamed key in the file works too");
        assertEquals(200, client.web().get("/v1/generations/" + id).putHeader("Authorization", "bearer " + ALICE)
                .send().await().statusCode(), "the scheme is case-insensitive");
    }

    @Test
    void guessingKeysFromOneAddressIsThrottledAfterTheFailureBurst() {
        // the limited instance: no other test fails authentication there
        // the bucket refills at 1/s, so on a slow machine a few guesses beyond the burst may still be answered 401;
        // guesses far faster than that must meet a 429 soon after the burst
        HttpResponse<Buffer> last = null;
        int guesses = 0;
        while (guesses < RateLimitConfig.AUTH_FAILURE_BURST + 100) {
            last = as(limitedClient.web().get("/v1/generations/x"), "guess-" + guesses + "-0123456789abcdef").send()
                    .await();
            guesses++;
            if (last.statusCode() == 429) {
                break;
            }
            assertUnauthorized(last);
        }
        assertEquals(429, last.statusCode(), last.bodyAsString());
        assertTrue(guesses > RateLimitConfig.AUTH_FAILURE_BURST, "the whole burst is answered 401 first: " + guesses);
        assertTrue(Long.parseLong(last.getHeader("Retry-After")) >= 1);
        // alice's third and last token on this instance (one submission in each of two other tests)
        assertEquals(404, as(limitedClient.web().get("/v1/generations/x"), ALICE).send().await().statusCode(),
                "a valid key from the same address is not affected");
    }

    @Test
    void healthReadinessMetricsAndTheOpenApiDocumentNeedNoKey() {
        for (String path : new String[] {"/healthz", "/readyz", "/metrics", "/openapi.yaml"}) {
            assertEquals(200, client.get(path).statusCode(), path);
        }
    }

    @Test
    void theSameIdempotencyKeyFromTwoApiKeysIsTwoJobsAndFromOneKeyTheSameJobOnEveryInstance() {
        HttpResponse<Buffer> alice = submit(client, ALICE, "shared-key");
        HttpResponse<Buffer> bob = submit(client, BOB, "shared-key");
        assertEquals(202, alice.statusCode(), alice.bodyAsString());
        assertEquals(202, bob.statusCode(), "not a replay of alice's job: " + bob.bodyAsString());
        String aliceId = alice.bodyAsJsonObject().getString("id");
        assertNotEquals(aliceId, bob.bodyAsJsonObject().getString("id"));

        HttpResponse<Buffer> again = submit(client, ALICE, "shared-key");
        assertEquals(200, again.statusCode());
        assertEquals(aliceId, again.bodyAsJsonObject().getString("id"));
        // another instance with alice's key gives the same id (a replay, or 202 if its view has not read it yet)
        HttpResponse<Buffer> elsewhere = submit(limitedClient, ALICE, "shared-key");
        assertTrue(elsewhere.statusCode() == 200 || elsewhere.statusCode() == 202, elsewhere.bodyAsString());
        assertEquals(aliceId, elsewhere.bodyAsJsonObject().getString("id"));
        String derived = IdempotentJobIds.jobId(ApiKeys.parse(ALICE).authenticate(ALICE).orElseThrow(), "shared-key");
        assertEquals(aliceId, derived, "a function of the key's hash and the Idempotency-Key alone");
    }

    @Test
    void aKeyPastItsBurstGets429WithRetryAfterAndTheJsonErrorWhileAnotherKeyIsServed() {
        for (int i = 0; i < LIMITED_BURST; i++) {
            assertEquals(404, as(limitedClient.web().get("/v1/generations/none-" + i), LIMITED).send().await()
                    .statusCode(), "within the burst: answered, not limited");
        }
        HttpResponse<Buffer> refused = submit(limitedClient, LIMITED, null);
        assertEquals(429, refused.statusCode(), refused.bodyAsString());
        assertTrue(Long.parseLong(refused.getHeader("Retry-After")) >= 1, "Retry-After in seconds");
        assertEquals("rate_limited", refused.bodyAsJsonObject().getJsonObject("error").getString("code"));
        assertEquals(202, submit(limitedClient, ALICE, null).statusCode(), "buckets are per key");
    }
}
