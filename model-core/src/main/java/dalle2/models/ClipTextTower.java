package dalle2.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.NormalInitializer;
import ai.djl.util.PairList;
import dalle2.djl.Differentiable;
import dalle2.djl.DjlRuntime;
import dalle2.script.CompiledOnFirstUse;
import dalle2.script.ScriptWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * CLIP's text encoder (Radford et al. 2021, section 2.4): token embedding plus a learned position embedding,
 * pre-LN transformer blocks with a causal mask (as CLIP, so the [EOS] position summarises the caption and
 * padding after it is never seen), a final LayerNorm, the features at each caption's [EOS] position, a
 * bias-free linear projection into the joint space, L2-normalised.
 *
 * <p>Inputs: token ids (B, T) int64 and the [EOS] positions (B) int64. Output: (B, D) unit rows.
 */
public final class ClipTextTower extends AbstractBlock {

    private static final byte VERSION = 1;

    private final int contextLength;
    private final int width;
    private final int dim;
    private final Parameter tokenEmbedding;
    private final Parameter positionEmbedding;
    private final List<TransformerBlock> blocks = new ArrayList<>();
    private final LayerNorm finalNorm;
    private final Linear projection;
    /** {@link #torchScript()} compiled, at the first inference call that may use it. */
    private final CompiledOnFirstUse scripted = new CompiledOnFirstUse(this, "ClipTextTower", this::torchScript);

    public ClipTextTower(ClipConfig config) {
        super(VERSION);
        contextLength = config.contextLength();
        width = config.textWidth();
        dim = config.embeddingDim();
        // CLIP initialises token embeddings with std 0.02 and position embeddings with std 0.01
        tokenEmbedding = addParameter(Parameter.builder().setName("token_embedding")
                .setType(Parameter.Type.WEIGHT).optInitializer(new NormalInitializer(0.02f))
                .optShape(new Shape(config.vocabSize(), width)).build());
        positionEmbedding = addParameter(Parameter.builder().setName("position_embedding")
                .setType(Parameter.Type.WEIGHT).optInitializer(new NormalInitializer(0.01f))
                .optShape(new Shape(1, contextLength, width)).build());
        for (int i = 0; i < config.textDepth(); i++) {
            blocks.add(addChildBlock("block" + i,
                    new TransformerBlock(width, config.textHeads(), ClipConfig.TEXT_MLP_RATIO)));
        }
        finalNorm = addChildBlock("ln_final", LayerNorm.builder().axis(2).build());
        projection = addChildBlock("projection",
                Linear.builder().setUnits(config.embeddingDim()).optBias(false).build());
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
                                     PairList<String, Object> params) {
        if (!training && DjlRuntime.scriptedForwardNow()) {
            return new NDList(scripted.get().forward(inputs.get(0), inputs.get(1)));
        }
        NDArray ids = inputs.get(0);                                                       // (B, T)
        NDArray eos = inputs.get(1);                                                       // (B)
        long batch = ids.getShape().get(0);
        NDArray tokens = ps.getValue(tokenEmbedding, ids.getDevice(), training);
        NDArray positions = ps.getValue(positionEmbedding, ids.getDevice(), training);
        // the op runs in the first operand's manager: start from the ids, never from a parameter
        NDArray x = Embedding.embedding(ids, tokens, SparseFormat.DENSE).singletonOrThrow();            // (B, T, E)
        x = x.add(positions);                                                              // (B, T, E)
        NDArray mask = TransformerBlock.causalMask(x.getManager(), contextLength);         // (1, 1, T, T)
        for (TransformerBlock block : blocks) {
            x = block.forward(ps, new NDList(x, mask), training).singletonOrThrow();       // (B, T, E)
        }
        x = finalNorm.forward(ps, new NDList(x), training).singletonOrThrow();             // (B, T, E)
        NDArray index = eos.toType(DataType.INT64, false).reshape(batch, 1, 1)
                .repeat(2, width);                                                         // (B, 1, E)
        NDArray pooled = x.gather(index, 1).reshape(batch, width);                         // (B, E)
        NDArray projected = projection.forward(ps, new NDList(pooled), training).singletonOrThrow(); // (B, D)
        return new NDList(l2Normalize(projected));
    }

    /**
     * This tower's inference forward pass as a TorchScript method for {@link dalle2.script.ScriptedForward}: the ops of
     * {@link #forwardInternal} in the same order; {@code forward(ids, eos, w)}.
     */
    public String torchScript() {
        ScriptWriter code = new ScriptWriter(this);
        String x = code.let("torch.embedding(" + code.weight(tokenEmbedding) + ", ids) + "
                + code.weight(positionEmbedding));                                               // (B, T, E)
        String mask = code.let(TransformerBlock.causalMaskScript(contextLength));              // (1, 1, T, T)
        for (TransformerBlock block : blocks) {
            x = block.script(code, x, mask);
        }
        x = code.let(TransformerBlock.layerNorm(code, finalNorm, x));
        String pooled = code.let(x + "[torch.arange(" + x + ".size(0)), eos.long()]");              // (B, E)
        String projected = code.let("torch.linear(" + pooled + ", "
                + code.weight(projection.getParameters().get("weight")) + ")");                    // (B, D)
        code.line("return " + projected + " / torch.clamp_min(torch.sqrt(torch.sum(" + projected + " * " + projected
                + ", [-1], True)), " + ScriptWriter.literal(1e-12f) + ")");
        return code.forwardMethod("ids: Tensor, eos: Tensor");
    }

    /** Rows scaled to unit length (a zero row stays zero). */
    static NDArray l2Normalize(NDArray x) {
        return x.div(Differentiable.maximum(x.square().sum(new int[] {-1}, true).sqrt(), 1e-12f));
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {new Shape(inputShapes[0].get(0), dim)};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        long batch = inputShapes[0].get(0);
        Shape sequence = new Shape(batch, contextLength, width);
        for (TransformerBlock block : blocks) {
            block.initialize(manager, dataType, sequence, new Shape(1, 1, contextLength, contextLength));
        }
        finalNorm.initialize(manager, dataType, sequence);
        projection.initialize(manager, dataType, new Shape(batch, width));
    }
}
