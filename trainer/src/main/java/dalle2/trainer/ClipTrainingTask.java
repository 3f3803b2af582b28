package dalle2.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import dalle2.models.ClipEncoder;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * Contrastive training of the project's CLIP on image–caption pairs: each step pairs every image of the
 * batch with one of its captions, drawn from the trainer's random stream.
 *
 * <p>Fashion-MNIST gives many images the same caption ("a photo of a dress"); plain InfoNCE would push such
 * true pairs apart as negatives. Pairs that describe the same thing (same class label, or the same caption
 * text) share the target probability instead (soft targets, as in CLIP variants trained on class data).
 */
public final class ClipTrainingTask extends CorpusTrainingTask {

    private final ClipEncoder clip;
    private final TrainingCorpus corpus;

    public ClipTrainingTask(ClipEncoder clip, TrainingCorpus corpus, int[] table) {
        super(table);
        this.clip = clip;
        this.corpus = corpus;
    }

    @Override
    public String kind() {
        return "clip";
    }

    @Override
    public Block block() {
        return clip.block();
    }


    @Override
    public NDArray loss(ParameterStore parameterStore, int[] batch, Random rng) {
        NDManager step = parameterStore.getManager();
        int[] items = items(batch);
        List<String> captions = new ArrayList<>(batch.length);
        String[] sameness = new String[batch.length];
        for (int b = 0; b < batch.length; b++) {
            TrainingCorpus.Entry entry = corpus.entry(items[b]);
            String caption = entry.captions().get(rng.nextInt(entry.captions().size()));
            captions.add(caption);
            sameness[b] = entry.label() >= 0 ? entry.source() + "#" + entry.label() : "caption:" + caption;
        }
        NDArray images = corpus.images(step, items);
        return clip.contrastiveLoss(parameterStore, images, clip.tokenize(captions), softTargets(step, sameness));
    }

    /** Row-normalised (B, B) targets: 1/k over the k batch entries that describe the same thing. */
    static NDArray softTargets(NDManager manager, String[] sameness) {
        int n = sameness.length;
        float[] targets = new float[n * n];
        for (int i = 0; i < n; i++) {
            int matches = 0;
            for (int j = 0; j < n; j++) {
                if (sameness[i].equals(sameness[j])) {
                    matches++;
                }
            }
            for (int j = 0; j < n; j++) {
                if (sameness[i].equals(sameness[j])) {
                    targets[i * n + j] = 1f / matches;
                }
            }
        }
        return manager.create(targets, new ai.djl.ndarray.types.Shape(n, n));
    }

    @Override
    public void export(Path modelDir) throws IOException {
        clip.save(modelDir);
    }
}
