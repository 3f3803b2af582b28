package dalle2.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dalle2.data.DatasetOptions;
import dalle2.data.DatasetReport;
import dalle2.data.FashionMnistDataset;
import dalle2.data.ImageCaptionDataset;
import dalle2.data.ImageCaptionItem;
import dalle2.data.LazyImage;
import dalle2.djl.DjlRuntime;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class FashionEvaluationTest {

    @BeforeAll
    static void djl() {
        DjlRuntime.configure();
    }

    /** {@code perClass} noise images of each class, in class order, as a labelled dataset. */
    static ImageCaptionDataset fixture(int perClass) {
        DatasetOptions options = DatasetOptions.of(32);
        List<ImageCaptionItem> items = new ArrayList<>();
        List<BufferedImage> images = FashionClassifierTest.noise(10 * perClass, 9);
        for (int i = 0; i < images.size(); i++) {
            int label = i / perClass;
            BufferedImage image = images.get(i);
            String id = "fixture/" + i;
            items.add(new ImageCaptionItem(id, "fixture", id, FashionMnistDataset.captions(label), label, Map.of(),
                    new LazyImage(() -> image, "fixture", options)));
        }
        return ImageCaptionDataset.of("fixture", 32, items, new DatasetReport());
    }

    /** The real test images of each class, taken from the end of the split (away from the reference sets). */
    static Map<Integer, List<BufferedImage>> lastOfEachClass(ImageCaptionDataset test, int perClass) {
        Map<Integer, List<BufferedImage>> byClass = new HashMap<>();
        List<ImageCaptionItem> items = test.items();
        for (int i = items.size() - 1; i >= 0; i--) {
            List<BufferedImage> list = byClass.computeIfAbsent(items.get(i).label(), k -> new ArrayList<>());
            if (list.size() < perClass) {
                list.add(items.get(i).loadImage().orElseThrow());
            }
        }
        return byClass;
    }

    static Function<String, List<BufferedImage>> drawing(Map<Integer, List<BufferedImage>> byClass, int shift) {
        return prompt -> {
            int label = FashionMnistDataset.labelOf(prompt.replaceFirst("^a photo of an? ", ""));
            return byClass.get((label + shift) % 10);
        };
    }

    @Test
    void aGeneratorThatDrawsRealTestImagesScoresLikeTheClassifierAndNearTheFloor() throws Exception {
        ImageCaptionDataset test = ShippedModels.fashionTest();
        try (NDManager manager = DjlRuntime.newManager()) {
            FashionClassifier classifier = FashionClassifier.load(ShippedModels.classifierDir(), manager);
            FashionEvaluation.Result result = new FashionEvaluation(classifier, test)
                    .evaluate(drawing(lastOfEachClass(test, 40), 0), 40);
            System.out.println(result.toMarkdown());

            assertEquals(10, result.classes().size());
            assertEquals(400, result.referenceImages());
            assertEquals(400, result.floorImages());
            assertTrue(result.accuracy() > 0.85, "accuracy " + result.accuracy());
            assertTrue(Math.abs(result.accuracy() - result.realAccuracy()) < 0.06,
                    result.accuracy() + " vs real " + result.realAccuracy());
            assertTrue(result.frechetDistance() < 2 * result.frechetFloor(),
                    result.frechetDistance() + " vs floor " + result.frechetFloor());
            for (FashionEvaluation.ClassResult c : result.classes()) {
                // other real images of the same class: about as bright as the reference ones
                assertEquals(c.realPixels().mean(), c.generatedPixels().mean(), 0.05, c.className());
                assertTrue(c.realPixels().mean() > 0.05 && c.realPixels().mean() < 0.6, c.className());
            }
        }
    }

    @Test
    void aGeneratorThatDrawsTheWrongClassScoresNearZeroThoughItsDistanceStaysNearTheFloor() throws Exception {
        ImageCaptionDataset test = ShippedModels.fashionTest();
        try (NDManager manager = DjlRuntime.newManager()) {
            FashionClassifier classifier = FashionClassifier.load(ShippedModels.classifierDir(), manager);
            // trousers for "a photo of a t-shirt", ..., a bag for "a photo of a sneaker", a t-shirt for "an ankle boot"
            FashionEvaluation.Result result = new FashionEvaluation(classifier, test)
                    .evaluate(drawing(lastOfEachClass(test, 40), 1), 40);
            System.out.println(result.toMarkdown());

            assertTrue(result.accuracy() < 0.05, "accuracy " + result.accuracy());
            assertEquals("bag", FashionMnistDataset.CLASSES.get(result.classes().get(7).mostCommonLabel()));
            // the Fréchet distance compares the pooled images, blind to the prompts: a permutation of the classes
            // keeps it near the floor, which is why the evaluation reports both figures
            assertTrue(result.frechetDistance() < 2 * result.frechetFloor(),
                    result.frechetDistance() + " vs floor " + result.frechetFloor());
        }
    }

    @Test
    void aGeneratorThatDrawsOneClassForEveryPromptIsFarFromTheFloor() throws Exception {
        ImageCaptionDataset test = ShippedModels.fashionTest();
        try (NDManager manager = DjlRuntime.newManager()) {
            FashionClassifier classifier = FashionClassifier.load(ShippedModels.classifierDir(), manager);
            List<BufferedImage> sneakers = lastOfEachClass(test, 40).get(FashionMnistDataset.labelOf("sneaker"));
            FashionEvaluation.Result result = new FashionEvaluation(classifier, test).evaluate(prompt -> sneakers, 40);

            assertTrue(result.accuracy() < 0.15, "accuracy " + result.accuracy());
            assertTrue(result.classes().get(7).accuracy() > 0.9, "sneaker " + result.classes().get(7).accuracy());
            assertTrue(result.frechetDistance() > 5 * result.frechetFloor(),
                    result.frechetDistance() + " vs floor " + result.frechetFloor());
        }
    }

    @Test
    void theGeneratorIsCalledUntilItDeliveredNImagesPerPromptAndTheReferenceItselfScoresZeroDistance() {
        ImageCaptionDataset fixture = fixture(6);
        Map<Integer, List<BufferedImage>> firstThree = new HashMap<>();
        for (ImageCaptionItem item : fixture.items()) {
            List<BufferedImage> list = firstThree.computeIfAbsent(item.label(), k -> new ArrayList<>());
            if (list.size() < 3) {
                list.add(item.loadImage().orElseThrow());
            }
        }
        List<String> prompts = new ArrayList<>();
        AtomicInteger next = new AtomicInteger();
        Function<String, List<BufferedImage>> oneAtATime = prompt -> {
            prompts.add(prompt);
            int label = FashionMnistDataset.labelOf(prompt.replaceFirst("^a photo of an? ", ""));
            return List.of(firstThree.get(label).get(next.getAndIncrement() % 3));
        };
        try (NDManager manager = DjlRuntime.newManager()) {
            FashionClassifier untrained = FashionClassifier.create(FashionClassifier.Config.fashionMnist(), manager, 1);
            FashionEvaluation.Result result = new FashionEvaluation(untrained, fixture).evaluate(oneAtATime, 3);

            assertEquals(30, prompts.size());
            assertEquals("a photo of a t-shirt", prompts.get(0));
            assertEquals("a photo of an ankle boot", prompts.get(29));
            result.classes().forEach(c -> assertEquals(3, c.generated()));
            assertEquals(30, result.referenceImages());
            assertEquals(30, result.floorImages());
            assertTrue(Math.abs(result.frechetDistance()) < 1e-6 * result.frechetFloor(),
                    result.frechetDistance() + " vs floor " + result.frechetFloor());
            assertTrue(result.toMarkdown().contains("| ankle boot | a photo of an ankle boot | 3 |"), result.toMarkdown());
            // the generator hands back the reference images themselves, so the set's brightness is the real one's
            assertEquals(result.realPixels(), result.generatedPixels());
            assertTrue(result.realPixels().mean() > 0.05, "real garments have ink: " + result.realPixels());
            assertTrue(result.toMarkdown().contains(String.format(Locale.ROOT, "| **all** | | 30 | **%.1f%%** | | %.1f%% | %.3f / %.3f |",
                    100 * result.accuracy(), 100 * result.realAccuracy(), result.realPixels().mean(),
                    result.realPixels().mean())), result.toMarkdown());
        }
    }

    @Test
    void aGeneratorThatReturnsNothingOrTooFewRealImagesAreReported() {
        try (NDManager manager = DjlRuntime.newManager()) {
            FashionClassifier untrained = FashionClassifier.create(FashionClassifier.Config.fashionMnist(), manager, 1);
            FashionEvaluation evaluation = new FashionEvaluation(untrained, fixture(4));
            IllegalStateException empty = assertThrows(IllegalStateException.class,
                    () -> evaluation.evaluate(prompt -> List.of(), 2));
            assertTrue(empty.getMessage().contains("a photo of a t-shirt"), empty.getMessage());
            IllegalArgumentException few = assertThrows(IllegalArgumentException.class,
                    () -> evaluation.evaluate(prompt -> List.of(new BufferedImage(32, 32, BufferedImage.TYPE_INT_RGB)), 4));
            assertTrue(few.getMessage().contains("t-shirt"), few.getMessage());
        }
    }
}
