package dalle2.eval;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.function.Function;

/**
 * CLIP-space evaluations: zero-shot classification from prompts, text→image recall@k, and
 * top-1-of-10 retrieval of a prompt from the image generated for it. Encoders are plain functions from
 * inputs to unit embedding rows, so the same code serves the shipped models and a test's fixtures.
 */
public final class RetrievalEvaluation {

    private final Function<List<String>, List<float[]>> textEncoder;
    private final Function<List<BufferedImage>, List<float[]>> imageEncoder;

    public RetrievalEvaluation(Function<List<String>, List<float[]>> textEncoder,
                               Function<List<BufferedImage>, List<float[]>> imageEncoder) {
        this.textEncoder = textEncoder;
        this.imageEncoder = imageEncoder;
    }

    /** Share of images whose most similar class prompt is their own class. */
    public double zeroShotAccuracy(List<BufferedImage> images, int[] labels, List<String> classPrompts) {
        return zeroShotAccuracyOfEmbeddings(imageEncoder.apply(images), labels, classPrompts);
    }

    /**
     * Zero-shot accuracy of image embeddings from anywhere (e.g. a prior's predictions): the share whose most
     * similar class prompt is their label.
     */
    public double zeroShotAccuracyOfEmbeddings(List<float[]> embeddings, int[] labels, List<String> classPrompts) {
        if (embeddings.size() != labels.length) {
            throw new IllegalArgumentException(embeddings.size() + " embeddings but " + labels.length + " labels");
        }
        List<float[]> prompts = textEncoder.apply(classPrompts);
        int correct = 0;
        for (int i = 0; i < embeddings.size(); i++) {
            if (argmax(embeddings.get(i), prompts) == labels[i]) {
                correct++;
            }
        }
        return (double) correct / embeddings.size();
    }

    /** Text→image recall@k: for caption i, is image i among the k images most similar to it? */
    public double[] textToImageRecall(List<String> captions, List<BufferedImage> images, int... ks) {
        List<float[]> texts = textEncoder.apply(captions);
        List<float[]> embeddings = imageEncoder.apply(images);
        double[] recall = new double[ks.length];
        for (int i = 0; i < captions.size(); i++) {
            double own = dot(texts.get(i), embeddings.get(i));
            int better = 0;
            for (int j = 0; j < images.size(); j++) {
                if (j != i && dot(texts.get(i), embeddings.get(j)) > own) {
                    better++;
                }
            }
            for (int k = 0; k < ks.length; k++) {
                if (better < ks[k]) {
                    recall[k] += 1.0 / captions.size();
                }
            }
        }
        return recall;
    }

    /**
     * Top-1-of-10: the share of generated images whose own prompt is more similar to them than each of 9 other
     * prompts drawn (with a fixed seed) from the same list.
     */
    public double promptRetrievalTop1Of10(List<String> prompts, List<BufferedImage> generated, long seed) {
        if (prompts.size() < 10) {
            throw new IllegalArgumentException("top-1-of-10 needs at least 10 prompts, got " + prompts.size());
        }
        List<float[]> texts = textEncoder.apply(prompts);
        List<float[]> embeddings = imageEncoder.apply(generated);
        Random random = new Random(seed);
        int correct = 0;
        for (int i = 0; i < prompts.size(); i++) {
            double own = dot(texts.get(i), embeddings.get(i));
            boolean best = true;
            List<Integer> distractors = new ArrayList<>();
            while (distractors.size() < 9) {
                int j = random.nextInt(prompts.size());
                if (j != i && !distractors.contains(j) && !prompts.get(j).equals(prompts.get(i))) {
                    distractors.add(j);
                }
            }
            for (int j : distractors) {
                if (dot(texts.get(j), embeddings.get(i)) >= own) {
                    best = false;
                    break;
                }
            }
            if (best) {
                correct++;
            }
        }
        return (double) correct / prompts.size();
    }

    static int argmax(float[] query, List<float[]> candidates) {
        int best = 0;
        double bestScore = Double.NEGATIVE_INFINITY;
        for (int c = 0; c < candidates.size(); c++) {
            double score = dot(query, candidates.get(c));
            if (score > bestScore) {
                bestScore = score;
                best = c;
            }
        }
        return best;
    }

    static double dot(float[] a, float[] b) {
        double sum = 0;
        for (int i = 0; i < a.length; i++) {
            sum += a[i] * b[i];
        }
        return sum;
    }

    static String percent(double share) {
        return String.format(Locale.ROOT, "%.1f%%", 100 * share);
    }
}
