package dalle2.training;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.nn.Block;
import ai.djl.nn.Parameter;
import ai.djl.util.Pair;
import ai.djl.util.PairList;
import dalle2.djl.DjlRuntime;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * An exponential moving average of a block's parameters, the weights diffusion models sample with
 * (Ho et al. 2020, appendix B; Ramesh et al. 2022 used EMA for the prior and decoder).
 *
 * <p>After the n-th update (n = 0, 1, …) the shadow moves as θ̄ ← d_n·θ̄ + (1 − d_n)·θ with the warm-up
 * d_n = min(maxDecay, (1 + n) / (10 + n)) of TensorFlow's ExponentialMovingAverage, so early averages are not
 * dominated by the random initialization. Call {@link #update} after each optimizer step, outside a
 * {@code GradientCollector}; {@link #copyTo} or {@link #swap} puts the averages into the block for sampling.
 */
public final class Ema implements AutoCloseable {

    /** The scalar part of a checkpoint (JSON through {@code dalle2.json.Json}). */
    public record Scalars(int formatVersion, long updates, float maxDecay) {
        public static final int FORMAT_VERSION = 1;

        public Scalars {
            if (formatVersion != FORMAT_VERSION) {
                throw new IllegalArgumentException("EMA state format_version " + formatVersion + " is not supported");
            }
            if (updates < 0) {
                throw new IllegalArgumentException("updates must be >= 0, got " + updates);
            }
        }
    }

    private static final String PREFIX = "ema.";

    private final float maxDecay;
    private final NDManager manager;
    private final Map<String, NDArray> shadows = new LinkedHashMap<>();
    private long updates;

    /** Starts the average at the block's current parameters. */
    public Ema(Block block, float maxDecay) {
        if (!(maxDecay >= 0 && maxDecay < 1)) {
            throw new IllegalArgumentException("EMA decay must be in [0, 1), got " + maxDecay);
        }
        this.maxDecay = maxDecay;
        PairList<String, Parameter> parameters = block.getParameters();
        this.manager = AdamW.firstArray(parameters).getManager().newSubManager();
        for (Pair<String, Parameter> entry : parameters) {
            shadows.put(entry.getKey(), copy(entry.getValue().getArray(), manager));
        }
    }

    /** The decay used by the update after {@code updates} earlier ones. */
    public float decayAt(long updates) {
        return (float) Math.min(maxDecay, (1.0 + updates) / (10.0 + updates));
    }

    public long updates() {
        return updates;
    }

    /** θ̄ ← θ̄ − (1 − d)·(θ̄ − θ), in place. */
    public void update(Block block) {
        float rate = 1f - decayAt(updates);
        // without grad mode on any thread (it is on by default except on the engine's): under it θ̄ − θ would
        // record a graph, and the in-place updates would chain every step's graph onto the averages
        DjlRuntime.withoutGradients(() -> {
            try (NDManager scope = manager.newSubManager()) {
                for (Pair<String, Parameter> entry : block.getParameters()) {
                    NDArray shadow = shadow(entry.getKey());
                    NDArray difference = shadow.sub(entry.getValue().getArray());
                    difference.attach(scope);
                    shadow.subi(difference.muli(rate));
                }
            }
            return null;
        });
        updates++;
    }

    /** Overwrites the block's parameters with the averages (e.g. before saving the model that ships). */
    public void copyTo(Block block) {
        for (Pair<String, Parameter> entry : block.getParameters()) {
            entry.getValue().getArray().set(shadow(entry.getKey()).toFloatArray());
        }
    }

    /**
     * Exchanges the block's parameters and the averages; swap again to resume training. Call it between steps:
     * {@code set} gives each array new storage (a direct buffer the array keeps reachable) and frees the old at
     * the next garbage collection, so no graph or view of a parameter may be alive across a swap.
     */
    public void swap(Block block) {
        for (Pair<String, Parameter> entry : block.getParameters()) {
            NDArray shadow = shadow(entry.getKey());
            NDArray parameter = entry.getValue().getArray();
            float[] live = parameter.toFloatArray();
            parameter.set(shadow.toFloatArray());
            shadow.set(live);
        }
    }

    private NDArray shadow(String name) {
        NDArray shadow = shadows.get(name);
        if (shadow == null) {
            throw new IllegalArgumentException("the EMA has no average for parameter " + name);
        }
        return shadow;
    }

    public Scalars scalars() {
        return new Scalars(Scalars.FORMAT_VERSION, updates, maxDecay);
    }

    /** Copies of the averages named {@code ema.<parameter>}, in {@code target}. */
    public NDList state(NDManager target) {
        NDList list = new NDList();
        for (Map.Entry<String, NDArray> entry : shadows.entrySet()) {
            NDArray array = copy(entry.getValue(), target);
            array.setName(PREFIX + entry.getKey());
            list.add(array);
        }
        return list;
    }

    /**
     * Restores averages saved by {@link #state} and {@link #scalars}.
     *
     * @throws IllegalArgumentException when the decay differs or the arrays do not match this EMA's parameters
     */
    public void loadState(NDList arrays, Scalars scalars) {
        if (Float.compare(scalars.maxDecay(), maxDecay) != 0) {
            throw new IllegalArgumentException("the saved EMA has decay " + scalars.maxDecay()
                    + " but this one was built with " + maxDecay);
        }
        Map<String, NDArray> saved = TensorFile.byName(arrays);
        Map<String, NDArray> byName = new LinkedHashMap<>(saved);
        List<String> problems = new ArrayList<>();
        for (Map.Entry<String, NDArray> entry : shadows.entrySet()) {
            NDArray average = byName.remove(PREFIX + entry.getKey());
            if (average == null) {
                problems.add("no average for parameter " + entry.getKey());
            } else if (!average.getShape().equals(entry.getValue().getShape())) {
                problems.add("parameter " + entry.getKey() + " has shape " + entry.getValue().getShape()
                        + " but its saved average " + average.getShape());
            }
        }
        for (String extra : byName.keySet()) {
            problems.add("unexpected array " + extra);
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("the EMA state does not match the model (" + problems.size()
                    + " problems): " + String.join("; ", problems.subList(0, Math.min(5, problems.size()))));
        }
        for (Map.Entry<String, NDArray> entry : shadows.entrySet()) {
            entry.getValue().set(saved.get(PREFIX + entry.getKey()).toType(DataType.FLOAT32, false).toFloatArray());
        }
        updates = scalars.updates();
    }

    private static NDArray copy(NDArray array, NDManager target) {
        NDArray copy = array.duplicate();
        copy.attach(target);
        return copy;
    }

    @Override
    public void close() {
        manager.close();
        shadows.clear();
    }
}
