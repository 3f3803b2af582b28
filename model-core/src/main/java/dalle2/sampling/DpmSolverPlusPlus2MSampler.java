package dalle2.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dalle2.messages.SamplerKind;

/**
 * DPM-Solver++(2M) (Lu et al. 2022, "DPM-Solver++: Fast Solver for Guided Sampling of Diffusion Probabilistic
 * Models", algorithm 2): a second-order multistep solver of the probability-flow ODE in the data-prediction
 * form, deterministic, with classifier-free guidance applied to the network output before it is converted.
 *
 * <p>With α_t = √ᾱ_t, σ_t = √(1−ᾱ_t) and λ_t = log(α_t/σ_t), step i evaluates the network at s = t_i, converts
 * the guided output to the data prediction D_i = x̂₀ (clamped to the data range where {@link SampleClamp} says,
 * for pixels) and moves to t = t_{i+1}, h = λ_t − λ_s:
 * <pre>
 *   first order (DDIM):  x_t = (σ_t/σ_s)·x_s + α_t·(1 − e^{−h})·D_i
 *   second order:        the same with D = (1 + 1/(2r))·D_i − 1/(2r)·D_{i−1},  r = (λ_s − λ_{t_{i−1}}) / h
 * </pre>
 * The first step has no history and is first order. The last step goes to σ = 0 (λ = ∞), where only the first
 * order is defined ("lower order final"): it returns D of the last timestep, as DDIM's last step does.
 *
 * <p>The cosine schedule's first timestep T−1 has ᾱ ≈ 2·10⁻⁹ (β clipped to 0.999), so λ ≈ −10 is finite but
 * far below the next timestep's: the second step's r is then large and D_0, a poor estimate, gets a small
 * weight 1/(2r). A schedule with ᾱ = 0 there (λ = −∞) falls back to first order for that step.
 */
public final class DpmSolverPlusPlus2MSampler implements Sampler {

    private final NoiseScheduler scheduler;
    private final PredictionType prediction;
    private final SampleClamp clamp;

    /**
     * @param clipSample clamp x̂₀ to [−clipSample, clipSample] each step (images live in [−1, 1]);
     *                   0 or NaN for no clamping (embeddings)
     */
    public DpmSolverPlusPlus2MSampler(NoiseScheduler scheduler, PredictionType prediction, float clipSample) {
        this(scheduler, prediction, SampleClamp.everyStep(clipSample));
    }

    /** @param clamp where x̂₀ is clamped to the data range */
    public DpmSolverPlusPlus2MSampler(NoiseScheduler scheduler, PredictionType prediction, SampleClamp clamp) {
        this.scheduler = scheduler;
        this.prediction = prediction;
        this.clamp = clamp;
    }

    @Override
    public NoiseScheduler scheduler() {
        return scheduler;
    }

    /** @param eta must be 0: the solver is deterministic */
    @Override
    public NDArray sample(Denoiser model, NDArray condition, Shape sampleShape, int steps, float eta,
                          float guidance, long[] seeds, Progress progress) {
        StepLoop.checkSeeds(condition, seeds);
        if (eta != 0f) {
            throw new IllegalArgumentException("eta must be 0 for the " + SamplerKind.DPMPP_2M.configName()
                    + " sampler (it is deterministic; eta applies to ddim only), got " + eta);
        }
        GuidedDenoiser guided = new GuidedDenoiser(model, guidance);
        int[] ts = timesteps(steps);
        NDManager scope = condition.getManager();
        NDArray start = new NoiseStreams(seeds).next(scope, sampleShape);
        // D of the previous step, kept in the caller's manager across one step manager
        NDArray[] previous = new NDArray[1];
        NDArray result = StepLoop.run(condition, start, ts.length, (i, x, cond) -> {
            int s = ts[i];
            NDArray data = dataPrediction(x, guided.predict(x, cond, s), s);
            if (i == ts.length - 1) {
                return clamp.result(data);
            }
            int t = ts[i + 1];
            NDArray next = update(x, data, i > 0 ? previous[0] : null, i > 0 ? ts[i - 1] : -1, s, t);
            if (previous[0] != null) {
                previous[0].close();
            }
            data.attach(scope);
            previous[0] = data;
            return next;
        }, progress);
        if (previous[0] != null) {
            previous[0].close();
        }
        return result;
    }

    /** x̂₀ from the guided network output at timestep s, clamped where {@link SampleClamp} says. */
    NDArray dataPrediction(NDArray x, NDArray output, int s) {
        double alphaBar = scheduler.alphaBar(s);
        return clamp.apply(prediction.predictedSample(x, output, alphaBar), alphaBar);
    }

    /**
     * One step from timestep s to t (≥ 0) given D at s and, when {@code previousData} is not null, D at the
     * timestep before s.
     */
    NDArray update(NDArray x, NDArray data, NDArray previousData, int previousTimestep, int s, int t) {
        double lambdaS = lambda(s);
        double lambdaT = lambda(t);
        double h = lambdaT - lambdaS;
        double sigmaRatio = Math.sqrt((1.0 - scheduler.alphaBar(t)) / (1.0 - scheduler.alphaBar(s)));
        // α_t·(1 − e^{−h}) with expm1: h is small for many steps
        double dataScale = Math.sqrt(scheduler.alphaBar(t)) * -Math.expm1(-h);
        NDArray direction = data;
        if (previousData != null) {
            double previousH = lambdaS - lambda(previousTimestep);
            if (Double.isFinite(previousH)) {
                double halfInverseR = 0.5 * h / previousH;
                // (1 + 1/(2r))·D_i − 1/(2r)·D_{i−1}, started from D_i so it allocates in the step's manager
                direction = data.add(data.sub(previousData).mul((float) halfInverseR));
            }
        }
        return x.mul((float) sigmaRatio).add(direction.mul((float) dataScale));
    }

    /** λ_t = log(α_t/σ_t) = ½·(log ᾱ_t − log(1 − ᾱ_t)); −∞ where ᾱ_t = 0. */
    double lambda(int t) {
        double alphaBar = scheduler.alphaBar(t);
        return 0.5 * (Math.log(alphaBar) - Math.log1p(-alphaBar));
    }
}
