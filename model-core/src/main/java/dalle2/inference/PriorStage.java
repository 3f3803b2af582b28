package dalle2.inference;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dalle2.messages.SamplingParams;
import dalle2.models.ClipEncoder;
import dalle2.models.Prior;
import dalle2.sampling.DdimSampler;
import java.util.ArrayList;
import java.util.List;

/**
 * The prior stage of unCLIP: prompt → CLIP text embedding → diffusion prior (DDIM or DPM-Solver++) → predicted
 * CLIP image embedding. Each task's noise comes from its own seed, so a result never depends on its batch.
 */
public final class PriorStage implements ImageEmbeddingModel {

    private final ClipEncoder clip;
    private final Prior prior;
    private final NDManager manager;
    private final String version;

    public PriorStage(ClipEncoder clip, Prior prior, NDManager manager, String version) {
        if (clip.dim() != prior.config().embeddingDim()) {
            throw new IllegalArgumentException("the CLIP embeds into " + clip.dim() + " dimensions but the prior expects "
                    + prior.config().embeddingDim());
        }
        this.clip = clip;
        this.prior = prior;
        this.manager = manager;
        this.version = version;
    }

    @Override
    public String version() {
        return version;
    }

    @Override
    public int embeddingDim() {
        return clip.dim();
    }

    /**
     * The prompts' predicted image embeddings, and for tasks with an image (variations) that image's CLIP image
     * embedding: the paper's variations, which keep the image's semantics and let the decoder's noise vary the rest.
     */
    @Override
    public List<float[]> embed(SamplingParams params, List<EmbedTask> tasks, DdimSampler.Progress progress) {
        List<EmbedTask> prompted = tasks.stream().filter(t -> t.image() == null).toList();
        List<EmbedTask> imaged = tasks.stream().filter(t -> t.image() != null).toList();
        if (imaged.isEmpty()) {
            return sampleFromPrompts(params, tasks, progress);
        }
        java.util.Map<EmbedTask, float[]> results = new java.util.IdentityHashMap<>();
        List<float[]> clipped = DallE2.encodeImages(clip, manager,
                imaged.stream().map(EmbedTask::image).toList());
        for (int i = 0; i < imaged.size(); i++) {
            results.put(imaged.get(i), clipped.get(i));
        }
        if (!prompted.isEmpty()) {
            List<float[]> sampled = sampleFromPrompts(params, prompted, progress);
            for (int i = 0; i < prompted.size(); i++) {
                results.put(prompted.get(i), sampled.get(i));
            }
        }
        return tasks.stream().map(results::get).toList();
    }

    private List<float[]> sampleFromPrompts(SamplingParams params, List<EmbedTask> tasks, DdimSampler.Progress progress) {
        List<String> prompts = new ArrayList<>(tasks.size());
        long[] seeds = new long[tasks.size()];
        for (int i = 0; i < tasks.size(); i++) {
            prompts.add(tasks.get(i).prompt());
            seeds[i] = tasks.get(i).seed();
        }
        try (NDManager scope = manager.newSubManager()) {
            NDArray text = clip.encodeText(scope, prompts);                                   // (B, D) unit rows
            NDArray image = prior.sample(text, params.sampler(), params.steps(), params.eta(), params.guidance(),
                    seeds, progress);
            return rows(image.toFloatArray(), tasks.size());
        }
    }

    static List<float[]> rows(float[] flat, int count) {
        int dim = flat.length / count;
        List<float[]> rows = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
            float[] row = new float[dim];
            System.arraycopy(flat, i * dim, row, 0, dim);
            rows.add(row);
        }
        return rows;
    }

    @Override
    public void close() {
        manager.close();
    }
}
