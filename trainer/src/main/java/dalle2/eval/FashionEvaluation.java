package dalle2.eval;

import dalle2.data.FashionMnistDataset;
import dalle2.data.ImageCaptionDataset;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Function;

/**
 * The Fashion-MNIST evaluation of a text-to-image generator: for each class prompt
 * "a photo of a &lt;class&gt;", N generated images; the share the {@link FashionClassifier} labels as the prompted
 * class, per class and overall; and the Fréchet distance (Heusel et al. 2017) between the generated images and N real
 * test images per class in the classifier's feature space.
 *
 * <p>The real images are class-balanced like the generated ones: reference set A holds the first N test images of
 * each class, in test-split order. The floor is the distance between A and B, the next N test images of each class
 * (disjoint from A, the same size where the test split allows): what two samples of the real distribution score at
 * this sample size, since the Fréchet distance of finite samples is biased upwards. A generator that draws real
 * images scores near the floor, not near zero.
 */
public final class FashionEvaluation {

    private final FashionClassifier classifier;
    private final ImageCaptionDataset realTest;

    /**
     * @param classifier labels and embeds the images; its classes must be Fashion-MNIST's
     * @param realTest   labelled real images the generator never trained on (the official test split)
     */
    public FashionEvaluation(FashionClassifier classifier, ImageCaptionDataset realTest) {
        this.classifier = Objects.requireNonNull(classifier, "classifier");
        this.realTest = Objects.requireNonNull(realTest, "realTest");
        if (!classifier.config().classes().equals(FashionMnistDataset.CLASSES)) {
            throw new IllegalArgumentException("the classifier's classes " + classifier.config().classes()
                    + " are not Fashion-MNIST's " + FashionMnistDataset.CLASSES);
        }
    }

    /**
     * One class's figures.
     *
     * @param generated          images generated for the prompt (N)
     * @param labelledAsPrompted of those, how many the classifier labels as the prompted class
     * @param mostCommonLabel    the label the classifier gave most often to the generated images
     * @param real               real reference images of the class (A)
     * @param realCorrect        of those, how many the classifier labels correctly
     * @param generatedPixels    brightness of the generated images
     * @param realPixels         brightness of the real reference images
     */
    public record ClassResult(int label, String prompt, int generated, int labelledAsPrompted, int mostCommonLabel,
                              int real, int realCorrect, PixelStatistics generatedPixels, PixelStatistics realPixels) {

        public String className() {
            return FashionMnistDataset.CLASSES.get(label);
        }

        public double accuracy() {
            return generated == 0 ? 0 : (double) labelledAsPrompted / generated;
        }

        public double realAccuracy() {
            return real == 0 ? 0 : (double) realCorrect / real;
        }
    }

    /**
     * The evaluation.
     *
     * @param perClass        N, generated images per prompt
     * @param classes         one result per class, in label order
     * @param frechetDistance between all generated images and reference set A
     * @param frechetFloor    between reference sets A and B
     * @param floorImages     size of B (10·N where the test split allows)
     */
    public record Result(int perClass, List<ClassResult> classes, double frechetDistance, double frechetFloor,
                         int referenceImages, int floorImages, int featureDim) {

        public Result {
            classes = List.copyOf(classes);
        }

        /** Share of all generated images labelled as their prompted class. */
        public double accuracy() {
            int generated = classes.stream().mapToInt(ClassResult::generated).sum();
            int correct = classes.stream().mapToInt(ClassResult::labelledAsPrompted).sum();
            return generated == 0 ? 0 : (double) correct / generated;
        }

        /** The classifier's accuracy on the real reference images: what "recognised as often as real ones" means. */
        public double realAccuracy() {
            int real = classes.stream().mapToInt(ClassResult::real).sum();
            int correct = classes.stream().mapToInt(ClassResult::realCorrect).sum();
            return real == 0 ? 0 : (double) correct / real;
        }

        /**
         * Brightness of all generated images, each class weighted equally (every class has N images, so this is
         * also the brightness of the whole generated set).
         */
        public PixelStatistics generatedPixels() {
            return meanOverClasses(classes.stream().map(ClassResult::generatedPixels).toList());
        }

        /** Brightness of all real reference images, each class weighted equally. */
        public PixelStatistics realPixels() {
            return meanOverClasses(classes.stream().map(ClassResult::realPixels).toList());
        }

        private static PixelStatistics meanOverClasses(List<PixelStatistics> perClass) {
            return new PixelStatistics(perClass.stream().mapToDouble(PixelStatistics::mean).average().orElse(0),
                    perClass.stream().mapToDouble(PixelStatistics::brightShare).average().orElse(0));
        }

        /** A Markdown table for model cards and the README. */
        public String toMarkdown() {
            StringBuilder md = new StringBuilder();
            md.append("| class | prompt | generated | labelled as the prompted class | most common label | real test images labelled correctly"
                    + " | mean pixel, generated / real | pixels > " + PixelStatistics.BRIGHT + ", generated / real |\n");
            md.append("|---|---|---:|---:|---|---:|---:|---:|\n");
            for (ClassResult c : classes) {
                md.append(String.format(Locale.ROOT, "| %s | %s | %d | %.1f%% | %s | %.1f%% | %.3f / %.3f | %.1f%% / %.1f%% |%n",
                        c.className(), c.prompt(), c.generated(), 100 * c.accuracy(),
                        FashionMnistDataset.CLASSES.get(c.mostCommonLabel()), 100 * c.realAccuracy(),
                        c.generatedPixels().mean(), c.realPixels().mean(), 100 * c.generatedPixels().brightShare(),
                        100 * c.realPixels().brightShare()));
            }
            md.append(String.format(Locale.ROOT, "| **all** | | %d | **%.1f%%** | | %.1f%% | %.3f / %.3f | %.1f%% / %.1f%% |%n%n",
                    classes.stream().mapToInt(ClassResult::generated).sum(), 100 * accuracy(), 100 * realAccuracy(),
                    generatedPixels().mean(), realPixels().mean(), 100 * generatedPixels().brightShare(),
                    100 * realPixels().brightShare()));
            md.append(String.format(Locale.ROOT, "Fréchet distance in the classifier's %d-dimensional feature space: "
                            + "generated vs %d real test images **%.2f**; floor (%d vs %d disjoint real test images) %.2f.%n",
                    featureDim, referenceImages, frechetDistance, referenceImages, floorImages, frechetFloor));
            return md.toString();
        }
    }

