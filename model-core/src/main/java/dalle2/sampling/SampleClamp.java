package dalle2.sampling;

import ai.djl.ndarray.NDArray;

/**
 * Where a sampler clamps its predicted clean sample x̂₀ to the data range [−limit, limit], and where it takes
 * x̂₀ as the network predicts it.
 *
 * <p>Clamping is a projection onto the range, not an estimate of the pixel: when x̂₀ spreads far beyond the
 * range, E[clip(x̂₀)] is pulled towards 0, the middle of the range. From ε, x̂₀ = (x_t − √(1−ᾱ)·ε̂)/√ᾱ carries
 * the network's error times √(1−ᾱ)/√ᾱ, 32 at the second of 50 trailing steps of the cosine schedule, where
 * 71 % of the decoder's x̂₀ pixels lay outside [−1, 1]: clamped at every step, the dark Fashion-MNIST samples
 * were drawn towards mid-grey (SAMPLERS.md, "Brightness"). An unclamped DDIM or DPM-Solver step
 * from t to t′ passes that error on with the factor √ᾱ_t′·√(1−ᾱ_t)/√ᾱ_t − √(1−ᾱ_t′) (1.0 there), so it
 * needs no clamp. Only where the schedule's signal-to-noise ratio is zero in all but name (the cosine
 * schedule's last timestep, ᾱ ≈ 2·10⁻⁹, since β is clipped to 0.999) is x̂₀ undefined (Lin et al. 2024,
 * "Common diffusion noise schedules and sample steps are flawed", section 3): there the factor is 631 at
 * 50 steps, and only the clamp keeps the first step finite.
 *
 * @param limit       the range's bound; 0 for no clamping (embeddings)
 * @param maxAlphaBar clamp only at timesteps with ᾱ_t ≤ this; 1 clamps at every step
 */
public record SampleClamp(float limit, double maxAlphaBar) {

    /** No clamping (embeddings, whose range is not bounded). */
    public static final SampleClamp NONE = new SampleClamp(0f, 1.0);

    /**
     * The ᾱ below which x_t holds less than a thousandth of x₀ (√ᾱ < 10⁻³), as good as pure noise to a network
     * and to float32: the cosine schedule's last timestep (2·10⁻⁹) is below it, the one before (2·10⁻⁶) above.
     */
    public static final double ZERO_SNR_ALPHA_BAR = 1e-6;

    public SampleClamp {
        if (!(limit >= 0f) || Float.isInfinite(limit)) {
            throw new IllegalArgumentException("limit must be >= 0 and finite, got " + limit);
        }
        if (!(maxAlphaBar >= 0.0 && maxAlphaBar <= 1.0)) {
            throw new IllegalArgumentException("maxAlphaBar must be in [0, 1], got " + maxAlphaBar);
        }
    }

    /** x̂₀ clamped to [−limit, limit] at every step (0 or NaN: never). */
    public static SampleClamp everyStep(float limit) {
        return limit > 0f ? new SampleClamp(limit, 1.0) : NONE;
    }

    /** x̂₀ clamped to [−limit, limit] only where it is undefined: at timesteps with ᾱ ≤ {@link #ZERO_SNR_ALPHA_BAR}. */
    public static SampleClamp atZeroSnr(float limit) {
        return new SampleClamp(limit, ZERO_SNR_ALPHA_BAR);
    }

    /** Whether x̂₀ of a timestep with ᾱ = {@code alphaBar} is clamped. */
    public boolean clampsAt(double alphaBar) {
        return limit > 0f && alphaBar <= maxAlphaBar;
    }

    /**
     * The sampler's result, the last step's x̂₀: clamped to the range whatever the steps did, since it is the
     * sample itself (an image), not an estimate a later step refines.
     */
    public NDArray result(NDArray predictedSample) {
        return limit > 0f ? predictedSample.clip(-limit, limit) : predictedSample;
    }

    /** x̂₀ of a timestep with ᾱ = {@code alphaBar}, clamped there or returned as is. */
    public NDArray apply(NDArray predictedSample, double alphaBar) {
        return clampsAt(alphaBar) ? predictedSample.clip(-limit, limit) : predictedSample;
    }
}
