package dalle2.djl;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;

/**
 * Arithmetic with a constant that is safe inside a graph that will be differentiated. Use these instead of
 * DJL's {@code mul(Number)}, {@code div(Number)}, {@code pow(Number)}, {@code maximum(Number)},
 * {@code minimum(Number)} and {@code Activation.swish} wherever the other operand may require a gradient.
 *
 * <p>Why: DJL 0.36's PyTorch engine implements every {@code op(Number n)} as
 * {@code try (NDArray number = manager.create(n)) { return op(number); }} ({@code PtNDArray.mul(Number)} and
 * its siblings). {@code manager.create(n)} is {@code torch::from_blob} over a 4-byte Java direct buffer that only
 * the Java array keeps alive ({@code PtNDArray.dataRef}); the try block closes that array as soon as the op
 * returns. Autograd has saved the scalar for the backward pass (∂(x·c)/∂x = c, likewise for div, pow,
 * maximum, minimum), but libtorch does not own its memory: a garbage collection between the forward and the
 * backward pass frees the buffer, and backward reads whatever malloc put there since. That made rare steps
 * with a finite loss and a NaN gradient norm (and silently wrong gradients when the reused bytes happened to
 * be finite); {@code BackwardAfterGarbageCollectionTest} reproduces it. {@code add(Number)} and
 * {@code sub(Number)} are safe: their backward saves no tensor.
 *
 * <p>Here the constant is a 0-dimensional array made by libtorch ({@code full}), so the saved tensor owns its
 * memory, and it lives in the manager of {@code x} (the step's, for activations). The result is bit-identical
 * to DJL's overloads, which also multiply by a 0-dimensional float32 array.
 */
public final class Differentiable {

    private Differentiable() {
    }

    /** c as a 0-dimensional array of x's type in x's manager, in memory libtorch owns. */
    public static NDArray constant(NDArray x, float c) {
        return x.getManager().full(new Shape(), c, x.getDataType());
    }

    /** x · c. */
    public static NDArray mul(NDArray x, float c) {
        return x.mul(constant(x, c));
    }

    /** x / c. */
    public static NDArray div(NDArray x, float c) {
        return x.div(constant(x, c));
    }

    /** max(x, c) elementwise. */
    public static NDArray maximum(NDArray x, float c) {
        return x.maximum(constant(x, c));
    }

    /** min(x, c) elementwise. */
    public static NDArray minimum(NDArray x, float c) {
        return x.minimum(constant(x, c));
    }

    /**
     * SiLU x·σ(x) (Hendrycks and Gimpel 2016; "swish" with β = 1), computed as DJL's {@code swish(x, 1)} does,
     * σ(x·1)·x, without its unsafe {@code mul(Number)}: the same values and gradients bit for bit.
     */
    public static NDArray silu(NDArray x) {
        return Activation.sigmoid(x).mul(x);
    }
}
