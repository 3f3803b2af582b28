package dalle2.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.training.GradientCollector;
import dalle2.djl.DjlRuntime;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class TrainingPrimitivesTest {

    @BeforeAll
    static void offline() {
        DjlRuntime.configure();
    }

    @Test
    void learningRateWarmsUpLinearlyThenFollowsACosineDownToTheFloor() {
        LearningRateSchedule schedule = new LearningRateSchedule(1e-3f, 1e-5f, 100, 1100);
        assertEquals(0f, schedule.at(0));
        assertEquals(5e-4f, schedule.at(50), 1e-9f);                        // middle of the warm-up
        assertEquals(1e-3f, schedule.at(100), 1e-9f);                       // end of the warm-up: the peak
        assertEquals(1e-5f + (1e-3f - 1e-5f) / 2, schedule.at(600), 1e-9f); // middle of the cosine
        assertEquals(1e-5f + (1e-3f - 1e-5f) * 0.5f * (1 + (float) Math.cos(Math.PI / 4)), schedule.at(350), 1e-9f);
        assertEquals(1e-5f, schedule.at(1100), 1e-9f);                      // end: the floor
        assertEquals(1e-5f, schedule.at(50_000), 1e-9f);
        assertThrows(IllegalArgumentException.class, () -> new LearningRateSchedule(1e-3f, 2e-3f, 10, 100));
        assertThrows(IllegalArgumentException.class, () -> new LearningRateSchedule(1e-3f, 0f, 100, 100));
    }

    private static Parameter[] withGradients(NDManager manager, float[] first, float[] second) {
        Parameter a = AdamWTest.parameter(manager, "a", new Shape(first.length), 1f);
        Parameter b = AdamWTest.parameter(manager, "b", new Shape(1, second.length), 1f);
        try (NDManager scope = manager.newSubManager();
             GradientCollector collector = DjlRuntime.engine().newGradientCollector()) {
            // d/dθ Σ c·θ = c
            NDArray loss = scope.create(first).mul(a.getArray()).sum()
                    .add(scope.create(second).reshape(1, second.length).mul(b.getArray()).sum());
            collector.backward(loss);
        }
        return new Parameter[] {a, b};
    }

    @Test
    void clippingScalesTheGlobalNormDownToTheMaximumAndReportsTheNormBefore() {
        try (NDManager manager = DjlRuntime.newManager()) {
            Parameter[] parameters = withGradients(manager, new float[] {3f, 0f}, new float[] {0f, 4f});
            ai.djl.nn.ParameterList list = new ai.djl.nn.ParameterList();
            list.add("a", parameters[0]);
            list.add("b", parameters[1]);
            float norm = GradientClipping.clipGlobalNorm(blockOf(list), 1f);
            assertEquals(5f, norm, 1e-5f);
            assertArrayEquals(new float[] {0.6f, 0f}, parameters[0].getArray().getGradient().toFloatArray(), 1e-5f);
            assertArrayEquals(new float[] {0f, 0.8f}, parameters[1].getArray().getGradient().toFloatArray(), 1e-5f);

            // under the maximum nothing changes
            assertEquals(1f, GradientClipping.clipGlobalNorm(blockOf(list), 2f), 1e-5f);
            assertArrayEquals(new float[] {0.6f, 0f}, parameters[0].getArray().getGradient().toFloatArray(), 1e-6f);
        }
    }

    /** A block that only holds the given parameters. */
    static ai.djl.nn.Block blockOf(ai.djl.nn.ParameterList held) {
        return new ai.djl.nn.LambdaBlock(list -> list) {
            @Override
            public ai.djl.nn.ParameterList getParameters() {
                return held;
            }
        };
    }

    @Test
    void emaWarmsUpThenAveragesAndSwapsBackAndForth() {
        try (NDManager manager = DjlRuntime.newManager()) {
            Parameter w = AdamWTest.parameter(manager, "w", new Shape(2), 1f);
            ai.djl.nn.ParameterList list = new ai.djl.nn.ParameterList();
            list.add("w", w);
            try (Ema ema = new Ema(blockOf(list), 0.99f)) {
                assertEquals(0.1f, ema.decayAt(0), 1e-7f);                   // (1 + 0) / (10 + 0)
                assertEquals(0.99f, ema.decayAt(100_000), 1e-7f);
                w.getArray().set(new float[] {3f, 5f});
                ema.update(blockOf(list));                                    // 0.1·1 + 0.9·new
                w.getArray().set(new float[] {0f, 0f});
                ema.update(blockOf(list));                                    // d = 2/11
                float d = 2f / 11f;
                float[] expected = {d * (0.1f + 0.9f * 3f), d * (0.1f + 0.9f * 5f)};
                ema.swap(blockOf(list));
                assertArrayEquals(expected, w.getArray().toFloatArray(), 1e-6f);
                ema.swap(blockOf(list));
                assertArrayEquals(new float[] {0f, 0f}, w.getArray().toFloatArray());
                ema.copyTo(blockOf(list));
                assertArrayEquals(expected, w.getArray().toFloatArray(), 1e-6f);
                assertEquals(2, ema.updates());
            }
        }
    }

    @Test
    void aRestoredRandomContinuesExactlyIncludingTheCachedGaussian() {
        Random random = new Random(42);
        random.nextGaussian();                                               // leaves the second Gaussian cached
        Random restored = RandomState.decode(RandomState.encode(random));
        for (int i = 0; i < 5; i++) {
            assertEquals(random.nextGaussian(), restored.nextGaussian());
            assertEquals(random.nextInt(1000), restored.nextInt(1000));
        }
        assertThrows(IllegalArgumentException.class, () -> RandomState.decode("bm90IGEgcmFuZG9t"));
    }
}
