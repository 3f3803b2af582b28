package dalle2.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
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
public final class DdimSampler {

    /** Receives progress: {@code done} of {@code total} network steps finished. */
    @FunctionalInterface
    public interface Progress {
        void onStep(int done, int total);

        Progress NONE = (done, total) -> { };
    }

    private final NoiseScheduler scheduler;
    private final PredictionType prediction;
    private final float clipSample;

    /**
     * @param clipSample clamp x̂₀ to [−clipSample, clipSample] each step (images live in [−1, 1]);
     *                   0 or NaN for no clamping (embeddings)
     */
    public DdimSampler(NoiseScheduler scheduler, PredictionType prediction, float clipSample) {
        this.scheduler = scheduler;
        this.prediction = prediction;
        this.clipSample = clipSample;
    }

    public NoiseScheduler scheduler() {
        return scheduler;
    }

    /**
     * The timesteps visited, from noisiest to cleanest: evenly spaced and always starting at T−1
     * ("trailing" spacing, Lin et al. 2024, table 2), so sampling starts from pure noise as training saw it.
     */
    public int[] timesteps(int steps) {
        int total = scheduler.timesteps();
        if (steps < 1 || steps > total) {
            throw new IllegalArgumentException("steps must be in 1.." + total + ", got " + steps);
        }
        int[] ts = new int[steps];
        for (int i = 0; i < steps; i++) {
            ts[i] = (int) Math.round(total - i * (double) total / steps) - 1;
        }
        return ts;
    }

    public NDArray sample(Denoiser model, NDArray condition, Shape sampleShape, int steps, float eta,
                          float guidance, long[] seeds) {
        return sample(model, condition, sampleShape, steps, eta, guidance, seeds, Progress.NONE);
    }

    /**
     * Runs the full reverse process from x_{T−1} ~ N(0, I).
     *
     * @param condition   shape (B, D); the result lives in its manager
     * @param sampleShape shape of one sample, without the batch dimension
     * @param eta         0 (deterministic) … 1 (DDPM)
     * @param guidance    classifier-free guidance scale; 1 = conditional only (one pass per step)
     * @param seeds       one per sample (B)
     */
    public NDArray sample(Denoiser model, NDArray condition, Shape sampleShape, int steps, float eta,
                          float guidance, long[] seeds, Progress progress) {
        long batch = condition.getShape().get(0);
        if (seeds.length != batch) {
            throw new IllegalArgumentException("need one seed per sample: " + seeds.length + " seeds for " + batch);
        }
        if (!(eta >= 0f && eta <= 1f)) {
            throw new IllegalArgumentException("eta must be in [0, 1], got " + eta);
        }
        if (!(guidance >= 0f) || Float.isInfinite(guidance)) {
            throw new IllegalArgumentException("guidance must be >= 0, got " + guidance);
        }
        NDManager scope = condition.getManager();
        NoiseStreams noise = new NoiseStreams(seeds);
        int[] ts = timesteps(steps);
        NDArray x = noise.next(scope, sampleShape);
        for (int i = 0; i < ts.length; i++) {
            int t = ts[i];
            int tPrev = i + 1 < ts.length ? ts[i + 1] : -1;
            // a manager per step frees the network's intermediates and the previous x_t (CONTRIBUTING.md)
            try (NDManager step = scope.newSubManager()) {
                x.attach(step);
                NDArray cond = condition.duplicate();
                cond.attach(step);
                NDArray output = guidedPrediction(model, x, cond, t, guidance);
                NDArray z = eta > 0f ? noise.next(step, sampleShape) : null;
                NDArray next = update(x, output, t, tPrev, eta, z);
                next.attach(scope);
                x = next;
            }
            progress.onStep(i + 1, ts.length);
        }
        return x;
    }

    private NDArray guidedPrediction(Denoiser model, NDArray x, NDArray condition, int t, float guidance) {
        NDManager manager = x.getManager();
        long batch = x.getShape().get(0);
        if (guidance == 1f) {
            NDArray timesteps = manager.full(new Shape(batch), (long) t);
            return model.predict(x, timesteps, condition, manager.ones(new Shape(batch)));
        }
        // conditional and unconditional passes in one batch of 2B (Ho and Salimans 2022, algorithm 2)
        NDArray both = x.concat(x);
        NDArray timesteps = manager.full(new Shape(2 * batch), (long) t);
        NDArray conditions = condition.concat(condition);
        NDArray keep = manager.ones(new Shape(batch)).concat(manager.zeros(new Shape(batch)));
        NDArray out = model.predict(both, timesteps, conditions, keep);
        NDArray conditional = out.get("0:" + batch);
        NDArray unconditional = out.get(batch + ":");
        // ε̃ = ε_∅ + w·(ε_c − ε_∅)
        return unconditional.add(conditional.sub(unconditional).mul(guidance));
    }

    /** One DDIM step from x_t to x_t′ given the network output; t′ = −1 means "to x₀". */
    NDArray update(NDArray x, NDArray output, int t, int tPrev, float eta, NDArray z) {
        double alphaProdT = scheduler.alphaBar(t);
        double alphaProdTPrev = scheduler.alphaBar(tPrev);
        double betaProdT = 1.0 - alphaProdT;

        NDArray predOriginalSample;
        NDArray predEpsilon;
        switch (prediction) {
            case EPSILON:
                predEpsilon = output;
                predOriginalSample = x.sub(output.mul((float) Math.sqrt(betaProdT))).div((float) Math.sqrt(alphaProdT));
                break;
            case SAMPLE:
                predOriginalSample = output;
                predEpsilon = x.sub(output.mul((float) Math.sqrt(alphaProdT))).div((float) Math.sqrt(betaProdT));
                break;
            case V:
                predOriginalSample = x.mul((float) Math.sqrt(alphaProdT)).sub(output.mul((float) Math.sqrt(betaProdT)));
                predEpsilon = x.mul((float) Math.sqrt(betaProdT)).add(output.mul((float) Math.sqrt(alphaProdT)));
                break;
            default:
                throw new IllegalStateException(prediction.toString());
        }
        if (clipSample > 0f) {
            predOriginalSample = predOriginalSample.clip(-clipSample, clipSample);
            // keep ε consistent with the clamped x̂₀ so the direction term points at it
            predEpsilon = x.sub(predOriginalSample.mul((float) Math.sqrt(alphaProdT))).div((float) Math.sqrt(betaProdT));
        }
        if (tPrev < 0) {
            return predOriginalSample;
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

}
