package dalle2.training;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.util.Pair;
import ai.djl.util.PairList;
import dalle2.djl.DjlRuntime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Adam with decoupled weight decay (Loshchilov and Hutter 2019, algorithm 2), written out because DJL's
 * optimizers keep their moments private and so cannot be checkpointed. For each parameter θ with gradient g,
 * at step t = 1, 2, …:
 * <pre>
 *   θ   ← θ · (1 − lr·λ)                        decoupled weight decay (only for parameters with ≥ 2 dims)
 *   m   ← β₁·m + (1 − β₁)·g
 *   v   ← β₂·v + (1 − β₂)·g²
 *   θ   ← θ − lr/(1 − β₁ᵗ) · m / (√v / √(1 − β₂ᵗ) + ε)
 * </pre>
 * the same arithmetic as {@code torch.optim.AdamW} (decay scaled by the scheduled lr, as the paper's η_t).
 * Biases, LayerNorm gains and the prior's learned vectors (every 1-dimensional parameter) are not decayed,
 * as is usual for transformers (the GPT-2/nanoGPT recipe).
 *
 * <p>Gradients accumulate in DJL's PyTorch engine until zeroed, so {@link #step} zeroes them after the update.
 * A parameter that no backward pass reached (no gradient at all) is left alone, weight decay included. Unlike
 * torch, one step count t serves every parameter (they all train from the first step here).
 * Call it outside a {@code GradientCollector}. Every temporary lives in a sub-manager that closes with the
 * step; the parameters and moments are updated in place.
 */
public final class AdamW implements AutoCloseable {

    /** Hyperparameters and step count, the scalar part of a checkpoint (JSON through {@code dalle2.json.Json}). */
    public record Scalars(int formatVersion, long step, float beta1, float beta2, float epsilon, float weightDecay) {
        public static final int FORMAT_VERSION = 1;

        public Scalars {
            if (formatVersion != FORMAT_VERSION) {
                throw new IllegalArgumentException("AdamW state format_version " + formatVersion + " is not supported");
            }
            if (step < 0) {
                throw new IllegalArgumentException("step must be >= 0, got " + step);
            }
        }
    }

    private static final String FIRST_MOMENT = "m.";
    private static final String SECOND_MOMENT = "v.";

    private final float beta1;
    private final float beta2;
    private final float epsilon;
    private final float weightDecay;
    private final Map<String, NDArray> firstMoments = new LinkedHashMap<>();
    private final Map<String, NDArray> secondMoments = new LinkedHashMap<>();
    private NDManager stateManager;
    private long step;

    public AdamW(float beta1, float beta2, float epsilon, float weightDecay) {
        if (!(beta1 >= 0 && beta1 < 1)) {
            throw new IllegalArgumentException("beta1 must be in [0, 1), got " + beta1);
        }
        if (!(beta2 >= 0 && beta2 < 1)) {
            throw new IllegalArgumentException("beta2 must be in [0, 1), got " + beta2);
        }
        if (!(epsilon > 0)) {
            throw new IllegalArgumentException("epsilon must be positive, got " + epsilon);
        }
        if (!(weightDecay >= 0) || Float.isInfinite(weightDecay)) {
            throw new IllegalArgumentException("weight_decay must be >= 0, got " + weightDecay);
        }
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.epsilon = epsilon;
        this.weightDecay = weightDecay;
    }

    /** β₁ = 0.9, β₂ = 0.999, ε = 1e-8 and the given weight decay λ. */
    public static AdamW withWeightDecay(float weightDecay) {
        return new AdamW(0.9f, 0.999f, 1e-8f, weightDecay);
    }

    /** Updates taken so far (t of the last update). */
    public long stepCount() {
        return step;
    }

    /** Whether weight decay applies to a parameter: weight matrices yes, biases, gains and vectors no. */
    public static boolean decays(Parameter parameter) {
        return parameter.getArray().getShape().dimension() >= 2;
    }

    public void step(Block block, float learningRate) {
        step(block.getParameters(), learningRate);
    }

    /** One update of every parameter that requires a gradient, from its gradient; then zeroes the gradients. */
    public void step(PairList<String, Parameter> parameters, float learningRate) {
        if (!(learningRate >= 0) || Float.isInfinite(learningRate)) {
            throw new IllegalArgumentException("learning rate must be >= 0, got " + learningRate);
        }
        // grad mode is per thread and on by default except on the thread that loaded the engine: an in-place
        // update of a parameter under it fails ("a leaf Variable that requires grad is being used in an
        // in-place operation"), so the update runs without it on any thread
        DjlRuntime.withoutGradients(() -> {
            update(parameters, learningRate);
            return null;
        });
    }

    private void update(PairList<String, Parameter> parameters, float learningRate) {
        NDArray first = firstArray(parameters);
        if (stateManager == null) {
            stateManager = first.getManager().newSubManager();
        }
        step++;
        double biasCorrection1 = 1.0 - Math.pow(beta1, step);
        double biasCorrection2 = 1.0 - Math.pow(beta2, step);
        float stepSize = (float) (learningRate / biasCorrection1);
        float decayFactor = 1f - learningRate * weightDecay;
        try (NDManager scope = stateManager.newSubManager()) {
            for (Pair<String, Parameter> entry : parameters) {
                Parameter parameter = entry.getValue();
                if (!parameter.requiresGradient()) {
                    continue;
                }
                String name = entry.getKey();
                NDArray weight = parameter.getArray();
                NDArray gradient = gradientOf(weight, scope);
                if (gradient == null) {
                    continue;                         // not reached by backward: skipped, as torch.optim does
                }
                NDArray m = firstMoments.computeIfAbsent(name, k -> stateManager.zeros(weight.getShape()));
                NDArray v = secondMoments.computeIfAbsent(name, k -> stateManager.zeros(weight.getShape()));

                if (weightDecay > 0 && decays(parameter)) {
                    weight.muli(decayFactor);
                }
                m.muli(beta1).addi(gradient.mul(1f - beta1));
                v.muli(beta2).addi(gradient.square().muli(1f - beta2));
                // denominators built from the moments allocate in the state manager: move them to the scope
                NDArray denominator = v.sqrt();
                denominator.attach(scope);
                denominator.divi((float) Math.sqrt(biasCorrection2)).addi(epsilon);
                NDArray update = m.div(denominator);
                update.attach(scope);
                weight.subi(update.muli(stepSize));
            }
        }
        zeroGradients(parameters);
    }

    /**
     * The gradient of a parameter, moved into {@code scope} (DJL wraps it in the parameter's manager, which
     * would keep one wrapper per call alive), or null when no backward pass has reached the parameter.
     */
    static NDArray gradientOf(NDArray weight, NDManager scope) {
        NDArray gradient = JniUtils.getGradient((PtNDArray) weight);
        if (gradient != null) {
            gradient.attach(scope);
        }
        return gradient;
    }

    /** Sets every gradient of the parameters to zero (for a caller that skips a step). */
    public static void zeroGradients(PairList<String, Parameter> parameters) {
        for (Pair<String, Parameter> entry : parameters) {
            Parameter parameter = entry.getValue();
            if (parameter.requiresGradient() && parameter.isInitialized()) {
                JniUtils.zeroGrad((PtNDArray) parameter.getArray());
            }
        }
    }

    /** The scalars of the state: step count and hyperparameters. */
    public Scalars scalars() {
        return new Scalars(Scalars.FORMAT_VERSION, step, beta1, beta2, epsilon, weightDecay);
    }

    /**
     * Copies of the moments, named {@code m.<parameter>} and {@code v.<parameter>}, in {@code manager}
     * (ready for {@link TensorFile#write}).
     */
    public NDList state(NDManager manager) {
        NDList list = new NDList();
        copyInto(list, FIRST_MOMENT, firstMoments, manager);
        copyInto(list, SECOND_MOMENT, secondMoments, manager);
        return list;
    }

    private static void copyInto(NDList list, String prefix, Map<String, NDArray> moments, NDManager manager) {
        for (Map.Entry<String, NDArray> entry : moments.entrySet()) {
            NDArray copy = entry.getValue().duplicate();
            copy.attach(manager);
            copy.setName(prefix + entry.getKey());
            list.add(copy);
        }
    }

    /**
     * Restores a state saved by {@link #state} and {@link #scalars} for the parameters of {@code block}.
     *
     * @throws IllegalArgumentException when the hyperparameters differ from this optimizer's, or the moments do
     *                                  not match the block's trainable parameters (names the mismatch)
     */
    public void loadState(Block block, NDList arrays, Scalars scalars) {
        requireSame("beta1", beta1, scalars.beta1());
        requireSame("beta2", beta2, scalars.beta2());
        requireSame("epsilon", epsilon, scalars.epsilon());
        requireSame("weight_decay", weightDecay, scalars.weightDecay());
        PairList<String, Parameter> parameters = block.getParameters();
        Map<String, NDArray> byName = TensorFile.byName(arrays);
        List<String> problems = new ArrayList<>();
        Map<String, NDArray[]> restored = new LinkedHashMap<>();
        for (Pair<String, Parameter> entry : parameters) {
            if (!entry.getValue().requiresGradient()) {
                continue;
            }
            NDArray m = byName.remove(FIRST_MOMENT + entry.getKey());
            NDArray v = byName.remove(SECOND_MOMENT + entry.getKey());
            if (m == null && v == null) {
                continue;                             // no gradient had reached it yet
            }
            ai.djl.ndarray.types.Shape shape = entry.getValue().getArray().getShape();
            if (m == null || v == null) {
                problems.add("only one moment for parameter " + entry.getKey());
            } else if (!m.getShape().equals(shape) || !v.getShape().equals(shape)) {
                problems.add("parameter " + entry.getKey() + " has shape " + shape + " but its moments " + m.getShape());
            } else {
                restored.put(entry.getKey(), new NDArray[] {m, v});
            }
        }
        for (String extra : byName.keySet()) {
            problems.add("unexpected array " + extra);
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("the optimizer state does not match the model (" + problems.size()
                    + " problems): " + String.join("; ", problems.subList(0, Math.min(5, problems.size()))));
        }
        if (stateManager != null) {
            stateManager.close();
        }
        stateManager = firstArray(parameters).getManager().newSubManager();
        firstMoments.clear();
        secondMoments.clear();
        for (Map.Entry<String, NDArray[]> entry : restored.entrySet()) {
            firstMoments.put(entry.getKey(), copyTo(entry.getValue()[0], stateManager));
            secondMoments.put(entry.getKey(), copyTo(entry.getValue()[1], stateManager));
        }
        step = scalars.step();
    }

    private static NDArray copyTo(NDArray array, NDManager manager) {
        // a real copy: toType(same type, copy = true) aliases the storage in libtorch, and arrays decoded from a
        // file may sit on a direct buffer that is freed later (that alias crashed a resumed run in tcmalloc)
        NDArray copy = array.toType(ai.djl.ndarray.types.DataType.FLOAT32, false).duplicate();
        copy.attach(manager);
        return copy;
    }

    private static void requireSame(String field, float mine, float saved) {
        if (Float.compare(mine, saved) != 0) {
            throw new IllegalArgumentException("the saved optimizer state has " + field + " = " + saved
                    + " but this optimizer was built with " + mine);
        }
    }

    static NDArray firstArray(PairList<String, Parameter> parameters) {
        if (parameters.isEmpty()) {
            throw new IllegalArgumentException("no parameters");
        }
        Parameter first = parameters.valueAt(0);
        if (!first.isInitialized()) {
            throw new IllegalStateException("initialize the block before training it");
        }
        return first.getArray();
    }

    @Override
    public void close() {
        if (stateManager != null) {
            stateManager.close();
            stateManager = null;
        }
        firstMoments.clear();
        secondMoments.clear();
    }
}
