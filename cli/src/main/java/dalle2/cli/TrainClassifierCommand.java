package dalle2.cli;

import ai.djl.ndarray.NDManager;
import dalle2.data.DatasetOptions;
import dalle2.data.FashionMnistDataset;
import dalle2.djl.DjlRuntime;
import dalle2.eval.FashionClassifier;
import dalle2.eval.FashionClassifierTrainer;
import dalle2.eval.GreyImages;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code dalle2 train-classifier}: trains the Fashion-MNIST evaluation classifier on the real training split, reports
 * its accuracy on the official test split and writes config.json, weights.safetensors and MODEL_CARD.md.
 */
@Command(name = "train-classifier", mixinStandardHelpOptions = true,
        description = "Train the Fashion-MNIST evaluation classifier (labels and features for `dalle2 eval`).")
public final class TrainClassifierCommand implements Callable<Integer> {

    @Option(names = "--data-dir", defaultValue = "data",
            description = "data folder; DIR/fashion-mnist, DIR or Debian's /usr/share/datasets/fashion-mnist (default ${DEFAULT-VALUE})")
    Path dataDir;

    @Option(names = "--epochs", description = "passes over the 60,000 training images (default 3)")
    Integer epochs;

    @Option(names = "--batch-size", description = "images per step (default 128)")
    Integer batchSize;

    @Option(names = "--lr", description = "Adam's peak learning rate (default 2e-3)")
    Double learningRate;

    @Option(names = "--seed", description = "seed of weights, batch order and augmentation (default 42)")
    Long seed;

    @Option(names = "--no-augment", description = "train without the 1-pixel shift augmentation")
    boolean noAugment;

    @Option(names = "--out", defaultValue = "trained_models/eval/fashion-classifier",
            description = "model folder to write (default ${DEFAULT-VALUE})")
    Path out;

    @Override
    public Integer call() throws Exception {
        DjlRuntime.configure();
        Path dir = FashionMnistDataset.locate(dataDir);
        if (dir == null) {
            System.err.println("dalle2 train-classifier: no Fashion-MNIST in " + dataDir + " or "
                    + FashionMnistDataset.DEBIAN_DIR + "; install it with: apt-get install dataset-fashion-mnist");
            return 1;
        }
        FashionClassifierTrainer.Options d = FashionClassifierTrainer.Options.defaults();
        FashionClassifierTrainer.Options options = new FashionClassifierTrainer.Options(
                epochs != null ? epochs : d.epochs(), batchSize != null ? batchSize : d.batchSize(),
                learningRate != null ? learningRate : d.learningRate(), seed != null ? seed : d.seed(), !noAugment);
        FashionClassifier.Config config = FashionClassifier.Config.fashionMnist();
        long t0 = System.nanoTime();
        GreyImages train = GreyImages.of(FashionMnistDataset.open(dir, FashionMnistDataset.Split.TRAIN, DatasetOptions.of(config.imageSize())));
        GreyImages test = GreyImages.of(FashionMnistDataset.open(dir, FashionMnistDataset.Split.TEST, DatasetOptions.of(config.imageSize())));
        System.out.printf(Locale.ROOT, "read %d training and %d test images from %s in %.1f s%n", train.size(), test.size(), dir,
                (System.nanoTime() - t0) / 1e9);
        try (NDManager manager = DjlRuntime.newManager()) {
            FashionClassifierTrainer.Run run = new FashionClassifierTrainer(options, System.out::println).train(config, train, manager);
            FashionClassifierTrainer.Accuracy accuracy = FashionClassifierTrainer.evaluate(run.classifier(), test, manager);
            System.out.printf(Locale.ROOT, "test accuracy %.2f%% (%d/%d), training %.1f min%n", 100 * accuracy.overall(),
                    accuracy.correct(), accuracy.images(), run.wallMillis() / 60_000.0);
            run.classifier().save(out);
            String command = "./dalle2 train-classifier --epochs " + options.epochs() + " --batch-size " + options.batchSize()
                    + " --lr " + options.learningRate() + " --seed " + options.seed() + (options.augment() ? "" : " --no-augment")
                    + " --out " + out;
            String machine = Runtime.getRuntime().availableProcessors() + " CPU cores, "
                    + System.getProperty(DjlRuntime.NUM_THREADS, "?") + " libtorch threads";
            Files.writeString(out.resolve("MODEL_CARD.md"), FashionClassifierTrainer.modelCard(config, options, run,
                    train.size(), accuracy, command, machine));
            System.out.println("wrote " + out.resolve(FashionClassifier.CONFIG_FILE) + ", " + FashionClassifier.WEIGHTS_FILE
                    + " and MODEL_CARD.md");
        }
        return 0;
    }
}
