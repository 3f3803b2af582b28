package dalle2.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import dalle2.models.Prior;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Random;

/** Trains the diffusion prior on (caption embedding, image embedding) pairs of the embedded corpus. */
public final class PriorTrainingTask extends CorpusTrainingTask {

    private final Prior prior;
    private final CorpusEmbeddings embeddings;

    public PriorTrainingTask(Prior prior, CorpusEmbeddings embeddings, int[] table) {
        super(table);
        this.prior = prior;
        this.embeddings = embeddings;
    }

    @Override
    public String kind() {
        return "prior";
    }

    @Override
    public Block block() {
        return prior.network();
    }


    @Override
    public NDArray loss(ParameterStore parameterStore, int[] batch, Random rng) {
        NDManager step = parameterStore.getManager();
        int[] items = items(batch);
        int[] captions = new int[batch.length];
        for (int b = 0; b < batch.length; b++) {
            captions[b] = rng.nextInt(embeddings.captionCount(items[b]));
        }
        NDArray text = embeddings.captions(step, items, captions);
        NDArray image = embeddings.images(step, items);
        return prior.loss(parameterStore, text, image, rng);
    }

    @Override
    public void export(Path modelDir) throws IOException {
        prior.save(modelDir);
    }
}
