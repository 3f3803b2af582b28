package dalle2.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.loss.SoftmaxCrossEntropyLoss;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.Pair;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.function.Consumer;

/**
 * Trains the {@link FashionClassifier} with a plain loop: Adam (Kingma and Ba 2015) with a cosine learning-rate decay
 * (Loshchilov and Hutter 2017), softmax cross-entropy, mini-batches in an order fixed by the seed, shift augmentation. Given the seed, the run is deterministic: the initial weights come from the engine's seeded
 * generator, the batch order and the augmentation from {@link SplittableRandom}s derived from the seed.
 */
public final class FashionClassifierTrainer {

    /**
     * @param epochs       passes over the training images
     * @param batchSize    images per step
     * @param learningRate Adam's peak learning rate, decayed along a cosine to 1% of it by the last step
     * @param seed         fixes the initial weights, the batch order and the augmentation
     * @param augment      shift the training images by up to a pixel
     */
    public record Options(int epochs, int batchSize, double learningRate, long seed, boolean augment) {

        public Options {
            if (epochs < 1 || batchSize < 1 || !(learningRate > 0)) {
                throw new IllegalArgumentException("need epochs >= 1, batch size >= 1, learning rate > 0; got "
                        + epochs + ", " + batchSize + ", " + learningRate);
            }
        }

        /** The shipped model's settings. */
        public static Options defaults() {
            return new Options(3, 128, 2e-3, 42, true);
        }

        public Options withEpochs(int n) {
            return new Options(n, batchSize, learningRate, seed, augment);
        }
    }

    /**
     * A finished run.
     *
     * @param epochLosses mean training loss of each epoch
     * @param finalLoss   mean training loss over the last 100 steps (or all, when fewer)
     */
    public record Run(FashionClassifier classifier, int steps, List<Double> epochLosses, double finalLoss, long wallMillis) {
    }

    /** Accuracy on a labelled set, overall and per class. */
    public record Accuracy(int images, int correct, int[] perClassImages, int[] perClassCorrect) {

        public double overall() {
            return images == 0 ? 0 : (double) correct / images;
        }

        public double ofClass(int label) {
            return perClassImages[label] == 0 ? 0 : (double) perClassCorrect[label] / perClassImages[label];
        }
    }

    private final Options options;
    private final Consumer<String> log;

    public FashionClassifierTrainer(Options options, Consumer<String> log) {
        this.options = options;
        this.log = log;
    }

    /** Trains a fresh classifier of {@code config} on {@code train}; its parameters live in {@code manager}. */
    public Run train(FashionClassifier.Config config, GreyImages train, NDManager manager) {
        if (train.side() != config.imageSize()) {
            throw new IllegalArgumentException("images are " + train.side() + "px, the config wants " + config.imageSize());
        }
        long start = System.nanoTime();
        FashionClassifier classifier = FashionClassifier.create(config, manager, options.seed());
        int stepsPerEpoch = Math.max(1, train.size() / options.batchSize());    // the ragged tail is dropped
        int totalSteps = stepsPerEpoch * options.epochs();
        float peak = (float) options.learningRate();
        Optimizer adam = Optimizer.adam()
                .optLearningRateTracker(Tracker.cosine().setBaseValue(peak).optFinalValue(peak / 100)
                        .setMaxUpdates(totalSteps).build())
                .build();
        List<Pair<String, Parameter>> trainable = new ArrayList<>();
        for (Pair<String, Parameter> p : classifier.getParameters()) {
            if (p.getValue().requiresGradient()) {
                trainable.add(p);
            }
        }
        SoftmaxCrossEntropyLoss lossFunction = new SoftmaxCrossEntropyLoss();
        SplittableRandom order = new SplittableRandom(options.seed());
        SplittableRandom augment = new SplittableRandom(options.seed() ^ 0x5DEECE66DL);
        List<Double> epochLosses = new ArrayList<>();
        double[] recent = new double[Math.min(100, totalSteps)];   // the last losses, a ring
        int step = 0;
        for (int epoch = 0; epoch < options.epochs(); epoch++) {
            int[] permutation = permutation(train.size(), order);
            double epochLoss = 0;
            for (int s = 0; s < stepsPerEpoch; s++) {
                int[] indices = new int[options.batchSize() > train.size() ? train.size() : options.batchSize()];
                System.arraycopy(permutation, s * indices.length, indices, 0, indices.length);
                float loss;
                try (NDManager stepManager = manager.newSubManager()) {
                    NDArray x = train.batch(stepManager, indices, options.augment() ? augment : null); // (b, 1, S, S)
                    NDArray y = train.batchLabels(stepManager, indices);                             // (b)
                    try (GradientCollector gc = manager.getEngine().newGradientCollector()) {
                        NDList out = classifier.forward(new ParameterStore(stepManager, false), new NDList(x), true);
                        NDArray l = lossFunction.evaluate(new NDList(y), new NDList(out.get(0)));
                        gc.backward(l);
                        loss = l.getFloat();
                    }
                    for (Pair<String, Parameter> p : trainable) {
                        NDArray weight = p.getValue().getArray();
                        try (NDArray grad = weight.getGradient()) {
                            adam.update(p.getValue().getId(), weight, grad);
                        }
                    }
                }
                recent[step % recent.length] = loss;
                step++;
                epochLoss += loss;
                if (step % 50 == 0 || step == totalSteps || step == 10) {
                    log.accept(String.format(Locale.ROOT, "epoch %d/%d step %d/%d loss %.4f  %.1f s", epoch + 1,
                            options.epochs(), step, totalSteps, loss, (System.nanoTime() - start) / 1e9));
                }
            }
            epochLosses.add(epochLoss / stepsPerEpoch);
            log.accept(String.format(Locale.ROOT, "epoch %d mean loss %.4f", epoch + 1, epochLoss / stepsPerEpoch));
        }
        return new Run(classifier, step, List.copyOf(epochLosses), java.util.Arrays.stream(recent).average().orElse(0),
                (System.nanoTime() - start) / 1_000_000);
    }

