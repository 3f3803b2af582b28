package dalle2.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dalle2.embedded.TopicRecords;
import dalle2.inference.ImageTensors;
import dalle2.inference.ModelProvider;
import dalle2.json.Json;
import dalle2.kafka.Topics;
import dalle2.messages.JobState;
import dalle2.messages.JobStatus;
import dalle2.messages.LowResImages;
import dalle2.storage.ObjectStore;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * The embedded stack with a models folder that holds an upsampler (the tiny real networks: 32 px base decoder,
 * 32 → 256 upsampler of two DDIM steps): it starts an upsampler worker of its own, jobs run prior → decoder →
 * upsampler through the real in-JVM broker and S3 server, and {@code generate} writes full-size PNGs.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class UpsampledGenerationTest {

    private Path dir;

    private EmbeddedStack stack;
    private ObjectStore store;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    void start() throws Exception {
        dir = Files.createTempDirectory("dalle2-upsampled-stack");
        Path models = dalle2.inference.TinyModels.writeWithUpsampler(Files.createTempDirectory("dalle2-upsampled"));
        ModelProvider provider = ModelFactory.load(models);
        assertTrue(provider.hasUpsampler());
        stack = EmbeddedStack.start(dir.resolve("data"), 0, 1, 1, provider);
        store = new ObjectStore(new ObjectStore.Config(stack.s3Endpoint(), dalle2.embedded.EmbeddedS3.DEFAULT_ACCESS_KEY,
                dalle2.embedded.EmbeddedS3.DEFAULT_SECRET_KEY, EmbeddedStack.BUCKET));
    }

    @AfterAll
    void stop() {
        if (store != null) {
            store.close();
        }
        if (stack != null) {
            stack.close();
        }
    }

    @Test
    void theStackStartsAnUpsamplerWorkerAndGenerateWrites256PxPngsAndASheetOf256PxTiles() throws Exception {
        assertEquals(1, stack.services().upsamplerWorkers().size());
        Path out = dir.resolve("generations");
        List<Path> files = GenerateCommand.generate(http, stack.gatewayUrl(), null,
                List.of("{\"prompt\":\"a red apple\",\"n\":2,\"seed\":5,\"prior_steps\":2,\"decoder_steps\":2}"),
                out, Duration.ofMinutes(3));
        assertEquals(List.of(out.resolve("0.png"), out.resolve("1.png"), out.resolve("contact-sheet.png")), files);
        for (Path png : files.subList(0, 2)) {
            BufferedImage image = ImageIO.read(png.toFile());
            assertEquals(256, image.getWidth(), "without a size the stack draws its largest: 256");
            assertEquals(256, image.getHeight());
        }
        BufferedImage sheet = ImageIO.read(out.resolve("contact-sheet.png").toFile());
        assertEquals(2 * (256 + 2) + 2, sheet.getWidth(), "two 256 px tiles with their gutters");
        assertEquals(256 + 2 * 2, sheet.getHeight());
    }

    @Test
    void oneSeedGivesTheSameBaseImageAtEverySizeAnd64And128AreAreaAveragesOfThe256Image() throws Exception {
        Map<Integer, String> jobs = new LinkedHashMap<>();
        for (int size : new int[] {32, 64, 128, 256}) {
            jobs.put(size, submit("{\"prompt\":\"a red apple\",\"n\":1,\"seed\":9,\"prior_steps\":2,"
                    + "\"decoder_steps\":2,\"size\":" + size + "}"));
        }
        Map<Integer, BufferedImage> images = new LinkedHashMap<>();
        for (Map.Entry<Integer, String> job : jobs.entrySet()) {
            JsonNode status = awaitTerminal(job.getValue());
            assertEquals("succeeded", status.path("state").asText(), status.toString());
            assertEquals(job.getKey().intValue(), status.path("params").path("size").asInt());
            BufferedImage image = ImageIO.read(new ByteArrayInputStream(png(status)));
            assertEquals(job.getKey().intValue(), image.getWidth());
            assertEquals(job.getKey().intValue(), image.getHeight());
            assertTrue(store.stat(job.getValue() + "/0.png").isPresent(), "the PNG is in S3 at <job id>/0.png");
            assertEquals(job.getKey() > 32, status.path("models").has("upsampler"), status.path("models").toString());
            images.put(job.getKey(), image);
        }

        LowResImages base256 = TopicRecords.awaitFirst(stack.kafkaBootstrap(), Topics.LOWRES, jobs.get(256),
                LowResImages.class, Duration.ofSeconds(10));
        assertArrayEquals(ImageTensors.rgbBytes(images.get(32)), base256.rgb(0),
                "the upsampler started from exactly the size-32 job's image");
        LowResImages base64 = TopicRecords.awaitFirst(stack.kafkaBootstrap(), Topics.LOWRES, jobs.get(64),
                LowResImages.class, Duration.ofSeconds(10));
        assertArrayEquals(base256.rgb(0), base64.rgb(0));
        for (int size : new int[] {64, 128}) {
            // averaging 8-bit pixels or averaging first and rounding once differ by at most one level
            assertTrue(maxChannelDifference(areaAverage(images.get(256), size), images.get(size)) <= 1,
                    "size " + size + " is the 256 px image averaged");
        }
        assertTrue(TopicRecords.all(stack.kafkaBootstrap(), Topics.LOWRES, jobs.get(32), LowResImages.class).isEmpty(),
                "a size-32 job goes from the decoder straight to storage");

        List<JobStatus> statuses = TopicRecords.all(stack.kafkaBootstrap(), Topics.STATUS, jobs.get(256),
                JobStatus.class);
        assertTrue(statuses.stream().anyMatch(s -> s.state() == JobState.UPSAMPLING && s.progress() != null
                && s.progress().stage().equals("upsampler")), "an upsampling status with its progress: " + statuses);
        assertFalse(TopicRecords.all(stack.kafkaBootstrap(), Topics.STATUS, jobs.get(32), JobStatus.class).stream()
                .anyMatch(s -> s.state() == JobState.UPSAMPLING), "a size-32 job never waits on the upsampler");
    }

    private String submit(String json) throws IOException, InterruptedException {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(stack.gatewayUrl() + "/v1/generations"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(202, r.statusCode(), r.body());
        return Json.mapper().readTree(r.body()).path("id").asText();
    }

    private JsonNode awaitTerminal(String id) throws IOException, InterruptedException {
        long deadline = System.currentTimeMillis() + 180_000;
        while (true) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(stack.gatewayUrl()
                    + "/v1/generations/" + id)).build(), HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() == 200) {
                JsonNode s = Json.mapper().readTree(r.body());
                if (JobState.fromWire(s.path("state").asText()).terminal()) {
                    return s;
                }
            }
            assertTrue(System.currentTimeMillis() < deadline, "job " + id + " did not finish: " + r.body());
            Thread.sleep(50);
        }
    }

    private byte[] png(JsonNode status) throws IOException, InterruptedException {
        HttpResponse<byte[]> r = http.send(HttpRequest.newBuilder(URI.create(stack.gatewayUrl()
                + status.path("images").get(0).path("url").asText())).build(), HttpResponse.BodyHandlers.ofByteArray());
        assertEquals(200, r.statusCode());
        return r.body();
    }

    /** The mean of each block of 8-bit pixels, rounded. */
    private static BufferedImage areaAverage(BufferedImage image, int size) {
        int f = image.getWidth() / size;
        BufferedImage out = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                int[] sum = new int[3];
                for (int dy = 0; dy < f; dy++) {
                    for (int dx = 0; dx < f; dx++) {
                        int rgb = image.getRGB(x * f + dx, y * f + dy);
                        sum[0] += (rgb >> 16) & 0xFF;
                        sum[1] += (rgb >> 8) & 0xFF;
                        sum[2] += rgb & 0xFF;
                    }
                }
                int r = Math.round(sum[0] / (float) (f * f));
                int g = Math.round(sum[1] / (float) (f * f));
                int b = Math.round(sum[2] / (float) (f * f));
                out.setRGB(x, y, (r << 16) | (g << 8) | b);
            }
        }
        return out;
    }

    private static int maxChannelDifference(BufferedImage a, BufferedImage b) {
        int max = 0;
        for (int y = 0; y < a.getHeight(); y++) {
            for (int x = 0; x < a.getWidth(); x++) {
                int p = a.getRGB(x, y);
                int q = b.getRGB(x, y);
                for (int shift = 0; shift <= 16; shift += 8) {
                    max = Math.max(max, Math.abs(((p >> shift) & 0xFF) - ((q >> shift) & 0xFF)));
                }
            }
        }
        return max;
    }
}
