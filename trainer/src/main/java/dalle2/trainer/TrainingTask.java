package dalle2.trainer;

import ai.djl.ndarray.NDArray;
import ai.djl.nn.Block;
import ai.djl.training.ParameterStore;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Random;

/**
 * What the generic training loop needs from one model: its parameters, a loss on a batch, and a way to
 * write itself as a model folder. One implementation per worker type (clip, prior, decoder).
 */
public interface TrainingTask {

    /** {@code clip}, {@code prior} or {@code decoder}: names checkpoints and logs. */
    String kind();

    /** The trainable network. */
    Block block();

    /** Number of training examples; batches are drawn from an epoch permutation of {@code 0 … size−1}. */
    int size();

    /**
     * The scalar loss of one batch, recorded for gradients by the caller's collector.
     *
     * @param rng the trainer's random stream (noise, timesteps, dropout): checkpointed, so resume is exact
     */
    NDArray loss(ParameterStore parameterStore, int[] batch, Random rng);

    /** Writes the model folder (config.json, weights.safetensors, …) with the block's current weights. */
    void export(Path modelDir) throws IOException;

    /** Optionally writes a grid of samples for a person to look at; called every {@code sampleEvery} steps. */
    default void writeSamples(Path png, long step) throws IOException {
    }
}
