package dalle2.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import dalle2.djl.DjlRuntime;
import dalle2.json.Json;
import dalle2.models.Prior;
import dalle2.models.PriorConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The lead's requirement for trainers: a checkpoint holds weights, optimizer state, EMA, step and random state,
 * and training resumed from it continues exactly as if it had never stopped.
 */
class ResumeTest {

    private static final LearningRateSchedule SCHEDULE = new LearningRateSchedule(3e-3f, 1e-4f, 2, 12);
    private static final float EMA_DECAY = 0.95f;

    @BeforeAll
    static void offline() {
        DjlRuntime.configure();
    }

    /** Everything a run carries between steps. */
    private record Run(Prior prior, AdamW optimizer, Ema ema, Random rng) implements AutoCloseable {
        @Override
        public void close() {
            ema.close();
            optimizer.close();
            prior.close();
        }
    }

    private static NDArray pairs(NDManager manager, long seed) {
        Random random = new Random(seed);
        float[] values = new float[8 * 16];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) random.nextGaussian();
        }
        return manager.create(values, new Shape(8, 16)).normalize(2, 1, 1e-12);
    }

    /** One trainer step: a random half of the pairs, clipped gradients, AdamW, EMA. */
    private static void step(Run run, NDManager manager, NDArray texts, NDArray images) {
        long step = run.optimizer().stepCount();
        try (NDManager scope = manager.newSubManager()) {
            int[] rows = run.rng().ints(0, 8).limit(4).toArray();
            NDArray index = scope.create(java.util.Arrays.stream(rows).asLongStream().toArray());
            NDArray t = texts.get(index);
            NDArray i = images.get(index);
            t.attach(scope);
            i.attach(scope);
            ParameterStore ps = new ParameterStore(scope, false);
            try (GradientCollector collector = DjlRuntime.engine().newGradientCollector()) {
                collector.backward(run.prior().loss(ps, t, i, run.rng()));
            }
            GradientClipping.clipGlobalNorm(run.prior().network(), 0.5f);
            run.optimizer().step(run.prior().network(), SCHEDULE.at(step));
            run.ema().update(run.prior().network());
        }
    }

    private static Run start(Path initial, NDManager manager) throws Exception {
        Prior prior = Prior.load(initial, manager);
        return new Run(prior, AdamW.withWeightDecay(0.05f), new Ema(prior.network(), EMA_DECAY), new Random(77));
    }

    /** Writes the checkpoint the way a trainer would: weights, safetensors of moments and averages, one JSON. */
    private static void checkpoint(Run run, Path dir, NDManager manager) throws Exception {
        run.prior().save(dir.resolve("model"));
        try (NDManager scope = manager.newSubManager()) {
            NDList arrays = run.optimizer().state(scope);
            arrays.addAll(run.ema().state(scope));
            TensorFile.write(dir.resolve("state.safetensors"), arrays);
        }
        Json.writeFile(dir.resolve("state.json"), new State(run.optimizer().stepCount(), run.optimizer().scalars(),
                run.ema().scalars(), RandomState.encode(run.rng())));
    }

    record State(long step, AdamW.Scalars adamw, Ema.Scalars ema, String random) {
    }

    private static Run resume(Path dir, NDManager manager) throws Exception {
        Prior prior = Prior.load(dir.resolve("model"), manager);
        State state = Json.readFile(dir.resolve("state.json"), State.class);
        AdamW optimizer = AdamW.withWeightDecay(0.05f);
        Ema ema = new Ema(prior.network(), EMA_DECAY);
        try (NDManager scope = manager.newSubManager()) {
            NDList arrays = TensorFile.read(dir.resolve("state.safetensors"), scope);
            NDList moments = new NDList();
            NDList averages = new NDList();
            for (NDArray array : arrays) {
                (array.getName().startsWith("ema.") ? averages : moments).add(array);
            }
            optimizer.loadState(prior.network(), moments, state.adamw());
            ema.loadState(averages, state.ema());
        }
        return new Run(prior, optimizer, ema, RandomState.decode(state.random()));
    }

    private static float[] weights(Run run) {
        return flatten(run.prior().network().getParameters().values().stream().map(p -> p.getArray()).toList());
    }

    private static float[] averages(Run run, NDManager manager) {
        try (NDManager scope = manager.newSubManager()) {
            return flatten(run.ema().state(scope));
        }
    }

    private static float[] flatten(java.util.List<NDArray> arrays) {
        int total = arrays.stream().mapToInt(a -> Math.toIntExact(a.size())).sum();
        float[] all = new float[total];
        int offset = 0;
        for (NDArray array : arrays) {
            float[] values = array.toFloatArray();
            System.arraycopy(values, 0, all, offset, values.length);
            offset += values.length;
        }
        return all;
    }

    private static float maxDifference(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        float max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }

    @Test
    void kStepsThenCheckpointThenMStepsEqualsKPlusMStraightSteps(@TempDir Path dir) throws Exception {
        int k = 4;
        int m = 4;
        try (NDManager manager = DjlRuntime.newManager()) {
            NDArray texts = pairs(manager, 1);
            NDArray images = pairs(manager, 2);
            Path initial = dir.resolve("initial");
            try (Prior prior = Prior.create(PriorConfig.tiny(), manager)) {
                prior.save(initial);
            }

            float[] straightWeights;
            float[] straightAverages;
            try (Run straight = start(initial, manager)) {
                for (int i = 0; i < k + m; i++) {
                    step(straight, manager, texts, images);
                }
                straightWeights = weights(straight);
                straightAverages = averages(straight, manager);
            }

            Path checkpoint = dir.resolve("checkpoint");
            try (Run first = start(initial, manager)) {
                for (int i = 0; i < k; i++) {
                    step(first, manager, texts, images);
                }
                checkpoint(first, checkpoint, manager);
            }
            try (Run resumed = resume(checkpoint, manager)) {
                assertEquals(k, resumed.optimizer().stepCount());
                for (int i = 0; i < m; i++) {
                    step(resumed, manager, texts, images);
                }
                float[] initialWeights;
                try (Prior untouched = Prior.load(initial, manager)) {
                    initialWeights = flatten(untouched.network().getParameters().values().stream()
                            .map(p -> p.getArray()).toList());
                }
                assertTrue(maxDifference(initialWeights, straightWeights) > 1e-3f, "training moved the weights");
                assertTrue(maxDifference(straightWeights, straightAverages) > 1e-4f, "the EMA lags the weights");
                assertTrue(maxDifference(straightWeights, weights(resumed)) <= 1e-6f,
                        "weights differ by " + maxDifference(straightWeights, weights(resumed)));
                assertTrue(maxDifference(straightAverages, averages(resumed, manager)) <= 1e-6f,
                        "EMA differs by " + maxDifference(straightAverages, averages(resumed, manager)));
                assertEquals(k + m, resumed.optimizer().stepCount());
                assertEquals(k + m, resumed.ema().updates());
            }
            assertTrue(Files.exists(checkpoint.resolve("state.json")));
        }
    }
}
