package dalle2.trainer;

import dalle2.data.DatasetOptions;
import dalle2.data.DatasetSpec;
import dalle2.data.HeldOutSplit;
import dalle2.data.ImageCaptionDataset;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;

/**
 * The held-in training corpus of a {@code --data} spec, decoded once into {@code <data dir>/corpus/} and read from
 * there afterwards: what {@code dalle2 train} and the trainer workers share.
 */
public final class CorpusCache {

    private CorpusCache() {
    }

    /**
     * @param data the spec as the user wrote it: names the cache folder
     * @param spec what to open (the worker's has its locations resolved inside its data folder)
     */
    public static TrainingCorpus open(Path dataDir, String data, DatasetSpec spec, int imageSize,
                                      String heldOutVendor) throws IOException {
        HeldOutSplit split = HeldOutSplit.DEFAULT.withHeldOutVendor(heldOutVendor);
        // the default split keeps the cache name it always had; another held-out vendor is another corpus
        String vendorTag = split.equals(HeldOutSplit.DEFAULT) ? ""
                : "-held-out-" + heldOutVendor.trim().toLowerCase(Locale.ROOT);
        Path cache = dataDir.resolve("corpus").resolve(data.replaceAll("[^A-Za-z0-9._-]", "_") + "-" + imageSize
                + vendorTag);
        if (Files.isRegularFile(cache.resolve("corpus.json"))) {
            return TrainingCorpus.load(cache);
        }
        System.err.println("decoding " + data + " at " + imageSize + " px into " + cache + " (once) ...");
        ImageCaptionDataset dataset = spec.open(dataDir, DatasetOptions.of(imageSize)).heldIn(split);
        TrainingCorpus corpus = TrainingCorpus.of(dataset);
        System.err.println("corpus: " + corpus.counts() + "; skipped: " + dataset.report().summary());
        corpus.save(cache);
        return corpus;
    }
}
