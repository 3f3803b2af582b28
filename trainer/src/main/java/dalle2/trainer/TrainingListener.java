package dalle2.trainer;

import java.io.IOException;
import java.nio.file.Path;

/**
 * What a training run tells whoever runs it, on the training thread, as it happens: a trainer worker reports
 * progress on the status topic and copies checkpoints and sample grids to object storage. What a method throws
 * stops the run (a checkpoint that cannot be copied is not a checkpoint another worker can resume).
 */
public interface TrainingListener {

    TrainingListener NONE = new TrainingListener() {
    };

    /** After a step is logged (every {@code logInterval} steps). */
    default void logged(long step, float loss, float learningRate) throws IOException {
    }

    /** After a checkpoint of {@code step} steps is complete in the run's {@code checkpoint/} folder. */
    default void checkpointed(long step) throws IOException {
    }

    /** After a grid of samples was written to {@code png}. */
    default void sampled(long step, Path png) throws IOException {
    }
}
