package dalle2.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import dalle2.inference.ContactSheet;
import dalle2.inference.ImageTensors;
import dalle2.models.Decoder;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Trains the decoder U-Net to draw a corpus image from its CLIP image embedding. Sample grids show, for a
 * fixed set of items, the real image above the decoder's reconstruction from its embedding.
 */
public final class DecoderTrainingTask extends CorpusTrainingTask {

    static final int SAMPLE_STEPS = 25;
    static final float SAMPLE_GUIDANCE = 3f;

    private final Decoder decoder;
    private final TrainingCorpus corpus;
    private final CorpusEmbeddings embeddings;
    private final NDManager manager;
    private final int[] sampleItems;

    public DecoderTrainingTask(Decoder decoder, TrainingCorpus corpus, CorpusEmbeddings embeddings, int[] table,
                               NDManager manager) {
        super(table);
        this.decoder = decoder;
        this.corpus = corpus;
        this.embeddings = embeddings;
        this.manager = manager;
        this.sampleItems = spreadItems(corpus.size(), 8);
    }

    @Override
    public String kind() {
        return "decoder";
    }

    @Override
    public Block block() {
        return decoder.block();
    }


    @Override
    public NDArray loss(ParameterStore parameterStore, int[] batch, Random rng) {
        NDManager step = parameterStore.getManager();
        int[] items = items(batch);
        return decoder.loss(parameterStore, corpus.images(step, items), embeddings.images(step, items), rng);
    }

    @Override
    public void export(Path modelDir) throws IOException {
        decoder.save(modelDir);
    }

    @Override
    public void writeSamples(Path png, long step) throws IOException {
        List<BufferedImage> grid = new ArrayList<>();
        for (int item : sampleItems) {
            grid.add(corpus.image(item));
        }
        try (NDManager scope = manager.newSubManager()) {
            long[] seeds = new long[sampleItems.length];
            for (int i = 0; i < seeds.length; i++) {
                seeds[i] = i;
            }
            NDArray images = decoder.sample(embeddings.images(scope, sampleItems), SAMPLE_STEPS, 0f, SAMPLE_GUIDANCE,
                    seeds, dalle2.sampling.DdimSampler.Progress.NONE);
            grid.addAll(ImageTensors.toImages(images));
        }
        ContactSheet.write(grid, sampleItems.length, png);
    }

    /** {@code count} items spread evenly over the corpus (so every source shows up). */
    static int[] spreadItems(int size, int count) {
        int[] items = new int[Math.min(size, count)];
        for (int i = 0; i < items.length; i++) {
            items[i] = (int) ((long) i * size / items.length);
        }
        return items;
    }
}
