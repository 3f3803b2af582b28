package dalle2.eval;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class RetrievalEvaluationTest {

    /** Images and prompts embedded by "colour": image i is a flat grey of level i, prompt i names level i. */
    private static final int N = 12;

    private static float[] unit(int index, boolean noisy) {
        float[] v = new float[N];
        v[index % N] = 1f;
        if (noisy) {
            v[(index + 1) % N] = 0.5f;
        }
        double norm = 0;
        for (float x : v) {
            norm += x * x;
        }
        for (int i = 0; i < v.length; i++) {
            v[i] /= (float) Math.sqrt(norm);
        }
        return v;
    }

    private static List<BufferedImage> images(int... levels) {
        List<BufferedImage> images = new ArrayList<>();
        for (int level : levels) {
            BufferedImage image = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
            image.setRGB(0, 0, level);
            images.add(image);
        }
        return images;
    }

    private static final RetrievalEvaluation PERFECT = new RetrievalEvaluation(
            texts -> texts.stream().map(t -> unit(Integer.parseInt(t.replace("level ", "")), false)).toList(),
            imgs -> imgs.stream().map(img -> unit(img.getRGB(0, 0) & 0xFFFFFF, true)).toList());

    private static List<String> prompts(int count) {
        List<String> prompts = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            prompts.add("level " + i);
        }
        return prompts;
    }

    @Test
    void zeroShotCountsImagesWhoseClosestPromptIsTheirClass() {
        int[] levels = {0, 1, 2, 3};
        double accuracy = PERFECT.zeroShotAccuracy(images(levels), new int[] {0, 1, 2, 0}, prompts(N));
        assertEquals(0.75, accuracy, 1e-9);
    }

    @Test
    void zeroShotOfEmbeddingsScoresPredictedEmbeddingsLikeImages() {
        List<float[]> predicted = List.of(unit(0, true), unit(5, false), unit(7, true));
        assertEquals(2.0 / 3, PERFECT.zeroShotAccuracyOfEmbeddings(predicted, new int[] {0, 5, 6}, prompts(N)), 1e-9);
        assertThrows(IllegalArgumentException.class,
                () -> PERFECT.zeroShotAccuracyOfEmbeddings(predicted, new int[] {0, 5}, prompts(N)));
    }

    @Test
    void recallAtKIsOneWhenEveryCaptionFindsItsImageFirst() {
        int[] levels = new int[N];
        for (int i = 0; i < N; i++) {
            levels[i] = i;
        }
        assertArrayEquals(new double[] {1.0, 1.0}, PERFECT.textToImageRecall(prompts(N), images(levels), 1, 5), 1e-9);
        // shuffled images: caption i's image is now at another index, recall@1 drops to 0
        int[] shifted = new int[N];
        for (int i = 0; i < N; i++) {
            shifted[i] = (i + 3) % N;
        }
        assertEquals(0.0, PERFECT.textToImageRecall(prompts(N), images(shifted), 1)[0], 1e-9);
    }

    @Test
    void topOneOfTenIsPerfectForMatchingImagesAndLowForMismatchedOnes() {
        int[] levels = new int[N];
        int[] wrong = new int[N];
        for (int i = 0; i < N; i++) {
            levels[i] = i;
            wrong[i] = (i + 6) % N;
        }
        assertEquals(1.0, PERFECT.promptRetrievalTop1Of10(prompts(N), images(levels), 1), 1e-9);
        assertEquals(0.0, PERFECT.promptRetrievalTop1Of10(prompts(N), images(wrong), 1), 0.2);
    }
}
