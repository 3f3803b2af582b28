package dalle2.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle2.embedded.EmbeddedServersExtension;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * The cost cap, and the backlog gate measured from the prior group's real consumer lag (there are no prior
 * workers here, so every accepted job stays in the backlog).
 */
@Timeout(value = 90, unit = TimeUnit.SECONDS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class GatewayAdmissionTest {

    @RegisterExtension
    static final EmbeddedServersExtension servers = EmbeddedServersExtension.kafkaAndS3();

    private static final long MAX_BACKLOG = 2;
    private static final long MAX_COST = 100;

    private static GatewayTestClient client;

    @BeforeAll
    static void start() throws Exception {
        GatewayPolicy policy = GatewayPolicy.of(AccessConfig.openMode()).withAdmission(new AdmissionConfig(
                MAX_BACKLOG, AdmissionConfig.MIN_BACKLOG_REFRESH, AdmissionConfig.CostModel.ALL_STEPS, MAX_COST));
        try (LogCapture logs = new LogCapture()) {
            Gateway gateway = servers.closeAfterAll(Gateway.start(GatewayConfig.of("127.0.0.1", 0,
                    servers.bootstrap(), servers.storage("images"), policy)));
            client = servers.closeAfterAll(new GatewayTestClient(gateway.port()));
            openModeWarning = logs.lines().stream().filter(l -> l.startsWith("WARN OPEN MODE")).findFirst();
        }
    }

    private static java.util.Optional<String> openModeWarning;

    @Test
    @Order(0)
    void openModeIsLoggedLoudlyAtStart() {
        assertTrue(openModeWarning.isPresent(), "a WARN line saying the API is open");
    }

    private static HttpResponse<Buffer> post(String json) {
        return client.web().post("/v1/generations").putHeader("Content-Type", "application/json")
                .sendBuffer(Buffer.buffer(json)).await();
    }

    @Test
    @Order(1)
    void aRequestCostingMoreThanTheCapIs400NamingN() {
        HttpResponse<Buffer> over = post("{\"prompt\":\"p\",\"n\":2,\"prior_steps\":30,\"decoder_steps\":21}");
        assertEquals(400, over.statusCode(), over.bodyAsString());
        JsonObject error = over.bodyAsJsonObject().getJsonObject("error");
        assertEquals("cost_too_high", error.getString("code"));
        assertEquals("n", error.getString("field"));
        assertTrue(error.getString("message").contains("102"), error.getString("message"));
        assertEquals("n × decoder_steps", AdmissionConfig.CostModel.DECODER_STEPS.formula());
    }

    /** Last: it fills the backlog, after which every submission here is refused. */
    @Test
    @Order(2)
    void submissionsAre503WithRetryAfterOnceThePriorBacklogPassesTheBound() throws Exception {
        HttpResponse<Buffer> last = null;
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        int accepted = 0;
        while (System.nanoTime() < deadline) {
            last = post("{\"prompt\":\"backlog\",\"prior_steps\":1,\"decoder_steps\":1}");
            if (last.statusCode() == 503) {
                break;
            }
            assertEquals(202, last.statusCode(), last.bodyAsString());
            accepted++;
            Thread.sleep(50);
        }
        assertEquals(503, last.statusCode(), "refused once the lag passed " + MAX_BACKLOG);
        assertTrue(accepted > MAX_BACKLOG, "accepted " + accepted + " first");
        assertTrue(Long.parseLong(last.getHeader("Retry-After")) >= 1);
        assertEquals("overloaded", last.bodyAsJsonObject().getJsonObject("error").getString("code"));
        assertEquals(200, client.get("/healthz").statusCode(), "only submissions are gated");
    }
}
