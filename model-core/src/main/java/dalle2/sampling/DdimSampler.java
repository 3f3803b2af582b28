package dalle2.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;

/**
 * Denoising diffusion implicit models (Song, Meng and Ermon 2021), used by the prior (vectors) and the
 * decoder (images), with classifier-free guidance (Ho and Salimans 2022).
 *
 * <p>Each step computes, for the current timestep t and the previous one t′ of the sub-sequence:
 * <pre>
 *   x̂₀            = (x_t − √(1−ᾱ_t)·ε̂) / √ᾱ_t                              (eq. 12, "predicted x₀")
 *   σ_t           = η · √((1−ᾱ_t′)/(1−ᾱ_t)) · √(1 − ᾱ_t/ᾱ_t′)               (eq. 16)
 *   x_t′          = √ᾱ_t′·x̂₀ + √(1−ᾱ_t′−σ_t²)·ε̂ + σ_t·z                   (eq. 12)
 * </pre>
 * η = 0 is deterministic; η = 1 is DDPM's ancestral sampler. The noise z of each sample comes from its own
 * stream ({@link NoiseStreams}), so results do not depend on batch composition.
 */
public final class DdimSampler implements Sampler {

    /**
     * Receives progress: {@code done} of {@code total} network steps finished. The workers' name for
     * {@link Sampler.Progress}, which every sampler accepts.
     */
    @FunctionalInterface
    public interface Progress extends Sampler.Progress {
        Progress NONE = (done, total) -> { };
    }

    private final NoiseScheduler scheduler;
    private final PredictionType prediction;
    private final SampleClamp clamp;

    /**
     * @param clipSample clamp x̂₀ to [−clipSample, clipSample] each step (images live in [−1, 1]);
     *                   0 or NaN for no clamping (embeddings)
     */
    public DdimSampler(NoiseScheduler scheduler, PredictionType prediction, float clipSample) {
        this(scheduler, prediction, SampleClamp.everyStep(clipSample));
    }

    /** @param clamp where x̂₀ is clamped to the data range */
    public DdimSampler(NoiseScheduler scheduler, PredictionType prediction, SampleClamp clamp) {
        this.scheduler = scheduler;
        this.prediction = prediction;
        this.clamp = clamp;
    }

    @Override
    public NoiseScheduler scheduler() {
        return scheduler;
    }

    public NDArray sample(Denoiser model, NDArray condition, Shape sampleShape, int steps, float eta,
                          float guidance, long[] seeds) {
        return sample(model, condition, sampleShape, steps, eta, guidance, seeds, Progress.NONE);
    }

    /**
     * Runs the full reverse process from x_{T−1} ~ N(0, I).
     *
     * @param eta 0 (deterministic) … 1 (DDPM)
     */
    @Override
    public NDArray sample(Denoiser model, NDArray condition, Shape sampleShape, int steps, float eta,
                          float guidance, long[] seeds, Sampler.Progress progress) {
        StepLoop.checkSeeds(condition, seeds);
        if (!(eta >= 0f && eta <= 1f)) {
            throw new IllegalArgumentException("eta must be in [0, 1], got " + eta);
        }
        GuidedDenoiser guided = new GuidedDenoiser(model, guidance);
        NoiseStreams noise = new NoiseStreams(seeds);
        int[] ts = timesteps(steps);
        NDArray start = noise.next(condition.getManager(), sampleShape);
        return StepLoop.run(condition, start, ts.length, (i, x, cond) -> {
            int t = ts[i];
            int tPrev = i + 1 < ts.length ? ts[i + 1] : -1;
            NDArray output = guided.predict(x, cond, t);
            NDArray z = eta > 0f ? noise.next(x.getManager(), sampleShape) : null;
            return update(x, output, t, tPrev, eta, z);
        }, progress);
    }

    /** One DDIM step from x_t to x_t′ given the network output; t′ = −1 means "to x₀". */
    NDArray update(NDArray x, NDArray output, int t, int tPrev, float eta, NDArray z) {
        double alphaProdT = scheduler.alphaBar(t);
        double alphaProdTPrev = scheduler.alphaBar(tPrev);
        double betaProdT = 1.0 - alphaProdT;

        NDArray predOriginalSample = prediction.predictedSample(x, output, alphaProdT);
        NDArray predEpsilon = switch (prediction) {
            case EPSILON -> output;
            case SAMPLE -> x.sub(output.mul((float) Math.sqrt(alphaProdT))).div((float) Math.sqrt(betaProdT));
            case V -> x.mul((float) Math.sqrt(betaProdT)).add(output.mul((float) Math.sqrt(alphaProdT)));
        };
        if (clamp.clampsAt(alphaProdT)) {
            predOriginalSample = clamp.apply(predOriginalSample, alphaProdT);
            // keep ε consistent with the clamped x̂₀ so the direction term points at it
            predEpsilon = x.sub(predOriginalSample.mul((float) Math.sqrt(alphaProdT))).div((float) Math.sqrt(betaProdT));
        }
        if (tPrev < 0) {
            return clamp.result(predOriginalSample);
        }
        double variance = (1.0 - alphaProdTPrev) / betaProdT * (1.0 - alphaProdT / alphaProdTPrev);
        double stdDevT = eta * Math.sqrt(Math.max(variance, 0.0));
        double directionScale = Math.sqrt(Math.max(1.0 - alphaProdTPrev - stdDevT * stdDevT, 0.0));
        NDArray predSampleDirection = predEpsilon.mul((float) directionScale);
        NDArray prevSample = predOriginalSample.mul((float) Math.sqrt(alphaProdTPrev)).add(predSampleDirection);
        if (stdDevT > 0 && z != null) {
            prevSample = prevSample.add(z.mul((float) stdDevT));
        }
        return prevSample;
    }

    /**
     * Deterministic DDIM (η = 0) from a given x at the first of the given timesteps rather than from pure noise at
     * T − 1: started from a noised estimate of the sample (SDEdit, Meng et al. 2022), the network only has to add
     * the detail the noise at that level hides.
     *
     * @param start     x at {@code timesteps[0]}, shape (B, …); the result lives in the condition's manager
     * @param timesteps strictly decreasing, within 0 … T − 1
     */
    public NDArray denoise(Denoiser model, NDArray condition, NDArray start, int[] timesteps, float guidance,
                           Sampler.Progress progress) {
        for (int i = 0; i < timesteps.length; i++) {
            if (timesteps[i] < 0 || timesteps[i] >= scheduler.timesteps() || (i > 0 && timesteps[i] >= timesteps[i - 1])) {
                throw new IllegalArgumentException("timesteps must decrease within 0.." + (scheduler.timesteps() - 1)
                        + ", got " + java.util.Arrays.toString(timesteps));
            }
        }
        GuidedDenoiser guided = new GuidedDenoiser(model, guidance);
        return StepLoop.run(condition, start, timesteps.length, (i, x, cond) -> {
            int t = timesteps[i];
            int tPrev = i + 1 < timesteps.length ? timesteps[i + 1] : -1;
            return update(x, guided.predict(x, cond, t), t, tPrev, 0f, null);
        }, progress);
    }
}
