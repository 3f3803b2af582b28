package dalle2.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDManager;
import dalle2.djl.DjlRuntime;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class FashionClassifierTrainerTest {

    /** Class k is a bright 4×4 square at one of 10 places on a noisy 16×16 canvas: easy, but only if it learns. */
    static GreyImages squares(int n, long seed) {
        int side = 16;
        byte[] pixels = new byte[n * side * side];
        int[] labels = new int[n];
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = 0; i < n; i++) {
            int label = i % 10;
            labels[i] = label;
            int x0 = (label % 5) * 3;
            int y0 = (label / 5) * 8 + 2;
            for (int y = 0; y < side; y++) {
                for (int x = 0; x < side; x++) {
                    boolean on = x >= x0 && x < x0 + 4 && y >= y0 && y < y0 + 4;
                    pixels[i * side * side + y * side + x] = (byte) (on ? 200 + random.nextInt(56) : random.nextInt(60));
                }
            }
        }
        return new GreyImages(pixels, labels, side);
    }

    static FashionClassifier.Config small() {
        List<String> classes = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            classes.add("class" + i);
        }
        return new FashionClassifier.Config(FashionClassifier.MODEL, 16, List.of("conv8", "pool", "conv16", "pool"), 32, classes);
    }

    @Test
    void trainingLearnsASeparableTaskAndTheLossFalls() {
        DjlRuntime.configure();
        GreyImages train = squares(400, 1);
        GreyImages test = squares(200, 2);
        // no augmentation: the easiest setting, a pure check that the loop learns
        FashionClassifierTrainer.Options options = new FashionClassifierTrainer.Options(3, 20, 3e-3, 7, false);
        try (NDManager manager = DjlRuntime.newManager()) {
            FashionClassifierTrainer.Run run = new FashionClassifierTrainer(options, line -> { }).train(small(), train, manager);
            assertEquals(60, run.steps());
            assertTrue(run.epochLosses().get(2) < run.epochLosses().get(0) / 2, "losses " + run.epochLosses());
            FashionClassifierTrainer.Accuracy accuracy = FashionClassifierTrainer.evaluate(run.classifier(), test, manager);
            assertEquals(200, accuracy.images());
            assertTrue(accuracy.overall() > 0.9, "accuracy " + accuracy.overall());
            for (int c = 0; c < 10; c++) {
                assertEquals(20, accuracy.perClassImages()[c]);
            }
        }
    }

    @Test
    void theSameSeedGivesTheSameWeightsAndAnotherSeedDoesNot() {
        DjlRuntime.configure();
        GreyImages train = squares(60, 3);
        FashionClassifierTrainer.Options options = new FashionClassifierTrainer.Options(1, 20, 1e-3, 11, true);
        try (NDManager manager = DjlRuntime.newManager()) {
            float[] first = allWeights(new FashionClassifierTrainer(options, line -> { }).train(small(), train, manager).classifier());
            float[] again = allWeights(new FashionClassifierTrainer(options, line -> { }).train(small(), train, manager).classifier());
            FashionClassifierTrainer.Options other = new FashionClassifierTrainer.Options(1, 20, 1e-3, 12, true);
            float[] different = allWeights(new FashionClassifierTrainer(other, line -> { }).train(small(), train, manager).classifier());
            assertArrayEquals(first, again);
            assertTrue(!java.util.Arrays.equals(first, different));
        }
    }

    static float[] allWeights(FashionClassifier classifier) {
        List<Float> values = new ArrayList<>();
        for (var p : classifier.getParameters()) {
            for (float v : p.getValue().getArray().toFloatArray()) {
                values.add(v);
            }
        }
        float[] out = new float[values.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = values.get(i);
        }
        return out;
    }
}
