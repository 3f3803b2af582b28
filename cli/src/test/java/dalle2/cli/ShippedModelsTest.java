package dalle2.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dalle2.inference.DallE2;
import dalle2.inference.ImageTensors;
import dalle2.inference.SamplingParams;
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

    private static long distinctColours(BufferedImage image) {
        return java.util.Arrays.stream(image.getRGB(0, 0, image.getWidth(), image.getHeight(), null, 0, image.getWidth()))
                .distinct().count();
    }
}
