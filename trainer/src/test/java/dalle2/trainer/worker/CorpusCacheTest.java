package dalle2.trainer.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle2.data.DatasetSpec;
import dalle2.trainer.CorpusCache;
import dalle2.trainer.TrainingCorpus;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Trainers sharing one data folder decode a corpus into it once, and never read one half-written. */
class CorpusCacheTest {

    @TempDir
    Path dataDir;

    @Test
    void trainersDecodingTheSameCorpusAtOnceAllGetItWhole() throws Exception {
        TrainingFixtures.writeSquares(dataDir);
        DatasetSpec spec = TrainingRun.resolveDataset(TrainingFixtures.DATASET, dataDir);
        ExecutorService trainers = Executors.newFixedThreadPool(4);
        try {
            List<Future<TrainingCorpus>> opened = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                opened.add(trainers.submit(() -> CorpusCache.open(dataDir, TrainingFixtures.DATASET, spec, 32, "openmoji")));
            }
            for (Future<TrainingCorpus> corpus : opened) {
                assertEquals(8, corpus.get().size());
            }
        } finally {
            trainers.shutdownNow();
        }
        try (Stream<Path> folders = Files.list(dataDir.resolve("corpus"))) {
            List<String> names = folders.map(p -> p.getFileName().toString()).toList();
            assertEquals(List.of("jsonl_squares-32"), names, "no partial copy is left beside it");
        }
        assertEquals(8, TrainingCorpus.load(dataDir.resolve("corpus/jsonl_squares-32")).size());
    }

    @Test
    void aCorpusLeftHalfWrittenIsDecodedAgain() throws Exception {
        TrainingFixtures.writeSquares(dataDir);
        Path cache = Files.createDirectories(dataDir.resolve("corpus/jsonl_squares-32"));
        Files.writeString(cache.resolve("pixels.bin"), "cut short");
        TrainingCorpus corpus = CorpusCache.open(dataDir, TrainingFixtures.DATASET,
                TrainingRun.resolveDataset(TrainingFixtures.DATASET, dataDir), 32, "openmoji");
        assertEquals(8, corpus.size());
        assertTrue(Files.isRegularFile(cache.resolve("corpus.json")));
        assertEquals(8, TrainingCorpus.load(cache).size());
    }
}
