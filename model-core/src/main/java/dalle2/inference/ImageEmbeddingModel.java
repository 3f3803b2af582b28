package dalle2.inference;

import dalle2.messages.SamplingParams;
import dalle2.sampling.DdimSampler;
import java.util.List;

/**
 * Port of the prior stage: prompts → predicted CLIP image embeddings (CLIP text encoder + diffusion prior); a
 * task that carries an image (a variations job) gets that image's CLIP image embedding instead, without the prior.
 *
 * <p>Contract the prior worker relies on:
 * <ul>
 *   <li>one result per task, in task order, each of {@link #embeddingDim()} finite floats;</li>
 *   <li>task {@code i}'s result depends only on its prompt, its seed and {@code params} — never on the other
 *       tasks of the batch (draw each task's noise from its own stream: {@code new NoiseStreams(seeds)});</li>
 *   <li>called from one thread at a time (one instance per worker); may take seconds;</li>
 *   <li>{@code progress} is told of each finished network step of the batch.</li>
 * </ul>
 */
public interface ImageEmbeddingModel extends AutoCloseable {

    /** Names the weights (e.g. {@code prior-2026-11-27+clip-…}); recorded in every job's status. */
    String version();

    int embeddingDim();

    List<float[]> embed(SamplingParams params, List<EmbedTask> tasks, DdimSampler.Progress progress);

    @Override
    default void close() {
    }
}
