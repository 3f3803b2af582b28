package dalle2.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dalle2.djl.DjlRuntime;
import dalle2.inference.DallE2;
import dalle2.inference.ImageTensors;
import dalle2.messages.SamplingParams;
import dalle2.models.Upsampler;
import dalle2.sampling.Sampler;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The models in trained_models/ load and draw real, non-constant, reproducible images. */
class ShippedModelsTest {

    private static final Path SHIPPED = Path.of("..", "trained_models");

    @Test
    void theShippedModelsDrawNonConstantImagesOfTheConfiguredSizeAndTheSameSeedRepeats() throws Exception {
        assumeTrue(Files.isRegularFile(SHIPPED.resolve("decoder/config.json")), "no shipped models yet");
        try (DallE2 dalle2 = DallE2.load(SHIPPED)) {
            SamplingParams prior = new SamplingParams(8, 0f, 1f);
            SamplingParams decoder = new SamplingParams(10, 0f, 3f);
            List<String> prompts = List.of("a red apple", "a photo of a sneaker");
            List<BufferedImage> first = dalle2.generate(prompts, 7, prior, decoder);
            List<BufferedImage> again = dalle2.generate(prompts, 7, prior, decoder);
            assertEquals(2, first.size());
            for (int i = 0; i < first.size(); i++) {
                BufferedImage image = first.get(i);
                assertEquals(dalle2.imageSize(), image.getWidth());
                assertEquals(dalle2.imageSize(), image.getHeight());
                assertTrue(distinctColours(image) > 16, "image " + i + " is not a flat picture");
                assertArrayEquals(ImageTensors.png(image), ImageTensors.png(again.get(i)), "same seed, same bytes");
            }
        }
    }

    @Test
    void theShippedUpsamplerDrawsA256PixelImageThatFollowsItsInputAndRepeats() throws Exception {
        assumeTrue(Files.isRegularFile(SHIPPED.resolve("upsampler/config.json")), "no shipped upsampler");
        try (NDManager manager = DjlRuntime.newManager()) {
            Upsampler upsampler = Upsampler.load(SHIPPED.resolve("upsampler"), manager);
            assertEquals(32, upsampler.config().lowResSize());
            assertEquals(256, upsampler.config().imageSize());
            // a red disc on white, as a 32 px base image would draw it
            BufferedImage base = new BufferedImage(32, 32, BufferedImage.TYPE_INT_RGB);
            java.awt.Graphics2D g = base.createGraphics();
            g.setColor(java.awt.Color.WHITE);
            g.fillRect(0, 0, 32, 32);
            g.setColor(java.awt.Color.RED);
            g.fillOval(6, 6, 20, 20);
            g.dispose();
            NDArray low = ImageTensors.toTensor(manager, List.of(base), 3, 32);
            BufferedImage first = ImageTensors.toImages(upsampler.upsample(low, new long[] {5}, Sampler.Progress.NONE)).get(0);
            BufferedImage again = ImageTensors.toImages(upsampler.upsample(low, new long[] {5}, Sampler.Progress.NONE)).get(0);
            assertEquals(256, first.getWidth());
            assertArrayEquals(ImageTensors.png(first), ImageTensors.png(again), "same seed, same bytes");
            java.awt.Color centre = new java.awt.Color(first.getRGB(128, 128));
            java.awt.Color corner = new java.awt.Color(first.getRGB(8, 8));
            assertTrue(centre.getRed() > 150 && centre.getGreen() < 110, "the disc stays red: " + centre);
            assertTrue(corner.getRed() > 200 && corner.getGreen() > 200 && corner.getBlue() > 200,
                    "the background stays white: " + corner);
        }
    }

    private static long distinctColours(BufferedImage image) {
        return java.util.Arrays.stream(image.getRGB(0, 0, image.getWidth(), image.getHeight(), null, 0, image.getWidth()))
                .distinct().count();
    }
}
