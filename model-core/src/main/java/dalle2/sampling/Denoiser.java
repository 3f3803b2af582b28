package dalle2.sampling;

import ai.djl.ndarray.NDArray;

/**
 * One evaluation of a denoising network, as the sampler and the training losses see it.
 *
 * <p>{@code keepCondition} carries, per sample, 1 to use the condition and 0 to replace it with the
 * network's learned "no condition" embedding. Training uses it for conditioning dropout; the sampler uses it
 * to run the conditional and unconditional passes of classifier-free guidance in one batch.
 */
@FunctionalInterface
public interface Denoiser {

    /**
     * @param noisy         x_t, shape (B, …)
     * @param timesteps     t, int64, shape (B)
     * @param condition     the conditioning embedding, shape (B, D)
     * @param keepCondition float32, shape (B), 1 = conditional, 0 = unconditional
     * @return the prediction (ε, x₀ or v, see {@link PredictionType}), shape of {@code noisy}
     */
    NDArray predict(NDArray noisy, NDArray timesteps, NDArray condition, NDArray keepCondition);
}
