package dalle2.eval;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dalle2.data.DatasetOptions;
import dalle2.data.FashionMnistDataset;
import dalle2.data.ImageCaptionDataset;
import java.nio.file.Files;
import java.nio.file.Path;

/** Where the tests find the shipped classifier and the Debian test split; tests that need them are skipped without. */
final class ShippedModels {

    /** Surefire runs in the module folder; the models are at the repository root. */
    static final Path CLASSIFIER_DIR = Path.of("..", "trained_models", "eval", "fashion-classifier");

    private ShippedModels() {
    }

    static Path classifierDir() {
        assumeTrue(Files.isRegularFile(CLASSIFIER_DIR.resolve(FashionClassifier.WEIGHTS_FILE)),
                "no shipped classifier in " + CLASSIFIER_DIR.toAbsolutePath());
        return CLASSIFIER_DIR;
    }

    static ImageCaptionDataset fashionTest() {
        assumeTrue(FashionMnistDataset.isPresent(FashionMnistDataset.DEBIAN_DIR), "dataset-fashion-mnist is not installed");
        return FashionMnistDataset.open(FashionMnistDataset.DEBIAN_DIR, FashionMnistDataset.Split.TEST, DatasetOptions.of(32));
    }
}
