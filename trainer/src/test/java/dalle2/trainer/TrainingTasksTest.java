package dalle2.trainer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import dalle2.data.DatasetOptions;
import dalle2.data.DatasetReport;
import dalle2.data.ImageCaptionDataset;
import dalle2.data.ImageCaptionItem;
import dalle2.data.LazyImage;
import dalle2.djl.DjlRuntime;
import dalle2.models.ClipConfig;
import dalle2.models.ClipEncoder;
import dalle2.models.ClipTokenizer;
import dalle2.models.Decoder;
import dalle2.models.DecoderConfig;
import dalle2.models.Prior;
import dalle2.models.PriorConfig;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The three trainer worker types on a tiny corpus made here: corpus -> CLIP -> embeddings -> prior, decoder. */
class TrainingTasksTest {

    private static final String[] COLOURS = {"red", "green", "blue", "yellow", "black", "white", "cyan", "magenta"};
    private static final Color[] VALUES = {Color.RED, Color.GREEN, Color.BLUE, Color.YELLOW, Color.BLACK, Color.WHITE,
            Color.CYAN, Color.MAGENTA};

    private static ImageCaptionDataset squares() {
        DatasetOptions options = DatasetOptions.of(32);
        List<ImageCaptionItem> items = new ArrayList<>();
        for (int i = 0; i < COLOURS.length; i++) {
            int index = i;
            LazyImage image = new LazyImage(() -> {
                BufferedImage square = new BufferedImage(32, 32, BufferedImage.TYPE_INT_RGB);
                Graphics2D g = square.createGraphics();
                g.setColor(Color.GRAY);
                g.fillRect(0, 0, 32, 32);
                g.setColor(VALUES[index]);
                g.fillRect(8, 8, 16, 16);
                g.dispose();
                return square;
            }, "squares", options);
            items.add(new ImageCaptionItem("squares/" + i, i < 4 ? "squares-a" : "squares-b", "key" + i,
                    List.of("a " + COLOURS[i] + " square", COLOURS[i]), ImageCaptionItem.NO_LABEL, Map.of(), image));
        }
        return ImageCaptionDataset.of("squares", 32, items, new DatasetReport());
    }

    @Test
    void aCorpusRoundTripsThroughItsFolderWithPixelsAndCaptions(@TempDir Path dir) throws IOException {
        TrainingCorpus corpus = TrainingCorpus.of(squares());
        corpus.save(dir);
        TrainingCorpus loaded = TrainingCorpus.load(dir);
        assertEquals(8, loaded.size());
        assertEquals(List.of("a blue square", "blue"), loaded.entry(2).captions());
        assertEquals(Color.BLUE.getRGB(), loaded.image(2).getRGB(16, 16));
        assertEquals(Color.GRAY.getRGB(), loaded.image(2).getRGB(0, 0));
        // a repeated source shows up that many times an epoch
        assertEquals(12, loaded.sampleTable(Map.of("squares-a", 2)).length);
    }

    @Test
    void clipThenEmbeddingsThenPriorAndDecoderTrainEndToEnd(@TempDir Path dir) throws IOException {
        DjlRuntime.configure();
        TrainingCorpus corpus = TrainingCorpus.of(squares());
        int[] table = corpus.sampleTable(Map.of());
        try (NDManager manager = DjlRuntime.newManager()) {
            Engine.getInstance().setRandomSeed(5);
            Path tokenizer = dir.resolve("tokenizer.json");
            List<String> captions = new ArrayList<>();
            corpus.entries().forEach(entry -> captions.addAll(entry.captions()));
            ClipTokenizer.writeWordLevel(captions, 1, tokenizer);
            int vocab;
            try (ClipTokenizer loaded = ClipTokenizer.load(tokenizer, 8)) {
                vocab = loaded.vocabSize();
            }
            ClipEncoder clip = ClipEncoder.create(ClipConfig.tiny().withVocabSize(vocab), tokenizer, manager);
            TrainerOptions options = new TrainerOptions(6, 4, 1e-3f, 1, 1e-4f, 0f, 1f, 0f, 100, 2, 0, 3);
            DallE2Trainer clipTrainer = new DallE2Trainer(new ClipTrainingTask(clip, corpus, table), options,
                    dir.resolve("clip"), manager);
            clipTrainer.train();
            assertTrue(Files.isRegularFile(dir.resolve("clip/model/tokenizer.json")));

            CorpusEmbeddings embeddings = CorpusEmbeddings.compute(clip, corpus, manager);
            embeddings.save(dir.resolve("embeddings"), manager);
            CorpusEmbeddings reloaded = CorpusEmbeddings.load(dir.resolve("embeddings"), manager);
            assertEquals(2, reloaded.captionCount(3));
            assertArrayEquals(embeddings.captions(manager, new int[] {3}, new int[] {1}).toFloatArray(),
                    reloaded.captions(manager, new int[] {3}, new int[] {1}).toFloatArray());
            float[] fromClip = clip.encodeText(manager, List.of("yellow")).toFloatArray();
            assertArrayEquals(fromClip, reloaded.captions(manager, new int[] {3}, new int[] {1}).toFloatArray(), 1e-5f);

            Prior prior = Prior.create(PriorConfig.of(clip.dim(), 32, 2, 4), manager);
            DallE2Trainer priorTrainer = new DallE2Trainer(new PriorTrainingTask(prior, reloaded, table), options,
                    dir.resolve("prior"), manager);
            float priorLoss = priorTrainer.trainStep();
            assertTrue(Float.isFinite(priorLoss) && priorLoss > 0);

            Decoder decoder = Decoder.create(DecoderConfig.tiny().withConditionDim(clip.dim()), manager, 1);
            DecoderTrainingTask decoderTask = new DecoderTrainingTask(decoder, corpus, reloaded, table, manager);
            DallE2Trainer decoderTrainer = new DallE2Trainer(decoderTask, options, dir.resolve("decoder"), manager);
            assertTrue(Float.isFinite(decoderTrainer.trainStep()));
            decoderTask.writeSamples(dir.resolve("samples.png"), 1);
            BufferedImage grid = javax.imageio.ImageIO.read(dir.resolve("samples.png").toFile());
            assertEquals(8 * (32 + 2) + 2, grid.getWidth(), "8 columns: real images above reconstructions");
            assertEquals(2 * (32 + 2) + 2, grid.getHeight());
        }
    }
}
