package dalle2.inference;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dalle2.messages.SamplingParams;
import dalle2.models.Decoder;
import dalle2.sampling.DdimSampler;
import java.awt.image.BufferedImage;
import java.util.List;

/**
 * The decoder stage of unCLIP: CLIP image embedding → U-Net sampled with DDIM or DPM-Solver++ → image, one seed
 * per image.
 */
public final class DecoderStage implements ImageDecoderModel {

    private final Decoder decoder;
    private final NDManager manager;
    private final String version;
    private final String clipVersion;

    public DecoderStage(Decoder decoder, NDManager manager, String version) {
        this(decoder, manager, version, null);
    }

    /** A decoder conditioned on the image embeddings of {@code clipVersion} (null: not recorded). */
    public DecoderStage(Decoder decoder, NDManager manager, String version, String clipVersion) {
        this.decoder = decoder;
        this.manager = manager;
        this.version = version;
        this.clipVersion = clipVersion;
    }

    @Override
    public String version() {
        return version;
    }

    @Override
    public String clipVersion() {
        return clipVersion;
    }

    @Override
    public int imageSize() {
        return decoder.config().imageSize();
    }

    @Override
    public int embeddingDim() {
        return decoder.config().conditionDim();
    }

    @Override
    public List<BufferedImage> decode(SamplingParams params, List<DecodeTask> tasks, DdimSampler.Progress progress) {
        int dim = decoder.config().conditionDim();
        float[] embeddings = new float[tasks.size() * dim];
        long[] seeds = new long[tasks.size()];
        for (int i = 0; i < tasks.size(); i++) {
            float[] embedding = tasks.get(i).embedding();
            if (embedding.length != dim) {
                throw new IllegalArgumentException("job " + tasks.get(i).jobId() + " image " + tasks.get(i).index()
                        + " carries a " + embedding.length + "-d embedding; the decoder expects " + dim);
            }
            System.arraycopy(embedding, 0, embeddings, i * dim, dim);
            seeds[i] = tasks.get(i).seed();
        }
        try (NDManager scope = manager.newSubManager()) {
            NDArray condition = scope.create(embeddings, new Shape(tasks.size(), dim));
            NDArray images = decoder.sample(condition, params.sampler(), params.steps(), params.eta(),
                    params.guidance(), seeds, progress);
            return ImageTensors.toImages(images);
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}
