package dalle2.sampling;

import dalle2.messages.SamplerKind;

/** Makes the sampler a request's {@link SamplerKind} names, for one model's schedule and prediction. */
public final class Samplers {

    private Samplers() {
    }

    /** The sampler of this kind for a model, clamping x̂₀ to ±clipSample at every step (0: never). */
    public static Sampler create(SamplerKind kind, NoiseScheduler scheduler, PredictionType prediction,
                                 float clipSample) {
        return create(kind, scheduler, prediction, SampleClamp.everyStep(clipSample));
    }

    /** The sampler of this kind for a model. */
    public static Sampler create(SamplerKind kind, NoiseScheduler scheduler, PredictionType prediction,
                                 SampleClamp clamp) {
        return kind == SamplerKind.DDIM ? new DdimSampler(scheduler, prediction, clamp)
                : new DpmSolverPlusPlus2MSampler(scheduler, prediction, clamp);
    }
}
