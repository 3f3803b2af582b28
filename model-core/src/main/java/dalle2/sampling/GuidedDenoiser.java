package dalle2.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * A network evaluation with classifier-free guidance (Ho and Salimans 2022): the guided output
 * ε̃ = ε_∅ + w·(ε_c − ε_∅), applied to the raw network output (ε, x₀ or v) before a sampler converts it.
 * At w = 1 only the conditional pass runs.
 */
public final class GuidedDenoiser {

    private final Denoiser model;
    private final float guidance;

    public GuidedDenoiser(Denoiser model, float guidance) {
        if (!(guidance >= 0f) || Float.isInfinite(guidance)) {
            throw new IllegalArgumentException("guidance must be >= 0, got " + guidance);
        }
        this.model = model;
        this.guidance = guidance;
    }

    /** The guided output at timestep t for x (B, …) and the condition (B, D), in the manager of x. */
    public NDArray predict(NDArray x, NDArray condition, int t) {
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
        return unconditional.add(conditional.sub(unconditional).mul(guidance));
    }
}
