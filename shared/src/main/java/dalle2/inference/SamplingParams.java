package dalle2.inference;

/**
 * The sampler settings one model call shares across its batch: DDIM steps, η and the classifier-free guidance
 * scale. Workers batch only tasks whose settings are equal, so a model never has to mix them.
 */
public record SamplingParams(int steps, float eta, float guidance) {
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
    }
}
