package dalle2.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle2.embedded.TopicRecords;
import dalle2.inference.DallE2;
import dalle2.kafka.Topics;
import dalle2.messages.GenerationRequest;
import dalle2.messages.ImageEmbeddings;
import dalle2.messages.SamplerKind;
import dalle2.messages.SamplingParams;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.net.http.HttpClient;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.Timeout;

/**
 * Image variations end to end on the embedded stack with the tiny models: {@code vary} uploads a JPEG, the prior
 * worker embeds it with CLIP (no prior), the decoder draws n images, and they are exactly what
 * {@code DallE2.vary} draws in this JVM from the same normalised image, seed and settings.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class VariationsPipelineTest {

    private Path dir;
    private EmbeddedStack stack;

    @BeforeAll
    void start() throws Exception {
        dir = Files.createTempDirectory("dalle2-variations");
        stack = EmbeddedStack.start(dir.resolve("data"), 0, 1, 1, ModelFactory.load(TinyModels.folder()));
    }

    @AfterAll
    void stop() {
        if (stack != null) {
            stack.close();
        }
    }

    private static byte[] jpeg() throws Exception {
        BufferedImage image = new BufferedImage(90, 60, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, 90, 60);
        g.setColor(Color.RED);
        g.fillOval(20, 5, 50, 50);
        g.dispose();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(image, "jpeg", out);
        return out.toByteArray();
    }

    @Test
    void varyRunsCLIPThenTheDecoderAndDrawsWhatDallE2VaryDrawsFromTheSameImage() throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        Path out = dir.resolve("variations");
        String self = VaryCommand.submit(http, stack.gatewayUrl(), null, jpeg(), "n=2&seed=21&decoder_steps=3");
        String jobId = self.substring(self.lastIndexOf('/') + 1);
        List<Path> files = GenerateCommand.collect(http, stack.gatewayUrl(), null, List.of(self), out,
                Duration.ofMinutes(3));
        assertEquals(List.of(out.resolve("0.png"), out.resolve("1.png"), out.resolve("contact-sheet.png")), files);

        GenerationRequest request = TopicRecords.awaitFirst(stack.kafkaBootstrap(), Topics.REQUESTS, jobId,
                GenerationRequest.class, Duration.ofSeconds(10));
        assertTrue(request.isVariation());
        ImageEmbeddings embeddings = TopicRecords.awaitFirst(stack.kafkaBootstrap(), Topics.EMBEDDINGS, jobId,
                ImageEmbeddings.class, Duration.ofSeconds(10));
        BufferedImage source = ImageIO.read(new ByteArrayInputStream(request.imagePng().orElseThrow()));

        try (DallE2 local = DallE2.load(TinyModels.folder())) {
            float[] clip = local.encodeImages(List.of(source)).get(0);
            for (int k = 0; k < 2; k++) {
                float[] sent = embeddings.embedding(k);
                for (int i = 0; i < clip.length; i++) {
                    assertEquals(clip[i], sent[i], 1e-5f, "image " + k + " carries the CLIP image embedding");
                }
            }
            List<BufferedImage> expected = local.vary(source, 2, 21L, new SamplingParams(3, 0f,
                    (float) GenerationRequest.DEFAULT_DECODER_GUIDANCE, SamplerKind.DDIM));
            for (int k = 0; k < 2; k++) {
                BufferedImage got = ImageIO.read(files.get(k).toFile());
                assertTrue(maxChannelDifference(expected.get(k), got) <= 1, "image " + k + " as DallE2.vary draws it");
            }
            assertTrue(maxChannelDifference(expected.get(0), expected.get(1)) > 0, "the two variations differ");
        }
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