    /** Accuracy of {@code classifier} on {@code test}, in batches of 500. */
    public static Accuracy evaluate(FashionClassifier classifier, GreyImages test, NDManager manager) {
        int classes = classifier.config().classes().size();
        int[] perClassImages = new int[classes];
        int[] perClassCorrect = new int[classes];
        int correct = 0;
        for (int start = 0; start < test.size(); start += 500) {
            int[] indices = new int[Math.min(500, test.size() - start)];
            for (int i = 0; i < indices.length; i++) {
                indices[i] = start + i;
            }
            try (NDManager call = manager.newSubManager()) {
                int[] predicted = classifier.predict(test.batch(call, indices, null)).labels();
                for (int i = 0; i < indices.length; i++) {
                    int label = test.label(indices[i]);
                    perClassImages[label]++;
                    if (predicted[i] == label) {
                        perClassCorrect[label]++;
                        correct++;
                    }
                }
            }
        }
        return new Accuracy(test.size(), correct, perClassImages, perClassCorrect);
    }

    /**
     * The model card: data, settings, wall time, losses, test accuracy overall and per class, and the command that
     * reproduces the run.
     */
    public static String modelCard(FashionClassifier.Config config, Options options, Run run, int trainImages,
                                   Accuracy test, String command, String machine) {
        StringBuilder md = new StringBuilder();
        md.append("# Fashion-MNIST evaluation classifier\n\n");
        md.append("Labels generated images and embeds them for the Fréchet distance (see trained_models/EVALUATION.md). Trained in this\n"
                + "project on the real Fashion-MNIST training split (Xiao, Rasul, Vollgraf 2017; Debian `dataset-fashion-mnist`),\n"
                + "evaluated on the official test split, which it never saw.\n\n");
        md.append("## Model\n\n");
        md.append("- Input: ").append(config.imageSize()).append("×").append(config.imageSize())
                .append(" RGB or grey in [−1, 1] (RGB reduced to grey luma inside); the 28×28 images padded to 32×32 as the dataset reader does.\n");
        md.append("- Layers: ").append(String.join(" · ", config.layers()))
                .append(" (3×3 conv, BatchNorm, ReLU; 2×2 max-pool) · Linear(").append(config.featureDim())
                .append(") · ReLU = features · Linear(").append(config.classes().size()).append(") = logits.\n");
        md.append("- Parameters: ").append(String.format(Locale.ROOT, "%,d", parameterCount(run.classifier())))
                .append(" (float32).\n\n");
        md.append("## Training\n\n");
        md.append("| setting | value |\n|---|---|\n");
        md.append("| training images | ").append(trainImages).append(" |\n");
        md.append("| epochs | ").append(options.epochs()).append(" |\n");
        md.append("| steps | ").append(run.steps()).append(" (batch ").append(options.batchSize()).append(") |\n");
        md.append("| optimizer | Adam, peak learning rate ").append(options.learningRate()).append(", cosine decay to 1% |\n");
        md.append("| augmentation | ").append(options.augment()
                ? "random shift up to " + GreyImages.MAX_SHIFT + " px each way" : "none").append(" |\n");
        md.append("| seed | ").append(options.seed()).append(" |\n");
        md.append(String.format(Locale.ROOT, "| wall time | %.1f min (training only) on %s |%n", run.wallMillis() / 60_000.0, machine));
        StringBuilder losses = new StringBuilder();
        for (double l : run.epochLosses()) {
            losses.append(losses.length() == 0 ? "" : ", ").append(String.format(Locale.ROOT, "%.4f", l));
        }
        md.append("| mean loss per epoch | ").append(losses).append(" |\n");
        md.append(String.format(Locale.ROOT, "| final loss (last 100 steps) | %.4f |%n%n", run.finalLoss()));
        md.append("## Test accuracy (official 10,000-image test split)\n\n");
        md.append(String.format(Locale.ROOT, "**%.2f%%** (%d of %d)%n%n", 100 * test.overall(), test.correct(), test.images()));
        md.append("| class | images | accuracy |\n|---|---:|---:|\n");
        for (int c = 0; c < config.classes().size(); c++) {
            md.append(String.format(Locale.ROOT, "| %s | %d | %.1f%% |%n", config.classes().get(c), test.perClassImages()[c],
                    100 * test.ofClass(c)));
        }
        md.append("\n## Reproduce\n\n```\n").append(command).append("\n```\n");
        return md.toString();
    }

    static long parameterCount(FashionClassifier classifier) {
        long n = 0;
        for (Pair<String, Parameter> p : classifier.getParameters()) {
            n += p.getValue().getArray().size();
        }
        return n;
    }

    private static int[] permutation(int n, SplittableRandom random) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }
}
