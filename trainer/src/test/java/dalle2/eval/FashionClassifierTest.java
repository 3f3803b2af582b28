package dalle2.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dalle2.data.ImageCaptionDataset;
import dalle2.data.ImageCaptionItem;
import dalle2.djl.DjlRuntime;
import dalle2.json.Json;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FashionClassifierTest {

    @BeforeAll
    static void djl() {
        DjlRuntime.configure();
    }

    static List<BufferedImage> noise(int n, long seed) {
        SplittableRandom random = new SplittableRandom(seed);
        List<BufferedImage> images = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            BufferedImage image = new BufferedImage(32, 32, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < 32; y++) {
                for (int x = 0; x < 32; x++) {
                    image.setRGB(x, y, random.nextInt(1 << 24));
                }
            }
            images.add(image);
        }
        return images;
    }

    @Test
    void theShippedClassifierLabelsAtLeast88PercentOfTheFirst1000TestImages() throws Exception {
        Path dir = ShippedModels.classifierDir();
        ImageCaptionDataset test = ShippedModels.fashionTest();
        List<BufferedImage> images = new ArrayList<>();
        List<Integer> labels = new ArrayList<>();
        for (ImageCaptionItem item : test.items().subList(0, 1000)) {
            images.add(item.loadImage().orElseThrow());
            labels.add(item.label());
        }
        try (NDManager manager = DjlRuntime.newManager()) {
            FashionClassifier classifier = FashionClassifier.load(dir, manager);
            int[] predicted = classifier.classify(images);
            int correct = 0;
            for (int i = 0; i < predicted.length; i++) {
                correct += predicted[i] == labels.get(i) ? 1 : 0;
            }
            System.out.printf("shipped classifier: %d/1000 of the first test images correct%n", correct);
            assertTrue(correct >= 880, correct + "/1000 correct");
        }
    }

    @Test
    void saveThenLoadGivesTheSameLabelsAndFeatures(@TempDir Path dir) throws Exception {
        List<BufferedImage> images = noise(6, 1);
        try (NDManager manager = DjlRuntime.newManager()) {
            FashionClassifier original = FashionClassifier.create(FashionClassifier.Config.fashionMnist(), manager, 5);
            FashionClassifier.Prediction before = original.predict(images);
            original.save(dir);
            FashionClassifier loaded = FashionClassifier.load(dir, manager);
            FashionClassifier.Prediction after = loaded.predict(images);

            assertEquals(FashionClassifier.Config.fashionMnist(), loaded.config());
            assertArrayEquals(before.labels(), after.labels());
            assertEquals(6, after.features().length);
            assertEquals(128, after.features()[0].length);
            for (int i = 0; i < 6; i++) {
                assertArrayEquals(before.features()[i], after.features()[i], 0.0);
            }
            assertTrue(Files.size(dir.resolve(FashionClassifier.WEIGHTS_FILE)) < 2_000_000);
        }
    }

    @Test
    void weightsThatDoNotMatchTheConfigAreRefusedNamingTheParameter(@TempDir Path dir) throws Exception {
        try (NDManager manager = DjlRuntime.newManager()) {
            FashionClassifier.create(FashionClassifier.Config.fashionMnist(), manager, 5).save(dir);
        }
        FashionClassifier.Config wider = new FashionClassifier.Config(FashionClassifier.MODEL, 32,
                FashionClassifier.Config.fashionMnist().layers(), 64, FashionClassifier.Config.fashionMnist().classes());
        Json.writeFile(dir.resolve(FashionClassifier.CONFIG_FILE), wider);
        try (NDManager manager = DjlRuntime.newManager()) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> FashionClassifier.load(dir, manager));
            assertTrue(e.getMessage().contains("do not match") && e.getMessage().contains("features"), e.getMessage());
        }
    }

    @Test
    void aConfigOfAnotherModelOrAMissingFileIsRefusedWithTheReason(@TempDir Path dir) throws Exception {
        try (NDManager manager = DjlRuntime.newManager()) {
            IllegalArgumentException missing = assertThrows(IllegalArgumentException.class, () -> FashionClassifier.load(dir, manager));
            assertTrue(missing.getMessage().contains("config.json is missing")
                    && missing.getMessage().contains("dalle2 train-classifier"), missing.getMessage());

            FashionClassifier.create(FashionClassifier.Config.fashionMnist(), manager, 5).save(dir);
            Files.writeString(dir.resolve(FashionClassifier.CONFIG_FILE), "{\"model\":\"decoder-unet\",\"image_size\":32,"
                    + "\"layers\":[\"conv8\"],\"feature_dim\":8,\"classes\":[\"a\",\"b\"]}");
            IllegalArgumentException other = assertThrows(IllegalArgumentException.class, () -> FashionClassifier.load(dir, manager));
            assertTrue(other.getMessage().contains("decoder-unet"), other.getMessage());

            Files.delete(dir.resolve(FashionClassifier.WEIGHTS_FILE));
            IllegalArgumentException noWeights = assertThrows(IllegalArgumentException.class, () -> FashionClassifier.load(dir, manager));
            assertTrue(noWeights.getMessage().contains("weights.safetensors is missing"), noWeights.getMessage());
        }
    }

    @Test
    void aColourImageIsClassifiedAsItsGreyVersion() {
        List<BufferedImage> colour = noise(4, 2);
        List<BufferedImage> grey = new ArrayList<>();
        for (BufferedImage image : colour) {
            BufferedImage g = new BufferedImage(32, 32, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < 32; y++) {
                for (int x = 0; x < 32; x++) {
                    int c = image.getRGB(x, y);
                    int v = Math.round((((c >> 16) & 0xFF) * 299 + ((c >> 8) & 0xFF) * 587 + (c & 0xFF) * 114) / 1000f);
                    g.setRGB(x, y, (v << 16) | (v << 8) | v);
                }
            }
            grey.add(g);
        }
        try (NDManager manager = DjlRuntime.newManager()) {
            FashionClassifier classifier = FashionClassifier.create(FashionClassifier.Config.fashionMnist(), manager, 3);
            double[][] a = classifier.features(colour);
            double[][] b = classifier.features(grey);
            for (int i = 0; i < a.length; i++) {
                assertArrayEquals(a[i], b[i], 0.05);
            }
        }
    }

    @Test
    void inferenceDoesNotGrowTheModelsManager() {
        List<BufferedImage> images = noise(8, 3);
        try (NDManager manager = DjlRuntime.newManager()) {
            FashionClassifier classifier = FashionClassifier.create(FashionClassifier.Config.fashionMnist(), manager, 3);
            classifier.classify(images);
            int arrays = manager.getManagedArrays().size();
            for (int i = 0; i < 3; i++) {
                classifier.predict(images);
            }
            assertEquals(arrays, manager.getManagedArrays().size());
        }
    }

    @Test
    void anInvalidArchitectureIsRefused() {
        List<String> classes = FashionClassifier.Config.fashionMnist().classes();
        assertThrows(IllegalArgumentException.class,
                () -> new FashionClassifier.Config(FashionClassifier.MODEL, 32, List.of("conv8", "dense"), 8, classes));
        assertThrows(IllegalArgumentException.class,
                () -> new FashionClassifier.Config(FashionClassifier.MODEL, 6, List.of("conv8", "pool", "pool"), 8, classes));
    }
}
