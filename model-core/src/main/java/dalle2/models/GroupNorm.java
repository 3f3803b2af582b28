package dalle2.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;

/**
 * Group normalisation (Wu and He 2018): the channels of each sample are split into G groups, each group is
 * normalised to zero mean and unit variance over its channels and all positions, then every channel gets
 * its own learned scale γ and shift β. DJL has no such block.
 *
 * <p>Input and output: (B, C, H, W) (any number of trailing axes works).
 */
public final class GroupNorm extends AbstractBlock {

    /** The ε added to the variance, as in PyTorch's {@code nn.GroupNorm}. */
    public static final float EPSILON = 1e-5f;
    /** The group count ADM and most diffusion U-Nets use. */
    public static final int DEFAULT_GROUPS = 32;
    /** Fewest channels {@link #groupsFor} puts in one group. */
    public static final int MIN_CHANNELS_PER_GROUP = 4;
    private static final byte VERSION = 1;

    private final int groups;
    private final int channels;
    private final Parameter gamma;
    private final Parameter beta;
    private final java.util.Map<Long, NDArray[]> identityAffines = new java.util.concurrent.ConcurrentHashMap<>();

    public GroupNorm(int groups, int channels) {
        super(VERSION);
        if (groups < 1 || channels < 1 || channels % groups != 0) {
            throw new IllegalArgumentException("GroupNorm needs channels divisible by groups, got "
                    + channels + " channels in " + groups + " groups");
        }
        this.groups = groups;
        this.channels = channels;
        this.gamma = addParameter(Parameter.builder().setName("gamma").setType(Parameter.Type.GAMMA)
                .optShape(new Shape(channels)).build());
        this.beta = addParameter(Parameter.builder().setName("beta").setType(Parameter.Type.BETA)
                .optShape(new Shape(channels)).build());
    }

    /**
     * A group norm for {@code channels} with {@link #groupsFor} groups.
     */
    public static GroupNorm forChannels(int channels) {
        return new GroupNorm(groupsFor(channels), channels);
    }

    /**
     * The most groups, up to {@link #DEFAULT_GROUPS}, that divide the channels and keep at least
     * {@link #MIN_CHANNELS_PER_GROUP} channels in each: 32 for 128 channels and more (ADM), 16 for 64, 4 for 16.
     * A group of one channel would normalise away the per-channel timestep and CLIP embedding a residual block
     * adds just before its second norm, leaving a narrow network blind to its conditioning.
     */
    public static int groupsFor(int channels) {
        for (int groups = Math.min(DEFAULT_GROUPS, channels / MIN_CHANNELS_PER_GROUP); groups > 1; groups--) {
            if (channels % groups == 0) {
                return groups;
            }
        }
        return 1;
    }

    public int groups() {
        return groups;
    }

    public int channels() {
        return channels;
    }

    @Override
    protected NDList forwardInternal(ParameterStore parameterStore, NDList inputs, boolean training,
                                     PairList<String, Object> params) {
        NDArray x = inputs.singletonOrThrow();                                        // (B, C, H, W)
        Shape shape = x.getShape();
        if (shape.get(1) != channels) {
            throw new IllegalArgumentException("GroupNorm over " + channels + " channels got input " + shape);
        }
        long[] affineShape = new long[shape.dimension()];
        java.util.Arrays.fill(affineShape, 1);
        affineShape[1] = channels;

        NDArray grouped = x.reshape(shape.get(0), groups, -1);                        // (B, G, C/G·H·W)
        NDArray normalised = standardiseLastAxis(grouped, identityAffine(grouped)).reshape(shape); // (B, C, H, W)

        NDArray scale = inScopeOf(x, parameterStore.getValue(gamma, x.getDevice(), training)
                .reshape(new Shape(affineShape)));                                   // (1, C, 1, 1)
        NDArray shift = inScopeOf(x, parameterStore.getValue(beta, x.getDevice(), training)
                .reshape(new Shape(affineShape)));                                   // (1, C, 1, 1)
        return new NDList(normalised.mul(scale).add(shift));                         // (B, C, H, W)
    }

    /**
     * Zero mean and unit (biased) variance along the last axis, ε inside the root. libtorch's layer norm does it in
     * one kernel forward and one backward, where the same formula written with DJL ops took eight of each over the
     * whole activation; its own affine is the identity here (constant ones and zeros that libtorch owns, so
     * autograd never holds a Java-freed buffer: see {@code CONTRIBUTING.md}).
     */
    private static NDArray standardiseLastAxis(NDArray x, NDArray[] identity) {
        Shape shape = x.getShape();
        Shape last = new Shape(shape.get(shape.dimension() - 1));
        return x.getNDArrayInternal().layerNorm(x, last, identity[0], identity[1], EPSILON).singletonOrThrow();
    }

    /**
     * The ones and zeros of the identity affine for this input's group length, made once per length in the
     * parameters' manager: two fewer allocations and native calls per norm, and a U-Net has dozens of norms.
     * They are constants, never parameters, so {@link dalle2.training.Ema#swap} and weight loading, which give
     * parameters new storage, cannot leave them stale.
     */
    private NDArray[] identityAffine(NDArray grouped) {
        long length = grouped.getShape().get(2);
        return identityAffines.computeIfAbsent(length, n -> {
            NDManager owner = gamma.getArray().getManager();
            Shape last = new Shape(n);
            return new NDArray[] {owner.ones(last, grouped.getDataType()), owner.zeros(last, grouped.getDataType())};
        });
    }

    /**
     * Moves an array derived from a parameter into the manager of the activation it is used with. An op whose
     * first operand is a parameter ({@code gamma.reshape(..)}) allocates in the model's manager, which lives as
     * long as the model: without this every forward pass would leak one array per call (CONTRIBUTING.md).
     */
    static NDArray inScopeOf(NDArray activation, NDArray derivedFromParameter) {
        derivedFromParameter.attach(activation.getManager());
        return derivedFromParameter;
    }

    /** This norm of {@code x} as a TorchScript expression: libtorch's group norm, one kernel. */
    public String script(dalle2.script.ScriptWriter code, String x) {
        return "torch.group_norm(" + x + ", " + groups + ", " + code.weight(gamma) + ", " + code.weight(beta) + ", "
                + dalle2.script.ScriptWriter.literal(EPSILON) + ", False)";
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        // no children; γ = 1 and β = 0 come from the parameter types
    }
}
