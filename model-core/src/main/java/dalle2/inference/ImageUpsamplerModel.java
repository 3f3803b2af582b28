package dalle2.inference;

import dalle2.sampling.DdimSampler;
import java.awt.image.BufferedImage;
import java.util.List;

/**
 * Port of the upsampler stage: base images → super-resolution U-Net (DDIM) → images of the size each task asks
 * for.
 *
 * <p>Contract the upsampler worker relies on:
 * <ul>
 *   <li>one RGB image of {@code task.size()}² per task, in task order: {@link #imageSize()} itself, or its area
 *       average when the task asks for less;</li>
 *   <li>task {@code i}'s pixels depend only on its base image, its seed and its size — never on the other tasks of
 *       the batch (which may ask for other sizes);</li>
 *   <li>called from one thread at a time (one instance per worker); may take seconds;</li>
 *   <li>{@code progress} is told of each of the {@link #steps()} network steps of the batch.</li>
 * </ul>
 */
public interface ImageUpsamplerModel extends AutoCloseable {

    /** Names the weights; recorded in every job's status. */
    String version();

    /** Side of the base images it takes: a job whose base images have another side is refused. */
    int lowResSize();

    /** Side of the images it draws: the largest size it serves. */
    int imageSize();

    /** DDIM steps per batch. */
    int steps();

    List<BufferedImage> upsample(List<UpsampleTask> tasks, DdimSampler.Progress progress);

    @Override
    default void close() {
    }
}
