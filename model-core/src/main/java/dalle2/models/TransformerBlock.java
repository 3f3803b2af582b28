package dalle2.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.training.ParameterStore;
import ai.djl.util.PairList;
import dalle2.djl.Differentiable;
import dalle2.script.ScriptWriter;

/**
 * A pre-LayerNorm transformer block (GPT-2 style): x + Attn(LN(x)), then x + MLP(LN(x)).
 *
 * <p>Written out instead of DJL's {@code TransformerEncoderBlock}, which uses BatchNorm and a post-norm
 * residual (CONTRIBUTING.md). Attention is multi-head scaled dot-product; an optional additive mask of shape
 * (1, 1, T, T) (0 = attend, large negative = blocked) makes it causal. Used by the prior and CLIP's text tower.
 *
 * <p>Input: (B, T, E) and optionally the mask; output: (B, T, E).
 */
public final class TransformerBlock extends AbstractBlock {

    /** Added to blocked attention scores; large enough that softmax gives them zero weight in float32. */
    public static final float MASKED = -1e5f;
    private static final byte VERSION = 1;

    private final int width;
    private final int heads;
    private final LayerNorm attentionNorm;
    private final Linear queryKeyValue;
    private final Linear attentionOut;
    private final LayerNorm mlpNorm;
    private final Linear mlpIn;
    private final Linear mlpOut;

    public TransformerBlock(int width, int heads, int mlpRatio) {
        super(VERSION);
        if (width % heads != 0) {
            throw new IllegalArgumentException("width " + width + " is not divisible by heads " + heads);
        }
        this.width = width;
        this.heads = heads;
        attentionNorm = addChildBlock("ln_attention", LayerNorm.builder().axis(2).build());
        queryKeyValue = addChildBlock("qkv", Linear.builder().setUnits(3L * width).build());
        attentionOut = addChildBlock("attention_out", Linear.builder().setUnits(width).build());
        mlpNorm = addChildBlock("ln_mlp", LayerNorm.builder().axis(2).build());
        mlpIn = addChildBlock("mlp_in", Linear.builder().setUnits((long) mlpRatio * width).build());
        mlpOut = addChildBlock("mlp_out", Linear.builder().setUnits(width).build());
    }

    /** An additive causal mask (1, 1, T, T): position i attends to positions ≤ i. */
    public static NDArray causalMask(NDManager manager, int tokens) {
        float[] values = new float[tokens * tokens];
        for (int i = 0; i < tokens; i++) {
            for (int j = i + 1; j < tokens; j++) {
                values[i * tokens + j] = MASKED;
            }
        }
        return manager.create(values, new Shape(1, 1, tokens, tokens));
    }

    /** {@link #causalMask} as a TorchScript expression, (1, 1, T, T). */
    public static String causalMaskScript(int tokens) {
        return "torch.reshape(torch.triu(torch.full([" + tokens + ", " + tokens + "], "
                + ScriptWriter.literal(MASKED) + "), 1), [1, 1, " + tokens + ", " + tokens + "])";
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
                                     PairList<String, Object> params) {
        NDArray x = inputs.get(0);                                                    // (B, T, E)
        NDArray mask = inputs.size() > 1 ? inputs.get(1) : null;                      // (1|B, 1, T, T)
        NDArray normed = attentionNorm.forward(ps, new NDList(x), training).singletonOrThrow();
        x = x.add(attention(ps, normed, mask, training));
        normed = mlpNorm.forward(ps, new NDList(x), training).singletonOrThrow();
        NDArray hidden = Activation.gelu(mlpIn.forward(ps, new NDList(normed), training).singletonOrThrow());
        x = x.add(mlpOut.forward(ps, new NDList(hidden), training).singletonOrThrow());
        return new NDList(x);
    }

    private NDArray attention(ParameterStore ps, NDArray x, NDArray mask, boolean training) {
        long batch = x.getShape().get(0);
        long tokens = x.getShape().get(1);
        long headDim = width / heads;
        NDArray qkv = queryKeyValue.forward(ps, new NDList(x), training).singletonOrThrow();   // (B, T, 3E)
        qkv = qkv.reshape(batch, tokens, 3, heads, headDim).transpose(2, 0, 3, 1, 4);         // (3, B, H, T, hd)
        NDArray query = qkv.get(0);                                                          // (B, H, T, hd)
        NDArray key = qkv.get(1);
        NDArray value = qkv.get(2);
        NDArray scores = Differentiable.div(query.matMul(key.transpose(0, 1, 3, 2)), (float) Math.sqrt(headDim)); // (B, H, T, T)
        if (mask != null) {
            scores = scores.add(mask);
        }
        NDArray attended = scores.softmax(-1).matMul(value);                                 // (B, H, T, hd)
        attended = attended.transpose(0, 2, 1, 3).reshape(batch, tokens, width);            // (B, T, E)
        return attentionOut.forward(ps, new NDList(attended), training).singletonOrThrow();
    }

    /**
     * {@link #forwardInternal} on {@code x} (B, T, E) with the additive {@code mask} as TorchScript statements;
     * returns the output's name.
     */
    public String script(ScriptWriter code, String x, String mask) {
        long headDim = width / heads;
        String qkv = code.let("torch.reshape(torch.linear(" + layerNorm(code, attentionNorm, x) + ", "
                + code.weightAndBias(queryKeyValue) + "), [" + x + ".size(0), " + x + ".size(1), 3, " + heads + ", "
                + headDim + "]).permute([2, 0, 3, 1, 4])");                                     // (3, B, H, T, hd)
        String scores = code.let("torch.matmul(" + qkv + "[0], " + qkv + "[1].transpose(2, 3)) / "
                + ScriptWriter.literal((float) Math.sqrt(headDim)) + " + " + mask);            // (B, H, T, T)
        String attended = code.let("torch.reshape(torch.matmul(torch.softmax(" + scores + ", -1), " + qkv
                + "[2]).transpose(1, 2), [" + x + ".size(0), " + x + ".size(1), " + width + "])"); // (B, T, E)
        String h = code.let(x + " + torch.linear(" + attended + ", " + code.weightAndBias(attentionOut) + ")");
        String hidden = code.let("torch.gelu(torch.linear(" + layerNorm(code, mlpNorm, h) + ", "
                + code.weightAndBias(mlpIn) + "))");
        return code.let(h + " + torch.linear(" + hidden + ", " + code.weightAndBias(mlpOut) + ")");
    }

    /** DJL's {@link LayerNorm} over the last axis ({@code axis(2)} here) as a TorchScript expression. */
    static String layerNorm(ScriptWriter code, LayerNorm norm, String x) {
        return "torch.layer_norm(" + x + ", [" + x + ".size(-1)], " + code.weight(norm.getParameters().get("gamma"))
                + ", " + code.weight(norm.getParameters().get("beta")) + ", " + ScriptWriter.literal(LAYER_NORM_EPSILON)
                + ", False)";
    }

    /** DJL's LayerNorm default ε, which every layer norm of the prior and CLIP's text tower uses. */
    static final float LAYER_NORM_EPSILON = 1e-5f;

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape x = inputShapes[0];
        Shape hidden = new Shape(x.get(0), x.get(1), mlpIn.getOutputShapes(new Shape[] {x})[0].get(2));
        attentionNorm.initialize(manager, dataType, x);
        queryKeyValue.initialize(manager, dataType, x);
        attentionOut.initialize(manager, dataType, x);
        mlpNorm.initialize(manager, dataType, x);
        mlpIn.initialize(manager, dataType, x);
        mlpOut.initialize(manager, dataType, hidden);
    }
}
