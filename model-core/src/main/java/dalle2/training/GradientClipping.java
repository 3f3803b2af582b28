package dalle2.training;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import ai.djl.util.PairList;

/** Gradient clipping by the global L2 norm over all parameters (Pascanu et al. 2013), as torch's clip_grad_norm_. */
public final class GradientClipping {

    private GradientClipping() {
    }

    /**
     * Scales every gradient of {@code block} by min(1, maxNorm / (‖g‖ + 1e-6)), ‖g‖ the L2 norm of all
     * gradients together. Call it after {@code backward} and before the optimizer step.
     *
     * @return ‖g‖ before clipping (for logging; NaN or infinite when the gradients are)
     */
    public static float clipGlobalNorm(Block block, float maxNorm) {
        return clipGlobalNorm(block.getParameters(), maxNorm);
    }

    /** As {@link #clipGlobalNorm(Block, float)}, for a list of parameters. */
    public static float clipGlobalNorm(PairList<String, Parameter> parameters, float maxNorm) {
        if (!(maxNorm > 0)) {
            throw new IllegalArgumentException("maxNorm must be positive, got " + maxNorm);
        }
        NDManager owner = AdamW.firstArray(parameters).getManager();
        try (NDManager step = owner.newSubManager()) {
            double sumOfSquares = 0;
            java.util.List<NDArray> gradients = new java.util.ArrayList<>();
            for (Pair<String, Parameter> entry : parameters) {
                Parameter parameter = entry.getValue();
                if (!parameter.requiresGradient()) {
                    continue;
                }
                NDArray gradient = AdamW.gradientOf(parameter.getArray(), step);
                if (gradient == null) {
                    continue;
                }
                NDArray squares = gradient.square().sum();
                sumOfSquares += squares.getFloat();
                gradients.add(gradient);
            }
            double norm = Math.sqrt(sumOfSquares);
            double coefficient = maxNorm / (norm + 1e-6);
            if (coefficient < 1.0) {
                for (NDArray gradient : gradients) {
                    gradient.muli((float) coefficient);
                }
            }
            return (float) norm;
        }
    }
}
