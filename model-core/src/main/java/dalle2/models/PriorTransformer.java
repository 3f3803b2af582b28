package dalle2.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Parameter;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.NormalInitializer;
import ai.djl.util.PairList;
import dalle2.djl.DjlRuntime;
import dalle2.script.CompiledOnFirstUse;
import dalle2.script.ScriptWriter;
import java.util.ArrayList;
import java.util.List;

/**
 * The diffusion prior's network (Ramesh et al. 2022, section 2.1): a decoder-only, causal, pre-LayerNorm
 * transformer over four tokens
 * <pre>
 *   0 CLIP text embedding   Linear(D, W)       (or the learned "no text" embedding where keep = 0)
 *   1 timestep embedding    TimestepEmbedder(W)
 *   2 noised image embedding Linear(D, W)
 *   3 learned query         (W)
 * </pre>
 * plus learned positions (4, W). The query's final output, Linear(W, D), is the prediction (x₀ or ε).
 *
 * <p>Inputs: noisy x_t (B, D), timesteps int64 (B), text embedding (B, D), keep float (B; 1 = use the text,
 * 0 = use the null embedding). Output: (B, D). All inputs are in diffusion space (already scaled, see
 * {@link Prior}).
 *
 * <p>Parameters are only ever the second operand of an op, so every intermediate lands in the inputs'
 * manager and is freed with it (CONTRIBUTING.md: an op whose first operand is a parameter leaks into the model's
 * manager).
 */
public final class PriorTransformer extends AbstractBlock {

    /** Tokens: text, timestep, noised image embedding, query. */
    static final int TOKENS = 4;
    static final int QUERY = 3;
    private static final byte VERSION = 1;

    private final PriorConfig config;
    private final Linear textProjection;
    private final TimestepEmbedder timeEmbedding;
    private final Linear imageProjection;
    private final List<TransformerBlock> blocks = new ArrayList<>();
    private final LayerNorm finalNorm;
    private final Linear outProjection;
    private final Parameter nullText;
    private final Parameter query;
    private final Parameter positions;
    /** {@link #torchScript()} compiled, at the first inference call that may use it. */
    private final CompiledOnFirstUse scripted = new CompiledOnFirstUse(this, "PriorTransformer", this::torchScript);

    public PriorTransformer(PriorConfig config) {
        super(VERSION);
        this.config = config;
        int d = config.embeddingDim();
        int w = config.width();
        textProjection = addChildBlock("text_projection", Linear.builder().setUnits(w).build());
        timeEmbedding = addChildBlock("time_embedding", new TimestepEmbedder(w));
        imageProjection = addChildBlock("image_projection", Linear.builder().setUnits(w).build());
        for (int i = 0; i < config.depth(); i++) {
            blocks.add(addChildBlock("block" + i, new TransformerBlock(w, config.heads(), config.mlpRatio())));
        }
        finalNorm = addChildBlock("final_norm", LayerNorm.builder().axis(2).build());
        outProjection = addChildBlock("out_projection", Linear.builder().setUnits(d).build());
        // the null text lives where scaled CLIP embeddings live: unit variance per dimension
        nullText = addParameter(Parameter.builder().setName("null_text").setType(Parameter.Type.WEIGHT)
                .optShape(new Shape(d)).optInitializer(new NormalInitializer(1f)).build());
        query = addParameter(Parameter.builder().setName("query").setType(Parameter.Type.WEIGHT)
                .optShape(new Shape(w)).optInitializer(new NormalInitializer(0.02f)).build());
        positions = addParameter(Parameter.builder().setName("positions").setType(Parameter.Type.WEIGHT)
                .optShape(new Shape(TOKENS, w)).optInitializer(new NormalInitializer(0.02f)).build());
    }

    public PriorConfig config() {
        return config;
    }

    /** The learned "no text" embedding (D), in diffusion space. */
    NDArray nullTextEmbedding() {
        return nullText.getArray();
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
                                     PairList<String, Object> params) {
        if (!training && DjlRuntime.scriptedForwardNow()) {
            return new NDList(scripted.get().forward(inputs.get(0), inputs.get(1), inputs.get(2), inputs.get(3)));
        }
        NDArray tokens = tokens(ps, inputs, training);                                  // (B, 4, W)
        NDArray queryOut = tokens.get(":, " + QUERY + ", :");                           // (B, W)
        return outProjection.forward(ps, new NDList(queryOut), training);              // (B, D)
    }

