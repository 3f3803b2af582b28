package dalle2.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * A reverse-diffusion sampler: from x_{T−1} ~ N(0, I), drawn from one {@link NoiseStreams} stream per sample,
 * to a clean sample, with classifier-free guidance. Every implementation evaluates the network {@code steps}
 * times (twice the batch when guidance ≠ 1) at the same {@link #timesteps}, so step counts compare across
 * samplers at equal cost, and the same seed starts every sampler from the same noise.
 */
public interface Sampler {

    /** Receives progress: {@code done} of {@code total} network steps finished. */
    @FunctionalInterface
    interface Progress {
        void onStep(int done, int total);

        Progress NONE = (done, total) -> { };
    }

    /**
     * Runs the full reverse process.
     *
     * @param condition   shape (B, D); the result lives in its manager
     * @param sampleShape shape of one sample, without the batch dimension
     * @param eta         the stochasticity η of samplers that have one; deterministic samplers take only 0
     * @param guidance    classifier-free guidance scale; 1 = conditional only (one pass per step)
     * @param seeds       one per sample (B)
     */
    NDArray sample(Denoiser model, NDArray condition, Shape sampleShape, int steps, float eta, float guidance,
                   long[] seeds, Progress progress);

    NoiseScheduler scheduler();

    /**
     * The timesteps at which the network is evaluated, from noisiest to cleanest: evenly spaced and always
     * starting at T−1 ("trailing" spacing, Lin et al. 2024, table 2), so sampling starts from pure noise as
     * training saw it. The last step goes from the last of them to the clean sample.
     */
    default int[] timesteps(int steps) {
        return trailingTimesteps(scheduler().timesteps(), steps);
    }

    static int[] trailingTimesteps(int total, int steps) {
        if (steps < 1 || steps > total) {
            throw new IllegalArgumentException("steps must be in 1.." + total + ", got " + steps);
        }
        int[] ts = new int[steps];
        for (int i = 0; i < steps; i++) {
            ts[i] = (int) Math.round(total - i * (double) total / steps) - 1;
        }
        return ts;
    }
}
