package dalle2.trainer;

import dalle2.data.DatasetOptions;
import dalle2.data.DatasetSpec;
import dalle2.data.HeldOutSplit;
import dalle2.data.ImageCaptionDataset;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
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
        saveOnce(corpus, cache);
        return corpus;
    }

    /**
     * Writes the corpus beside its folder and renames it into place, so that trainers sharing a data volume never
     * read a corpus another one is still writing; when one finishes first, its copy (the same images) stays.
     */
    private static void saveOnce(TrainingCorpus corpus, Path cache) throws IOException {
        Files.createDirectories(cache.getParent());
        Path partial = Files.createTempDirectory(cache.getParent(), cache.getFileName() + ".partial-");
        try {
            corpus.save(partial);
            if (Files.isDirectory(cache) && !Files.isRegularFile(cache.resolve("corpus.json"))) {
                // left half-written by a process that died before this rename existed
                Checkpoint.deleteRecursively(cache);
            }
            Files.move(partial, cache, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileSystemException refused) {
            // renaming onto a folder another process has renamed into place first fails (ENOTEMPTY): its corpus
            // is there, whole; any other failure is a real one
            if (!Files.isRegularFile(cache.resolve("corpus.json"))) {
                throw refused;
            }
        } finally {
            Checkpoint.deleteRecursively(partial);
        }
    }
}
