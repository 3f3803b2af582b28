package dalle2.inference;

import dalle2.messages.SamplingParams;
import dalle2.sampling.DdimSampler;
import java.awt.image.BufferedImage;
import java.util.List;

/**
 * Port of the decoder stage: CLIP image embeddings → images (U-Net DDIM).
 *
 * <p>Contract the decoder worker relies on:
 * <ul>
 *   <li>one {@link #imageSize()}² RGB image per task, in task order;</li>
 *   <li>task {@code i}'s pixels depend only on its embedding, its seed and {@code params} — never on the other
 *       tasks of the batch;</li>
 *   <li>called from one thread at a time (one instance per worker); may take seconds;</li>
 *   <li>{@code progress} is told of each finished network step of the batch.</li>
 * </ul>
 */
public interface ImageDecoderModel extends AutoCloseable {

    /** Names the weights; recorded in every job's status. */
    String version();

    /**
     * The CLIP whose image embeddings it was trained on ({@code clip@…}, from its folder's lineage), or null when
     * its folder does not record one: an embedding from another CLIP would draw garbage.
     */
    default String clipVersion() {
        return null;
    }

    /** Width and height of the images drawn. */
    int imageSize();

    /** Width of the CLIP image embedding the decoder is conditioned on: a task with another width is refused. */
    int embeddingDim();

    List<BufferedImage> decode(SamplingParams params, List<DecodeTask> tasks, DdimSampler.Progress progress);

    @Override
    default void close() {
    }
}
