package dalle2.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import dalle2.inference.ContactSheet;
import dalle2.inference.ImageTensors;
import dalle2.models.Upsampler;
import dalle2.sampling.Sampler;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Trains a super-resolution stage on random crops of full-size corpus images. Sample grids show, for a fixed set
 * of items, three rows: the low-resolution input (blown up without smoothing), the stage's output, the real image.
 */
public final class UpsamplerTrainingTask extends CorpusTrainingTask {

    static final int SAMPLE_ITEMS = 6;

    private final Upsampler upsampler;
    private final TrainingCorpus corpus;
    private final int crop;
    private final NDManager manager;
    private final int[] sampleItems;

    public UpsamplerTrainingTask(Upsampler upsampler, TrainingCorpus corpus, int[] table, int crop, NDManager manager) {
        super(table);
        if (corpus.imageSize() != upsampler.config().imageSize()) {
            throw new IllegalArgumentException("the corpus holds " + corpus.imageSize() + " px images, the upsampler draws "
                    + upsampler.config().imageSize() + " px");
        }
        this.upsampler = upsampler;
        this.corpus = corpus;
        this.crop = crop;
        this.manager = manager;
        this.sampleItems = DecoderTrainingTask.spreadItems(corpus.size(), SAMPLE_ITEMS);
    }

    @Override
    public String kind() {
        return "upsampler";
    }

    @Override
    public Block block() {
        return upsampler.block();
    }

    @Override
    public NDArray loss(ParameterStore parameterStore, int[] batch, Random rng) {
        return upsampler.loss(parameterStore, corpus.images(parameterStore.getManager(), items(batch)), crop, rng);
    }

    @Override
    public void export(Path modelDir) throws IOException {
        upsampler.save(modelDir);
    }

    @Override
    public void writeSamples(Path png, long step) throws IOException {
        int size = upsampler.config().imageSize();
        List<BufferedImage> lowRow = new ArrayList<>();
        List<BufferedImage> upsampledRow;
        List<BufferedImage> realRow = new ArrayList<>();
        try (NDManager scope = manager.newSubManager()) {
            NDArray real = corpus.images(scope, sampleItems);
            NDArray low = Upsampler.downsample(real, upsampler.config().lowResSize());
            long[] seeds = new long[sampleItems.length];
            for (int i = 0; i < seeds.length; i++) {
                seeds[i] = i;
            }
            upsampledRow = ImageTensors.toImages(upsampler.upsample(low, seeds, Sampler.Progress.NONE));
            for (BufferedImage image : ImageTensors.toImages(low)) {
                lowRow.add(nearest(image, size));
            }
            realRow.addAll(ImageTensors.toImages(real));
        }
        List<BufferedImage> grid = new ArrayList<>(lowRow);
        grid.addAll(upsampledRow);
        grid.addAll(realRow);
        ContactSheet.write(grid, sampleItems.length, png);
    }

    /** Blown up pixel by pixel, so the grid shows what the stage was given and not a smoothed version of it. */
    static BufferedImage nearest(BufferedImage image, int size) {
        BufferedImage out = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                out.setRGB(x, y, image.getRGB(x * image.getWidth() / size, y * image.getHeight() / size));
            }
        }
        return out;
    }
}
