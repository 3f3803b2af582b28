package dalle2.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.core.Linear;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dalle2.djl.Differentiable;

/**
 * Embeds diffusion timesteps: fixed sinusoidal features of width 128 (Vaswani et al. 2017, section 3.5,
 * as used by DDPM), then Linear(128, D) · SiLU · Linear(D, D).
 *
 * <p>Input: int64 or float timesteps, shape (B). Output: shape (B, D).
 */
public final class TimestepEmbedder extends AbstractBlock {

    /** Width of the fixed sinusoidal features. */
    public static final int FREQUENCY_DIM = 128;
    /** The longest period of the sinusoids, as in the Transformer and DDPM. */
    static final double MAX_PERIOD = 10_000.0;
    private static final byte VERSION = 1;

    private final int dim;
    private final Linear in;
    private final Linear out;

    public TimestepEmbedder(int dim) {
        super(VERSION);
        if (dim < 1) {
            throw new IllegalArgumentException("timestep embedding dim must be >= 1, got " + dim);
        }
        this.dim = dim;
        this.in = addChildBlock("in", Linear.builder().setUnits(dim).build());
        this.out = addChildBlock("out", Linear.builder().setUnits(dim).build());
    }

    public int dim() {
        return dim;
    }

    /** The fixed features [cos(t·f_i), sin(t·f_i)], f_i = 10000^(−i/64), shape (B, 128). */
    public static NDArray sinusoidal(NDArray timesteps) {
        NDManager manager = timesteps.getManager();
        int half = FREQUENCY_DIM / 2;
        NDArray frequencies = manager.arange(0, half, 1, DataType.FLOAT32)
                .mul((float) (-Math.log(MAX_PERIOD) / half)).exp();                 // (64)
        NDArray angles = timesteps.toType(DataType.FLOAT32, false).reshape(-1, 1)
                .mul(frequencies.reshape(1, half));                                   // (B, 64)
        return angles.cos().concat(angles.sin(), 1);                                  // (B, 128)
    }

    @Override
    protected NDList forwardInternal(ParameterStore parameterStore, NDList inputs, boolean training,
                                     PairList<String, Object> params) {
        NDArray features = sinusoidal(inputs.singletonOrThrow());                    // (B, 128)
        NDArray hidden = in.forward(parameterStore, new NDList(features), training).singletonOrThrow();
        hidden = Differentiable.silu(hidden);                                         // (B, D)
        return out.forward(parameterStore, new NDList(hidden), training);            // (B, D)
    }

    /** Convenience for callers inside other blocks: timesteps (B) to embeddings (B, D). */
    public NDArray embed(ParameterStore parameterStore, NDArray timesteps, boolean training) {
        return forward(parameterStore, new NDList(timesteps), training).singletonOrThrow();
    }

    /**
     * {@link #forwardInternal} on the timesteps {@code t} as TorchScript statements; returns the name of the
     * embedding (B, D).
     */
    public String script(dalle2.script.ScriptWriter code, String t) {
        int half = FREQUENCY_DIM / 2;
        String frequencies = code.let("torch.exp(torch.arange(" + half + ").float() * "
                + dalle2.script.ScriptWriter.literal((float) (-Math.log(MAX_PERIOD) / half)) + ")");
        String angles = code.let("torch.reshape(" + t + ".float(), [-1, 1]) * torch.reshape(" + frequencies
                + ", [1, " + half + "])");
        String features = "torch.cat([torch.cos(" + angles + "), torch.sin(" + angles + ")], 1)";
        String hidden = code.let("torch.silu(torch.linear(" + features + ", " + code.weightAndBias(in) + "))");
        return code.let("torch.linear(" + hidden + ", " + code.weightAndBias(out) + ")");
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {new Shape(inputShapes[0].get(0), dim)};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        long batch = inputShapes[0].get(0);
        in.initialize(manager, dataType, new Shape(batch, FREQUENCY_DIM));
        out.initialize(manager, dataType, new Shape(batch, dim));
    }
}
