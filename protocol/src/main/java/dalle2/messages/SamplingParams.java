package dalle2.messages;

/**
 * The sampler settings one model call shares across its batch: the sampler, its steps, η (DDIM only) and the
 * classifier-free guidance scale. Workers batch only tasks whose settings are equal, so a model never has to
 * mix them.
 */
public record SamplingParams(int steps, float eta, float guidance, SamplerKind sampler) {
    public SamplingParams {
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be >= 1, got " + steps);
        }
        if (!(eta >= 0 && eta <= 1)) {
            throw new IllegalArgumentException("eta must be in [0, 1], got " + eta);
        }
        if (!(guidance >= 0)) {
            throw new IllegalArgumentException("guidance must be >= 0, got " + guidance);
        }
        if (sampler == null) {
            throw new IllegalArgumentException("a sampler is required");
        }
        if (eta > 0 && !sampler.acceptsEta()) {
            throw new IllegalArgumentException("eta must be 0 with the " + sampler.configName()
                    + " sampler (it is deterministic), got " + eta);
        }
    }

    /** DDIM settings. */
    public SamplingParams(int steps, float eta, float guidance) {
        this(steps, eta, guidance, SamplerKind.DDIM);
    }
}