    /**
     * This network's inference forward pass as a TorchScript method for {@link dalle2.script.ScriptedForward}:
     * the ops of {@link #forwardInternal} in the same order; {@code forward(noisy, t, text, keep, w)}.
     */
    public String torchScript() {
        ScriptWriter code = new ScriptWriter(this);
        code.line("keep_column = torch.reshape(keep.float(), [-1, 1])");
        code.line("condition = text * keep_column + (1.0 - keep_column) * " + code.weight(nullText));
        String textToken = code.let("torch.linear(condition, " + code.weightAndBias(textProjection) + ")");
        String timeToken = timeEmbedding.script(code, "t");
        String imageToken = code.let("torch.linear(noisy, " + code.weightAndBias(imageProjection) + ")");
        String queryToken = code.let("torch.zeros_like(" + imageToken + ") + " + code.weight(query));
        String x = code.let("torch.stack([" + textToken + ", " + timeToken + ", " + imageToken + ", " + queryToken
                + "], 1) + " + code.weight(positions));                                          // (B, 4, W)
        String mask = code.let(TransformerBlock.causalMaskScript(TOKENS));                     // (1, 1, 4, 4)
        for (TransformerBlock block : blocks) {
            x = block.script(code, x, mask);
        }
        x = code.let(TransformerBlock.layerNorm(code, finalNorm, x));
        code.line("return torch.linear(" + x + "[:, " + QUERY + "], " + code.weightAndBias(outProjection) + ")");
        return code.forwardMethod("noisy: Tensor, t: Tensor, text: Tensor, keep: Tensor");
    }

    /** Every token's output after the final LayerNorm, (B, 4, W); package-private for the causality test. */
    NDArray tokens(ParameterStore ps, NDList inputs, boolean training) {
        NDArray noisy = inputs.get(0);                                                  // (B, D)
        NDArray timesteps = inputs.get(1);                                              // (B)
        NDArray text = inputs.get(2);                                                   // (B, D)
        NDArray keep = inputs.get(3).toType(DataType.FLOAT32, false).reshape(-1, 1);   // (B, 1)
        NDManager manager = noisy.getManager();

        // classifier-free guidance: cond = keep·text + (1 − keep)·null
        NDArray nullArray = ps.getValue(nullText, noisy.getDevice(), training);         // (D)
        NDArray condition = text.mul(keep).add(keep.neg().add(1f).mul(nullArray));      // (B, D)

        NDArray textToken = textProjection.forward(ps, new NDList(condition), training).singletonOrThrow(); // (B, W)
        NDArray timeToken = timeEmbedding.embed(ps, timesteps, training);               // (B, W)
        NDArray imageToken = imageProjection.forward(ps, new NDList(noisy), training).singletonOrThrow();   // (B, W)
        NDArray queryToken = imageToken.zerosLike()
                .add(ps.getValue(query, noisy.getDevice(), training));                  // (B, W)
        NDArray x = NDArrays.stack(new NDList(textToken, timeToken, imageToken, queryToken), 1)
                .add(ps.getValue(positions, noisy.getDevice(), training));              // (B, 4, W)

        NDArray mask = TransformerBlock.causalMask(manager, TOKENS);                     // (1, 1, 4, 4)
        for (TransformerBlock block : blocks) {
            x = block.forward(ps, new NDList(x, mask), training).singletonOrThrow();    // (B, 4, W)
        }
        return finalNorm.forward(ps, new NDList(x), training).singletonOrThrow();       // (B, 4, W)
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {new Shape(inputShapes[0].get(0), config.embeddingDim())};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        long batch = inputShapes[0].get(0);
        Shape embedding = new Shape(batch, config.embeddingDim());
        Shape sequence = new Shape(batch, TOKENS, config.width());
        textProjection.initialize(manager, dataType, embedding);
        timeEmbedding.initialize(manager, dataType, new Shape(batch));
        imageProjection.initialize(manager, dataType, embedding);
        for (TransformerBlock block : blocks) {
            block.initialize(manager, dataType, sequence, new Shape(1, 1, TOKENS, TOKENS));
        }
        finalNorm.initialize(manager, dataType, sequence);
        outProjection.initialize(manager, dataType, new Shape(batch, config.width()));
    }

    /** Initializes every parameter for this config's shapes. */
    public void initialize(NDManager manager) {
        Shape embedding = new Shape(1, config.embeddingDim());
        initialize(manager, DataType.FLOAT32, embedding, new Shape(1), embedding, new Shape(1));
    }
}