    /**
     * Generates at least {@code perClass} images for each of the ten prompts (calling {@code generator} until it has
     * delivered enough, the first {@code perClass} kept) and scores them.
     *
     * @param generator a prompt to images of any size (resized to the classifier's); must return at least one image
     */
    public Result evaluate(Function<String, List<BufferedImage>> generator, int perClass) {
        if (perClass < 1) {
            throw new IllegalArgumentException("need at least 1 image per class, got " + perClass);
        }
        int classes = FashionMnistDataset.CLASSES.size();
        // per class: the first N real test images are the reference, the next (up to) N the floor's second sample
        List<List<BufferedImage>> reference = new ArrayList<>();
        List<List<BufferedImage>> floor = new ArrayList<>();
        for (List<BufferedImage> real : FashionMnistDataset.firstImagesOfEachClass(realTest, 2 * perClass)) {
            reference.add(real.subList(0, Math.min(perClass, real.size())));
            floor.add(real.subList(Math.min(perClass, real.size()), real.size()));
        }
        for (int c = 0; c < classes; c++) {
            if (reference.get(c).size() < perClass || floor.get(c).isEmpty()) {
                throw new IllegalArgumentException(realTest.name() + " has " + (reference.get(c).size() + floor.get(c).size())
                        + " images of class " + FashionMnistDataset.CLASSES.get(c) + "; " + perClass
                        + " per class need more than " + perClass);
            }
        }
        List<ClassResult> results = new ArrayList<>();
        List<double[]> generatedFeatures = new ArrayList<>();
        List<double[]> referenceFeatures = new ArrayList<>();
        List<double[]> floorFeatures = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            String prompt = FashionMnistDataset.prompt(c);
            List<BufferedImage> generated = new ArrayList<>();
            while (generated.size() < perClass) {
                List<BufferedImage> batch = generator.apply(prompt);
                if (batch == null || batch.isEmpty()) {
                    throw new IllegalStateException("the generator returned no images for \"" + prompt + "\"");
                }
                generated.addAll(batch);
            }
            FashionClassifier.Prediction fake = classifier.predict(generated.subList(0, perClass));
            FashionClassifier.Prediction real = classifier.predict(reference.get(c));
            generatedFeatures.addAll(List.of(fake.features()));
            referenceFeatures.addAll(List.of(real.features()));
            floorFeatures.addAll(List.of(classifier.features(floor.get(c))));
            int[] counts = new int[classes];
            for (int label : fake.labels()) {
                counts[label]++;
            }
            int mostCommon = 0;
            for (int k = 1; k < classes; k++) {
                if (counts[k] > counts[mostCommon]) {
                    mostCommon = k;
                }
            }
            int realCorrect = 0;
            for (int label : real.labels()) {
                realCorrect += label == c ? 1 : 0;
            }
            results.add(new ClassResult(c, prompt, perClass, counts[c], mostCommon, perClass, realCorrect,
                    PixelStatistics.of(generated.subList(0, perClass)), PixelStatistics.of(reference.get(c))));
        }
        double[][] a = referenceFeatures.toArray(double[][]::new);
        double distance = FrechetDistance.between(generatedFeatures.toArray(double[][]::new), a);
        double floorDistance = FrechetDistance.between(floorFeatures.toArray(double[][]::new), a);
        return new Result(perClass, results, distance, floorDistance, a.length, floorFeatures.size(), classifier.featureDim());
    }
}
