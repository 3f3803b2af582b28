package dalle2.gateway;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle2.embedded.EmbeddedServersExtension;
import dalle2.embedded.TopicRecords;
import dalle2.kafka.Topics;
import dalle2.messages.GenerationRequest;
import dalle2.messages.JobStatus;
import io.vertx.core.json.JsonObject;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/** {@code POST /v1/variations} at the gateway alone (no workers), on the real broker and S3. */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class GatewayVariationsTest {

    @RegisterExtension
    static final EmbeddedServersExtension servers = EmbeddedServersExtension.kafkaAndS3();

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static int port;
    private static GatewayTestClient client;

    @BeforeAll
    static void start() throws Exception {
        Gateway gateway = servers.closeAfterAll(Gateway.start(GatewayConfig.of("127.0.0.1", 0, servers.bootstrap(),
                servers.storage("images"))));
        port = gateway.port();
        client = servers.closeAfterAll(new GatewayTestClient(port));
    }

    static byte[] png(int w, int h, int type) throws Exception {
        BufferedImage image = new BufferedImage(w, h, type);
        Graphics2D g = image.createGraphics();
        g.setColor(Color.ORANGE);
        g.fillOval(0, 0, w, h);
        g.dispose();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(image, "png", out);
        return out.toByteArray();
    }

    private static HttpResponse<String> post(String query, String contentType, byte[] body, String idempotencyKey)
            throws Exception {
        HttpRequest.Builder r = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/variations"
                + (query.isEmpty() ? "" : "?" + query))).POST(HttpRequest.BodyPublishers.ofByteArray(body));
        if (contentType != null) {
            r.header("Content-Type", contentType);
        }
        if (idempotencyKey != null) {
            r.header("Idempotency-Key", idempotencyKey);
        }
        return HTTP.send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonObject error(HttpResponse<String> r) {
        return new JsonObject(r.body()).getJsonObject("error");
    }

    @Test
    void aPngUploadIsAVariationsJobWhoseRequestCarriesTheNormalisedImageAndWhoseStatusOnlyItsHash() throws Exception {
        HttpResponse<String> r = post("n=3&seed=11&decoder_steps=4&decoder_guidance=3.5", "image/png",
                png(300, 200, BufferedImage.TYPE_INT_ARGB), "vary-1");
        assertEquals(202, r.statusCode(), r.body());
        JsonObject accepted = new JsonObject(r.body());
        assertEquals("queued", accepted.getString("state"));
        String id = accepted.getString("id");

        GenerationRequest onTopic = TopicRecords.awaitFirst(servers.bootstrap(), Topics.REQUESTS, id,
                GenerationRequest.class, Duration.ofSeconds(10));
        assertTrue(onTopic.isVariation());
        BufferedImage source = ImageIO.read(new ByteArrayInputStream(onTopic.imagePng().orElseThrow()));
        assertEquals(128, source.getWidth(), "the centre square, averaged to 128 px");
        assertEquals(3, onTopic.n());
        assertEquals(11L, onTopic.seed());
        assertEquals(GenerationRequest.VARIATION_PRIOR_STEPS, onTopic.priorSteps(), "no prior runs");

        JsonObject params = client.get("/v1/generations/" + id).bodyAsJsonObject().getJsonObject("params");
        assertEquals("variation", params.getString("kind"));
        assertEquals(onTopic.imageSha256(), params.getString("image_sha256"));
        assertEquals(3.5, params.getDouble("decoder_guidance"));
        assertEquals(VariationQuery.DEFAULT_LABEL, params.getString("prompt"));

        JobStatus claim = TopicRecords.awaitFirst(servers.bootstrap(), Topics.STATUS, id, JobStatus.class,
                Duration.ofSeconds(10));
        assertNull(claim.request().image(), "statuses leave the image out");
        assertEquals(onTopic.imageSha256(), claim.request().imageSha256());

        HttpResponse<String> again = post("n=3&seed=11&decoder_steps=4&decoder_guidance=3.5", "image/png",
                png(300, 200, BufferedImage.TYPE_INT_ARGB), "vary-1");
        assertEquals(200, again.statusCode(), "the same key and image: the same job");
        assertEquals(id, new JsonObject(again.body()).getString("id"));
        HttpResponse<String> other = post("n=3&seed=11&decoder_steps=4&decoder_guidance=3.5", "image/png",
                png(64, 64, BufferedImage.TYPE_BYTE_GRAY), "vary-1");
        assertEquals(409, other.statusCode(), "the same key with another image");
    }

    @Test
    void aJpegIsAcceptedAndEveryBadUploadIsA4xxNamingTheProblem() throws Exception {
        ByteArrayOutputStream jpeg = new ByteArrayOutputStream();
        ImageIO.write(ImageIO.read(new ByteArrayInputStream(png(80, 80, BufferedImage.TYPE_INT_RGB))), "jpeg", jpeg);
        assertEquals(202, post("", "image/jpeg", jpeg.toByteArray(), null).statusCode());

        HttpResponse<String> text = post("", "text/plain", "hello".getBytes(), null);
        assertEquals(415, text.statusCode());
        assertEquals("Content-Type", error(text).getString("field"));
        HttpResponse<String> none = post("", null, png(8, 8, BufferedImage.TYPE_INT_RGB), null);
        assertEquals(415, none.statusCode());

        HttpResponse<String> mislabelled = post("", "image/png", jpeg.toByteArray(), null);
        assertEquals(400, mislabelled.statusCode());
        assertEquals("invalid_image", error(mislabelled).getString("code"));
        assertEquals("image", error(mislabelled).getString("field"));

        HttpResponse<String> bomb = post("", "image/png", VariationUploadTest.pngHeaderOnly(50_000, 50_000), null);
        assertEquals(400, bomb.statusCode());
        assertTrue(error(bomb).getString("message").contains("50000 x 50000"), bomb.body());

        HttpResponse<String> huge = post("", "image/png", new byte[VariationUpload.MAX_BYTES + 1], null);
        assertEquals(413, huge.statusCode());
        assertTrue(error(huge).getString("message").contains(String.valueOf(VariationUpload.MAX_BYTES)), huge.body());

        byte[] small = png(8, 8, BufferedImage.TYPE_INT_RGB);
        for (String[] c : List.of(new String[] {"n=9", "n"}, new String[] {"n=two", "n"},
                new String[] {"seed=1.5", "seed"}, new String[] {"decoder_guidance=NaN", "decoder_guidance"},
                new String[] {"prior_steps=3", "prior_steps"}, new String[] {"size=256", "size"},
                new String[] {"n=1&n=2", "n"}, new String[] {"sampler=euler", "sampler"},
                new String[] {"webhook=http://127.0.0.1:1/x", "webhook"})) {
            HttpResponse<String> bad = post(c[0], "image/png", small, null);
            assertEquals(400, bad.statusCode(), c[0] + ": " + bad.body());
            assertEquals(c[1], error(bad).getString("field"), c[0] + ": " + bad.body());
            assertFalse(error(bad).getString("message").isEmpty());
        }
    }

    @Test
    void aClientStillUploadingATooLargeImageReadsThe413() throws Exception {
        byte[] huge = new byte[VariationUpload.MAX_BYTES + 1];
        RawHttp.Response r = new RawHttp(port).exchangeAfterPause("POST /v1/variations HTTP/1.1\r\nHost: 127.0.0.1"
                + "\r\nContent-Type: image/png\r\nContent-Length: " + huge.length, huge, 500);
        assertEquals(413, r.status(), r.toString());
        assertEquals("payload_too_large", r.error().getString("code"));
        assertEquals("close", r.header("Connection"));
    }
}
