package dalle2.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import dalle2.djl.DjlRuntime;
import dalle2.embedded.EmbeddedS3;
import dalle2.gateway.GatewayPolicy;
import dalle2.inference.DallE2;
import dalle2.json.Json;
import dalle2.messages.JobState;
import dalle2.messages.ModelManifest;
import dalle2.messages.ModelVersion;
import dalle2.models.Decoder;
import dalle2.models.DecoderConfig;
import dalle2.registry.ModelCatalog;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;
import picocli.CommandLine;

/**
 * Roll-out through the product's own surfaces: the embedded stack with {@code --follow-registry} workers, the
 * {@code ./dalle2 models} commands to publish and pin, and jobs submitted to the gateway, whose statuses name the
 * decoder version that drew them. Switching and rolling back need no restart.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(300)
class RegistryRolloutStackTest {

    private EmbeddedStack stack;
    private Path models;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    void start() throws Exception {
        Path dir = Files.createTempDirectory("dalle2-rollout-stack");
        models = dalle2.inference.TinyModels.write(dir.resolve("models"));
        stack = EmbeddedStack.start(dir.resolve("data"), 0, 1, 1, 0, ModelFactory.load(models),
                GatewayPolicy.loopback(), dir.resolve("cache"));
    }

    @AfterAll
    void stop() {
        if (stack != null) {
            stack.close();
        }
    }

    private int models(StringWriter err, String... args) {
        String[] connection = {"--kafka", stack.kafkaBootstrap(), "--s3", stack.s3Endpoint(),
                "--s3-key", EmbeddedS3.DEFAULT_ACCESS_KEY, "--s3-secret", EmbeddedS3.DEFAULT_SECRET_KEY};
        String[] all = new String[1 + args.length + connection.length];
        all[0] = "models";
        System.arraycopy(args, 0, all, 1, args.length);
        System.arraycopy(connection, 0, all, 1 + args.length, connection.length);
        return new CommandLine(new Main()).setErr(new PrintWriter(err, true)).execute(all);
    }

    @Test
    void publishedAndPinnedDecodersDrawTheNextJobsAndThePinSetBackRollsBack() throws Exception {
        String clip = ModelVersion.of("clip", models.resolve(DallE2.CLIP_DIR));
        String local = stackDecoderOf(submitAndWait());

        Path other = Files.createTempDirectory("decoder-b");
        DecoderConfig config = DecoderConfig.read(models.resolve(DallE2.DECODER_DIR));
        try (NDManager manager = DjlRuntime.newManager()) {
            Decoder.create(config, manager, 21).save(other);
        }
        StringWriter err = new StringWriter();
        assertEquals(0, models(err, "publish", "decoder", models.resolve(DallE2.DECODER_DIR).toString(), "--clip", clip), err.toString());
        assertEquals(0, models(err, "publish", "decoder", other.toString(), "--clip", clip), err.toString());
        List<ModelManifest> published;
        try (ModelCatalog catalog = new ModelCatalog(stack.kafkaBootstrap(), "test").start()) {
            assertTrue(catalog.awaitCaughtUp(Duration.ofSeconds(30)));
            published = catalog.versions("decoder");
        }
        assertEquals(2, published.size(), published + " / " + err);
        String a = published.get(0).version();
        String b = published.get(1).version();
        assertNotEquals(local, a, "the published A records its CLIP: another version than the local folder");

        assertEquals(0, models(err, "pin", "decoder", b), err.toString());
        assertEquals(b, awaitJobsOn(b), "after the pin, new jobs are drawn by B");
        assertEquals(0, models(err, "pin", "decoder", a), err.toString());
        assertEquals(a, awaitJobsOn(a), "the pin set back: new jobs are drawn by A again");

        StringWriter refused = new StringWriter();
        assertEquals(2, models(refused, "pin", "decoder", "decoder@ffffffffffff"));
        assertTrue(refused.toString().contains("no published decoder version decoder@ffffffffffff"), refused.toString());
        StringWriter badRole = new StringWriter();
        assertEquals(2, models(badRole, "publish", "painter", other.toString()));
        assertTrue(badRole.toString().contains("role must be one of"), badRole.toString());
    }

    /** Submits jobs until one is drawn by {@code version} (the switch happens between batches). */
    private String awaitJobsOn(String version) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        String seen;
        do {
            seen = stackDecoderOf(submitAndWait());
        } while (!seen.equals(version) && System.nanoTime() < deadline);
        return seen;
    }

    private String stackDecoderOf(JsonNode status) {
        assertEquals("succeeded", status.path("state").asText(), status.toString());
        return status.path("models").path("decoder").asText();
    }

    private JsonNode submitAndWait() throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(stack.gatewayUrl() + "/v1/generations"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
                        "{\"prompt\":\"a red apple\",\"n\":1,\"seed\":3,\"prior_steps\":2,\"decoder_steps\":2}")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(202, r.statusCode(), r.body());
        String id = Json.mapper().readTree(r.body()).path("id").asText();
        long deadline = System.currentTimeMillis() + 120_000;
        while (true) {
            HttpResponse<String> s = http.send(HttpRequest.newBuilder(URI.create(stack.gatewayUrl()
                    + "/v1/generations/" + id)).build(), HttpResponse.BodyHandlers.ofString());
            if (s.statusCode() == 200) {
                JsonNode status = Json.mapper().readTree(s.body());
                if (JobState.fromWire(status.path("state").asText()).terminal()) {
                    return status;
                }
            }
            assertTrue(System.currentTimeMillis() < deadline, "job " + id + " did not finish: " + s.body());
            Thread.sleep(50);
        }
    }
}
