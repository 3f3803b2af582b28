package dalle2.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle2.embedded.EmbeddedServersExtension;
import dalle2.embedded.TopicRecords;
import dalle2.kafka.Topics;
import dalle2.messages.GenerationRequest;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The {@code size} field against a real in-JVM broker and S3Proxy, on two gateways: one of a deployment with an
 * upsampler pool, one without.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GatewayImageSizesTest {

    @RegisterExtension
    static final EmbeddedServersExtension servers = EmbeddedServersExtension.kafkaAndS3();

    private static GatewayTestClient withUpsampler;
    private static GatewayTestClient baseOnly;

    @BeforeAll
    static void start() throws Exception {
        Gateway upsampled = servers.closeAfterAll(Gateway.start(GatewayConfig.of("127.0.0.1", 0, servers.bootstrap(),
                servers.storage("images")).withSizes(ImageSizes.WITH_UPSAMPLER)));
        Gateway base = servers.closeAfterAll(Gateway.start(GatewayConfig.of("127.0.0.1", 0, servers.bootstrap(),
                servers.storage("images"))));
        withUpsampler = servers.closeAfterAll(new GatewayTestClient(upsampled.port()));
        baseOnly = servers.closeAfterAll(new GatewayTestClient(base.port()));
    }

    private static HttpResponse<Buffer> post(GatewayTestClient client, String json) {
        return client.web().post("/v1/generations").putHeader("Content-Type", "application/json")
                .sendBuffer(Buffer.buffer(json)).await();
    }

    @Test
    void withAnUpsamplerASubmissionWithoutASizeIs256AndTheSizeTravelsInTheRequest() {
        HttpResponse<Buffer> r = post(withUpsampler, "{\"prompt\":\"a red cube\"}");
        assertEquals(202, r.statusCode(), r.bodyAsString());
        String id = r.bodyAsJsonObject().getString("id");
        assertEquals(256, withUpsampler.get("/v1/generations/" + id).bodyAsJsonObject().getJsonObject("params")
                .getInteger("size"));
        assertEquals(256, readRequest(id).size());

        String small = post(withUpsampler, "{\"prompt\":\"a red cube\",\"size\":64}").bodyAsJsonObject().getString("id");
        assertEquals(64, readRequest(small).size());
    }

    @Test
    void withoutAnUpsamplerASubmissionWithoutASizeIs32() {
        HttpResponse<Buffer> r = post(baseOnly, "{\"prompt\":\"a red cube\"}");
        assertEquals(202, r.statusCode(), r.bodyAsString());
        String id = r.bodyAsJsonObject().getString("id");
        assertEquals(32, baseOnly.get("/v1/generations/" + id).bodyAsJsonObject().getJsonObject("params")
                .getInteger("size"));
        assertEquals(32, readRequest(id).size());
        assertEquals(202, post(baseOnly, "{\"prompt\":\"a red cube\",\"size\":32}").statusCode());
    }

    @ParameterizedTest
    @ValueSource(ints = {64, 128, 256})
    void withoutAnUpsamplerALargerSizeIsA400SayingNoneIsDeployedAndWhichSizesAreAvailable(int size) {
        HttpResponse<Buffer> r = post(baseOnly, "{\"prompt\":\"a red cube\",\"size\":" + size + "}");
        assertEquals(400, r.statusCode(), r.bodyAsString());
        JsonObject error = r.bodyAsJsonObject().getJsonObject("error");
        assertEquals("invalid_request", error.getString("code"));
        assertEquals("size", error.getString("field"));
        assertEquals("size " + size + " needs the upsampler, and no upsampler is deployed here; available sizes: [32]",
                error.getString("message"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"48", "0", "-32", "512", "100000000000", "\"256\"", "256.0", "true", "null"})
    void aSizeThatIsNotOneOf32To256IsA400NamingTheField(String size) {
        for (GatewayTestClient client : new GatewayTestClient[] {withUpsampler, baseOnly}) {
            HttpResponse<Buffer> r = post(client, "{\"prompt\":\"a red cube\",\"size\":" + size + "}");
            if (size.equals("null")) {
                // an explicit null is an absent size: the deployment's default
                assertEquals(202, r.statusCode(), r.bodyAsString());
                continue;
            }
            assertEquals(400, r.statusCode(), size + ": " + r.bodyAsString());
            JsonObject error = r.bodyAsJsonObject().getJsonObject("error");
            assertEquals("invalid_request", error.getString("code"));
            assertEquals("size", error.getString("field"), error.getString("message"));
        }
    }

    @Test
    void anInvalidSizeNamesTheSizesThereAre() {
        JsonObject error = post(withUpsampler, "{\"prompt\":\"a red cube\",\"size\":48}").bodyAsJsonObject()
                .getJsonObject("error");
        assertTrue(error.getString("message").equals("size must be one of [32, 64, 128, 256], got 48"),
                error.getString("message"));
    }

    private static GenerationRequest readRequest(String id) {
        return TopicRecords.awaitFirst(servers.bootstrap(), Topics.REQUESTS, id, GenerationRequest.class,
                Duration.ofSeconds(10));
    }
}
