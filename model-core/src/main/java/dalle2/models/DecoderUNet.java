package dalle2.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.AbstractBlock;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.nn.convolutional.Conv2d;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;
import ai.djl.training.ParameterStore;
import ai.djl.training.initializer.Initializer;
import ai.djl.util.Pair;
import ai.djl.util.PairList;
import dalle2.djl.Differentiable;
import dalle2.djl.DjlRuntime;
import dalle2.script.CompiledOnFirstUse;
import dalle2.script.ScriptWriter;
import java.nio.FloatBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * The decoder's denoising network: the U-Net of "improved DDPM" / ADM (Nichol and Dhariwal 2021, Dhariwal and
 * Nichol 2021) conditioned on a CLIP image embedding as in unCLIP (Ramesh et al. 2022, section 2.1: "projecting
 * and adding CLIP embeddings to the existing timestep embedding").
 *
 * <pre>
 *   emb   = TimestepEmbedder(t) + Linear(keep·z + (1−keep)·z_null)           (B, E)
 *   h     = conv_in(x)                                                       (B, C0, S, S)
 *   down  : per level, blocks_per_level × [ResBlock(emb) (+ attention)], then a stride-2 conv
 *   middle: ResBlock · attention · ResBlock
 *   up    : per level, (blocks_per_level + 1) × [concat skip · ResBlock(emb) (+ attention)], then nearest ×2 + conv
 *   out   = conv_out(SiLU(GroupNorm(h)))                                     (B, C_img, S, S)
 * </pre>
 *
 * <p>Inputs: NDList(x (B, C, S, S) float32, timesteps (B) int64, condition (B, D) float32, keep (B) float32).
 * Output: NDList(prediction (B, C, S, S)).
 *
 * <p>The layers that end a residual branch (second conv of each ResBlock, attention output projection, output
 * conv) start at zero, as in ADM: a fresh network is the identity on every residual path and outputs 0.
 */
public final class DecoderUNet extends AbstractBlock {

    private static final byte VERSION = 1;

    private final DecoderConfig config;
    private final TimestepEmbedder timeEmbed;
    private final Linear conditionProjection;
    private final Parameter nullCondition;
    private final Conv2d inputConv;
    private final List<AbstractBlock> down = new ArrayList<>();   // each: (h, emb) -> h, one skip per entry
    private final List<AbstractBlock> middle = new ArrayList<>();
    private final List<AbstractBlock> up = new ArrayList<>();     // ResStages take a concatenated skip
    private final GroupNorm outputNorm;
    private final Conv2d outputConv;
    /** Layers initialised to zero by {@link #initializeWeights(long)}. */
    private final List<Block> zeroInitialised = new ArrayList<>();
    /** {@link #torchScript()} compiled, at the first inference call that may use it. */
    private final CompiledOnFirstUse scripted = new CompiledOnFirstUse(this, "DecoderUNet", this::torchScript);

    public DecoderUNet(DecoderConfig config) {
        this(config, true);
    }

    /**
     * @param middleAttention whether the middle block has its self-attention layer (the decoder's always has);
     *                        without it, and with no attention resolutions, the network is fully convolutional
     */
    public DecoderUNet(DecoderConfig config, boolean middleAttention) {
        super(VERSION);
        this.config = config;
        int e = config.timeEmbedDim();
        timeEmbed = addChildBlock("time_embed", new TimestepEmbedder(e));
        conditionProjection = addChildBlock("condition_proj", Linear.builder().setUnits(e).build());
        nullCondition = addParameter(Parameter.builder().setName("null_condition").setType(Parameter.Type.OTHER)
                .optInitializer(Initializer.ZEROS).optShape(new Shape(config.conditionDim())).build());
        inputConv = addChildBlock("input_conv", conv3x3(config.channelsAt(0)));

        // down path; remember the channels of every skip connection
        Deque<Integer> skipChannels = new ArrayDeque<>();
        int channels = config.channelsAt(0);
        skipChannels.push(channels);
        for (int level = 0; level < config.levels(); level++) {
            for (int i = 0; i < config.blocksPerLevel(); i++) {
                down.add(addChildBlock("down" + level + "_res" + i,
                        new ResStage(channels, config.channelsAt(level), config.attentionAt(level))));
                channels = config.channelsAt(level);
                skipChannels.push(channels);
            }
            if (level < config.levels() - 1) {
                down.add(addChildBlock("down" + level + "_downsample", new Downsample(channels)));
                skipChannels.push(channels);
            }
        }
        middle.add(addChildBlock("middle_res0", new ResStage(channels, channels, middleAttention)));
        middle.add(addChildBlock("middle_res1", new ResStage(channels, channels, false)));
        // up path mirrors it, consuming the skips in reverse
        for (int level = config.levels() - 1; level >= 0; level--) {
            for (int i = 0; i <= config.blocksPerLevel(); i++) {
                int skip = skipChannels.pop();
                up.add(addChildBlock("up" + level + "_res" + i,
                        new ResStage(channels + skip, config.channelsAt(level), config.attentionAt(level))));
                channels = config.channelsAt(level);
            }
            if (level > 0) {
                up.add(addChildBlock("up" + level + "_upsample", new Upsample(channels)));
            }
        }
        outputNorm = addChildBlock("output_norm", GroupNorm.forChannels(channels));
        outputConv = addChildBlock("output_conv", conv3x3(config.imageChannels()));
        zeroInitialised.add(outputConv);
    }

    public DecoderConfig config() {
        return config;
    }

    @Override
    protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
                                     PairList<String, Object> params) {
        if (!training && DjlRuntime.scriptedForwardNow()) {
            return new NDList(scripted.get().forward(inputs.get(0), inputs.get(1), inputs.get(2), inputs.get(3)));
        }
        NDArray x = inputs.get(0);                                                    // (B, C, S, S)
        NDArray timesteps = inputs.get(1);                                            // (B)
        NDArray condition = inputs.get(2);                                            // (B, D)
        NDArray keep = inputs.get(3).toType(DataType.FLOAT32, false);                 // (B)
        long batch = x.getShape().get(0);

        // classifier-free guidance: z where keep = 1, the learned null embedding where keep = 0
        NDArray keepColumn = keep.reshape(batch, 1);                                  // (B, 1)
        NDArray nullArray = ps.getValue(nullCondition, x.getDevice(), training);      // (D)
        NDArray cond = condition.mul(keepColumn)
                .add(keepColumn.neg().add(1f).mul(nullArray));                        // (B, D)
        if (config.conditionScale() != 1.0) {
            cond = Differentiable.mul(cond, (float) (double) config.conditionScale());
        }
        NDArray emb = timeEmbed.embed(ps, timesteps, training)
                .add(forward1(conditionProjection, ps, cond, training));             // (B, E)
        // every ResBlock projects SiLU(emb): computed once here rather than once per block
        NDArray activatedEmb = Differentiable.silu(emb);                             // (B, E)

        NDArray h = Convolutions.forward(inputConv, ps, x, training);                // (B, C0, S, S)
        Deque<NDArray> skips = new ArrayDeque<>();
        skips.push(h);
        for (AbstractBlock block : down) {
            h = block.forward(ps, new NDList(h, activatedEmb), training).head();              // (B, C_l, S_l, S_l)
            skips.push(h);
        }
        for (AbstractBlock block : middle) {
            h = block.forward(ps, new NDList(h, activatedEmb), training).head();
        }
        for (AbstractBlock block : up) {
            if (block instanceof ResStage) {
                h = h.concat(skips.pop(), 1);                                        // (B, C + C_skip, S_l, S_l)
            }
            h = block.forward(ps, new NDList(h, activatedEmb), training).head();
        }
        h = Differentiable.silu(forward1(outputNorm, ps, h, training));
        return new NDList(Convolutions.forward(outputConv, ps, h, training));        // (B, C_img, S, S)
    }

    /**
     * This network's inference forward pass as a TorchScript method, for
     * {@link dalle2.script.ScriptedForward}: the same ops in the same order as {@link #forwardInternal} with
     * autograd off (dropout is off in inference), written out statement by statement for this config, with
     * libtorch's fused {@code group_norm} and {@code silu} where the Java pass composes them from smaller ops.
     * {@code forward(x, t, condition, keep, w)} takes the inputs of {@link #forwardInternal} and the parameters.
     */
    public String torchScript() {
        ScriptWriter code = new ScriptWriter(this);
        code.line("keep_column = torch.reshape(keep.float(), [-1, 1])");
        code.line("cond = condition * keep_column + (1.0 - keep_column) * " + code.weight(nullCondition));
        if (config.conditionScale() != 1.0) {
            code.line("cond = cond * " + ScriptWriter.literal((float) (double) config.conditionScale()));
        }
        String emb = timeEmbed.script(code, "t");
        emb = code.let(emb + " + torch.linear(cond, " + code.weightAndBias(conditionProjection) + ")");
        String activatedEmb = code.let("torch.silu(" + emb + ")");

        boolean channelsLast = config.imageSize() >= CHANNELS_LAST_MIN_IMAGE_SIZE;
        if (channelsLast) {
            code.line("x = x.contiguous(memory_format=" + CHANNELS_LAST + ")");
        }
        String h = code.let(convolution(code, inputConv, "x", 1, 1));
        Deque<String> skips = new ArrayDeque<>();
        skips.push(h);
        for (AbstractBlock block : down) {
            h = ((Scripted) block).script(code, h, activatedEmb);
            skips.push(h);
        }
        for (AbstractBlock block : middle) {
            h = ((Scripted) block).script(code, h, activatedEmb);
        }
        for (AbstractBlock block : up) {
            if (block instanceof ResStage) {
                h = code.let("torch.cat([" + h + ", " + skips.pop() + "], 1)");
            }
            h = ((Scripted) block).script(code, h, activatedEmb);
        }
        h = code.let("torch.silu(" + outputNorm.script(code, h) + ")");
        // back to the layout of the sampler's other arrays, so the step's elementwise ops do not mix two layouts
        code.line("return " + convolution(code, outputConv, h, 1, 1) + (channelsLast ? ".contiguous()" : ""));
        return code.forwardMethod("x: Tensor, t: Tensor, condition: Tensor, keep: Tensor");
    }

    /**
     * From this image size on the script keeps activations channels-last (NHWC), the layout oneDNN's
     * convolutions work in: the shipped 256 px upsampler's forward took 0.88 of the time (176 against 201 ms at
     * batch 1, 391 against 440 at batch 2, two threads; 0.90 on one), where the 32 px decoder took 1.06–1.10 of
     * it (batch 2 and 8, one thread); interleaved medians, sizes in between not measured.
     */
    static final int CHANNELS_LAST_MIN_IMAGE_SIZE = 256;
    /** TorchScript's number for {@code torch.channels_last} (serialised scripts name memory formats by number). */
    private static final int CHANNELS_LAST = 2;

    /**
     * A convolution as a TorchScript expression. No rerouting of single images as {@link Convolutions} does for
     * the op-by-op pass: inside a TorchScript call libtorch's own choice of kernel was as fast or faster (batch 1,
     * the shipped decoder, interleaved medians of 80 calls: 13.1 against 15.0 ms on one thread, 15.6 against 18.6
     * on two).
     */
    private static String convolution(ScriptWriter code, Conv2d conv, String x, int stride, int padding) {
        return "torch.conv2d(" + x + ", " + code.weightAndBias(conv) + ", [" + stride + ", " + stride + "], ["
                + padding + ", " + padding + "])";
    }

    /** A block of this U-Net that writes its forward pass as script statements; returns its output's name. */
    private interface Scripted {
        String script(ScriptWriter code, String h, String activatedEmb);
    }

    @Override
    public Shape[] getOutputShapes(Shape[] inputShapes) {
        return new Shape[] {inputShapes[0]};
    }

    @Override
    protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
        Shape x = inputShapes[0];
        long batch = x.get(0);
        Shape emb = new Shape(batch, config.timeEmbedDim());
        timeEmbed.initialize(manager, dataType, new Shape(batch));
        conditionProjection.initialize(manager, dataType, new Shape(batch, config.conditionDim()));
        inputConv.initialize(manager, dataType, x);
        Shape h = inputConv.getOutputShapes(new Shape[] {x})[0];
        Deque<Shape> skips = new ArrayDeque<>();
        skips.push(h);
        for (AbstractBlock block : down) {
            h = initialize(block, manager, dataType, h, emb);
            skips.push(h);
        }
        for (AbstractBlock block : middle) {
            h = initialize(block, manager, dataType, h, emb);
        }
        for (AbstractBlock block : up) {
            if (block instanceof ResStage) {
                Shape skip = skips.pop();
                h = new Shape(batch, h.get(1) + skip.get(1), h.get(2), h.get(3));
            }
            h = initialize(block, manager, dataType, h, emb);
        }
        outputNorm.initialize(manager, dataType, h);
        outputConv.initialize(manager, dataType, h);
    }

    private static Shape initialize(Block block, NDManager manager, DataType dataType, Shape h, Shape emb) {
        block.initialize(manager, dataType, h, emb);
        return block.getOutputShapes(new Shape[] {h, emb})[0];
    }

    /**
     * Overwrites every parameter from a {@link Random} seeded by {@code seed} and the parameter's name, so the
     * same config and seed give bit-identical weights on every machine, whatever the engine's own generator did.
     * Convolution and linear weights are uniform in ±1/√fan_in (PyTorch's default), biases 0, GroupNorm γ = 1
     * and β = 0, the residual-branch outputs 0 (ADM), and the null embedding N(0, 1/D) so its norm is near
     * that of a unit CLIP embedding.
     */
    public void initializeWeights(long seed) {
        Map<Parameter, Boolean> zero = new IdentityHashMap<>();
        for (Block block : zeroInitialised) {
            for (Pair<String, Parameter> p : block.getParameters()) {
                zero.put(p.getValue(), Boolean.TRUE);
            }
        }
        for (Pair<String, Parameter> entry : getParameters()) {
            Parameter parameter = entry.getValue();
            NDArray array = parameter.getArray();
            Shape shape = array.getShape();
            float[] values = new float[Math.toIntExact(shape.size())];
            Random random = new Random(seed * 0x9E3779B97F4A7C15L + entry.getKey().hashCode());
            if (parameter == nullCondition) {
                float scale = (float) (1.0 / Math.sqrt(shape.size()));
                for (int i = 0; i < values.length; i++) {
                    values[i] = (float) random.nextGaussian() * scale;
                }
            } else if (parameter.getType() == Parameter.Type.WEIGHT && !zero.containsKey(parameter)) {
                double bound = 1.0 / Math.sqrt(shape.size() / shape.get(0));
                for (int i = 0; i < values.length; i++) {
                    values[i] = (float) ((random.nextDouble() * 2 - 1) * bound);
                }
            } else if (parameter.getType() == Parameter.Type.GAMMA) {
                java.util.Arrays.fill(values, 1f);
            }
            array.set(FloatBuffer.wrap(values));   // copied into storage the parameter's array keeps reachable
        }
    }

    /** Total number of scalar parameters. */
    public long parameterCount() {
        long count = 0;
        for (Pair<String, Parameter> entry : getParameters()) {
            count += entry.getValue().getArray().getShape().size();
        }
        return count;
    }

    private static NDArray forward1(Block block, ParameterStore ps, NDArray x, boolean training) {
        return block.forward(ps, new NDList(x), training).singletonOrThrow();
    }

    private static Conv2d conv3x3(int filters) {
        return Conv2d.builder().setKernelShape(new Shape(3, 3)).optPadding(new Shape(1, 1)).setFilters(filters).build();
    }

    /** A residual block, optionally followed by self-attention. Inputs (h, emb); output h. */
    private final class ResStage extends AbstractBlock implements Scripted {
        private final ResBlock res;
        private final AttentionBlock attention;

        ResStage(int in, int out, boolean withAttention) {
            super(VERSION);
            res = addChildBlock("res", new ResBlock(in, out));
            attention = withAttention ? addChildBlock("attention", new AttentionBlock(out)) : null;
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
                                         PairList<String, Object> params) {
            NDArray h = res.forward(ps, inputs, training).head();
            return attention == null ? new NDList(h) : attention.forward(ps, new NDList(h), training);
        }

        @Override
        public String script(ScriptWriter code, String h, String activatedEmb) {
            String x = res.script(code, h, activatedEmb);
            return attention == null ? x : attention.script(code, x, activatedEmb);
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputShapes) {
            return res.getOutputShapes(inputShapes);
        }

        @Override
        protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
            res.initialize(manager, dataType, inputShapes);
            if (attention != null) {
                attention.initialize(manager, dataType, res.getOutputShapes(inputShapes)[0]);
            }
        }
    }

    /**
     * ADM's ResBlock: h = conv(SiLU(GN(x))); h += Linear(SiLU(emb)); h = conv(dropout(SiLU(GN(h))));
     * it is given SiLU(emb), which the U-Net computes once for all blocks.
     * return skip(x) + h, with skip a 1×1 conv when the channel count changes.
     */
    private final class ResBlock extends AbstractBlock implements Scripted {
        private final int out;
        private final GroupNorm norm1;
        private final Conv2d conv1;
        private final Linear embProjection;
        private final GroupNorm norm2;
        private final Dropout dropout;
        private final Conv2d conv2;
        private final Conv2d skip;

        ResBlock(int in, int out) {
            super(VERSION);
            this.out = out;
            norm1 = addChildBlock("norm1", GroupNorm.forChannels(in));
            conv1 = addChildBlock("conv1", conv3x3(out));
            // scale_shift: the projection yields a scale and a shift per channel (ADM's AdaGN), else a bias
            embProjection = addChildBlock("emb_proj",
                    Linear.builder().setUnits(config.scaleShift() ? 2L * out : out).build());
            norm2 = addChildBlock("norm2", GroupNorm.forChannels(out));
            dropout = addChildBlock("dropout", Dropout.builder().optRate((float) config.dropout()).build());
            conv2 = addChildBlock("conv2", conv3x3(out));
            zeroInitialised.add(conv2);
            skip = in == out ? null : addChildBlock("skip", Conv2d.builder().setKernelShape(new Shape(1, 1))
                    .setFilters(out).build());
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
                                         PairList<String, Object> params) {
            NDArray x = inputs.get(0);                                                // (B, C_in, s, s)
            NDArray activatedEmb = inputs.get(1);                                     // SiLU(emb), (B, E)
            long batch = x.getShape().get(0);
            NDArray h = Differentiable.silu(forward1(norm1, ps, x, training));
            h = Convolutions.forward(conv1, ps, h, training);                         // (B, C_out, s, s)
            NDArray e = forward1(embProjection, ps, activatedEmb, training);          // (B, C_out or 2·C_out)
            if (config.scaleShift()) {
                NDList scaleShift = e.reshape(batch, 2L * out, 1, 1).split(2, 1);      // 2 × (B, C_out, 1, 1)
                h = forward1(norm2, ps, h, training).mul(scaleShift.get(0).add(1f)).add(scaleShift.get(1));
                h = Differentiable.silu(h);
            } else {
                h = h.add(e.reshape(batch, out, 1, 1));
                h = Differentiable.silu(forward1(norm2, ps, h, training));
            }
            if (training && config.dropout() > 0) { // DJL's Dropout makes a native call even when it is off
                h = forward1(dropout, ps, h, training);
            }
            h = Convolutions.forward(conv2, ps, h, training);                         // (B, C_out, s, s)
            NDArray residual = skip == null ? x : Convolutions.forward(skip, ps, x, training);
            return new NDList(residual.add(h));
        }

        @Override
        public String script(ScriptWriter code, String x, String activatedEmb) {
            String h = code.let(convolution(code, conv1, "torch.silu(" + norm1.script(code, x) + ")", 1, 1));
            String e = code.let("torch.linear(" + activatedEmb + ", " + code.weightAndBias(embProjection) + ")");
            if (config.scaleShift()) {
                String scaleShift = code.let("torch.reshape(" + e + ", [-1, " + 2L * out + ", 1, 1])");
                h = code.let("torch.silu(" + norm2.script(code, h) + " * (" + scaleShift + "[:, :" + out
                        + "] + 1.0) + " + scaleShift + "[:, " + out + ":])");
            } else {
                h = code.let("torch.silu(" + norm2.script(code, h + " + torch.reshape(" + e + ", [-1, " + out
                        + ", 1, 1])") + ")");
            }
            h = code.let(convolution(code, conv2, h, 1, 1));
            String residual = skip == null ? x : convolution(code, skip, x, 1, 0);
            return code.let(residual + " + " + h);
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputShapes) {
            Shape x = inputShapes[0];
            return new Shape[] {new Shape(x.get(0), out, x.get(2), x.get(3))};
        }

        @Override
        protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
            Shape x = inputShapes[0];
            Shape h = getOutputShapes(inputShapes)[0];
            norm1.initialize(manager, dataType, x);
            conv1.initialize(manager, dataType, x);
            embProjection.initialize(manager, dataType, inputShapes[1]);
            norm2.initialize(manager, dataType, h);
            dropout.initialize(manager, dataType, h);
            conv2.initialize(manager, dataType, h);
            if (skip != null) {
                skip.initialize(manager, dataType, x);
            }
        }
    }

    /** Multi-head self-attention over the H·W positions, pre-normalised, residual. Input and output (B, C, s, s). */
    private final class AttentionBlock extends AbstractBlock implements Scripted {
        private final int channels;
        private final int heads;
        private final GroupNorm norm;
        private final Linear qkv;
        private final Linear projection;

        AttentionBlock(int channels) {
            super(VERSION);
            this.channels = channels;
            this.heads = config.attentionHeads();
            norm = addChildBlock("norm", GroupNorm.forChannels(channels));
            qkv = addChildBlock("qkv", Linear.builder().setUnits(3L * channels).build());
            projection = addChildBlock("proj", Linear.builder().setUnits(channels).build());
            zeroInitialised.add(projection);
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
                                         PairList<String, Object> params) {
            NDArray x = inputs.singletonOrThrow();                                    // (B, C, s, s)
            Shape shape = x.getShape();
            long batch = shape.get(0);
            long positions = shape.get(2) * shape.get(3);
            long headDim = channels / heads;
            NDArray h = forward1(norm, ps, x, training).reshape(batch, channels, positions)
                    .transpose(0, 2, 1);                                              // (B, T, C)
            NDArray qkvAll = forward1(qkv, ps, h, training)                          // (B, T, 3C)
                    .reshape(batch, positions, 3, heads, headDim)
                    .transpose(2, 0, 3, 1, 4);                                        // (3, B, heads, T, d)
            NDArray q = qkvAll.get(0);                                                // (B, heads, T, d)
            NDArray k = qkvAll.get(1);
            NDArray v = qkvAll.get(2);
            NDArray weights = Differentiable.mul(q.matMul(k.transpose(0, 1, 3, 2)),
                    (float) (1.0 / Math.sqrt(headDim))).softmax(-1);                  // (B, heads, T, T)
            NDArray attended = weights.matMul(v)                                      // (B, heads, T, d)
                    .transpose(0, 2, 1, 3).reshape(batch, positions, channels);      // (B, T, C)
            NDArray out = forward1(projection, ps, attended, training)               // (B, T, C)
                    .transpose(0, 2, 1).reshape(shape);                               // (B, C, s, s)
            return new NDList(x.add(out));
        }

        @Override
        public String script(ScriptWriter code, String x, String activatedEmb) {
            long headDim = channels / heads;
            String h = code.let("torch.reshape(" + norm.script(code, x) + ", [" + x + ".size(0), " + channels
                    + ", -1]).transpose(1, 2)");                                                 // (B, T, C)
            String qkvAll = code.let("torch.reshape(torch.linear(" + h + ", " + code.weightAndBias(qkv) + "), ["
                    + x + ".size(0), -1, 3, " + heads + ", " + headDim + "]).permute([2, 0, 3, 1, 4])");
            String weights = code.let("torch.softmax(torch.matmul(" + qkvAll + "[0], " + qkvAll
                    + "[1].transpose(2, 3)) * " + ScriptWriter.literal((float) (1.0 / Math.sqrt(headDim)))
                    + ", -1)");                                                                   // (B, heads, T, T)
            String attended = code.let("torch.reshape(torch.matmul(" + weights + ", " + qkvAll
                    + "[2]).transpose(1, 2), [" + x + ".size(0), -1, " + channels + "])");     // (B, T, C)
            return code.let(x + " + torch.reshape(torch.linear(" + attended + ", " + code.weightAndBias(projection)
                    + ").transpose(1, 2), " + x + ".size())");
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputShapes) {
            return new Shape[] {inputShapes[0]};
        }

        @Override
        protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
            Shape x = inputShapes[0];
            Shape tokens = new Shape(x.get(0), x.get(2) * x.get(3), channels);
            norm.initialize(manager, dataType, x);
            qkv.initialize(manager, dataType, tokens);
            projection.initialize(manager, dataType, tokens);
        }
    }

    /** Halves the resolution with a stride-2 3×3 conv. Inputs (h, emb); output h (B, C, s/2, s/2). */
    private static final class Downsample extends AbstractBlock implements Scripted {
        private final Conv2d conv;

        Downsample(int channels) {
            super(VERSION);
            conv = addChildBlock("conv", Conv2d.builder().setKernelShape(new Shape(3, 3)).optStride(new Shape(2, 2))
                    .optPadding(new Shape(1, 1)).setFilters(channels).build());
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
                                         PairList<String, Object> params) {
            return new NDList(Convolutions.forward(conv, ps, inputs.get(0), training));
        }

        @Override
        public String script(ScriptWriter code, String h, String activatedEmb) {
            return code.let(convolution(code, conv, h, 2, 1));
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputShapes) {
            Shape x = inputShapes[0];
            return new Shape[] {new Shape(x.get(0), x.get(1), x.get(2) / 2, x.get(3) / 2)};
        }

        @Override
        protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
            conv.initialize(manager, dataType, inputShapes[0]);
        }
    }

    /** Doubles the resolution: nearest-neighbour ×2, then a 3×3 conv. Inputs (h, emb); output (B, C, 2s, 2s). */
    private static final class Upsample extends AbstractBlock implements Scripted {
        /** libtorch's interpolate mode for nearest-neighbour: one kernel where two repeats took two copies. */
        private static final int NEAREST = 0;

        private final Conv2d conv;

        Upsample(int channels) {
            super(VERSION);
            conv = addChildBlock("conv", conv3x3(channels));
        }

        @Override
        protected NDList forwardInternal(ParameterStore ps, NDList inputs, boolean training,
                                         PairList<String, Object> params) {
            NDArray x = inputs.get(0);
            Shape shape = x.getShape();
            NDArray h = x.getNDArrayInternal().interpolation(
                    new long[] {2 * shape.get(2), 2 * shape.get(3)}, NEAREST, false);        // (B, C, 2s, 2s)
            return new NDList(Convolutions.forward(conv, ps, h, training));
        }

        @Override
        public String script(ScriptWriter code, String h, String activatedEmb) {
            String doubled = code.let("torch.upsample_nearest2d(" + h + ", [2 * " + h + ".size(2), 2 * " + h
                    + ".size(3)])");
            return code.let(convolution(code, conv, doubled, 1, 1));
        }

        @Override
        public Shape[] getOutputShapes(Shape[] inputShapes) {
            Shape x = inputShapes[0];
            return new Shape[] {new Shape(x.get(0), x.get(1), x.get(2) * 2, x.get(3) * 2)};
        }

        @Override
        protected void initializeChildBlocks(NDManager manager, DataType dataType, Shape... inputShapes) {
            Shape x = inputShapes[0];
            conv.initialize(manager, dataType, new Shape(x.get(0), x.get(1), x.get(2) * 2, x.get(3) * 2));
        }
    }
}
