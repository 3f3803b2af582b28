package dalle2.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Parameter;
import ai.djl.nn.ParameterList;
import ai.djl.training.GradientCollector;
import ai.djl.training.ParameterStore;
import ai.djl.training.optimizer.Optimizer;
import ai.djl.training.tracker.Tracker;
import ai.djl.util.Pair;
import dalle2.djl.DjlRuntime;
import java.nio.FloatBuffer;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class DecoderUNetTest {

    private static final int MAX_OVERFIT_STEPS = 120;

    /** 64×64 with one level fewer than the seed, so the shape test stays fast on two cores. */
    static DecoderConfig small64() {
        return DecoderConfig.of(64, 16, List.of(1, 2), 1, List.of(32)).withConditionDim(32);
    }

    @Test
    void outputHasTheInputsShapeAtTheSeedSize() {
        assertOutputShapeEqualsInputShape(DecoderConfig.seed(), 2);
    }

    @Test
    void outputHasTheInputsShapeAt32And64PixelsAndForGreyImages() {
        assertOutputShapeEqualsInputShape(DecoderConfig.tiny(), 3);
        assertOutputShapeEqualsInputShape(small64(), 2);
        assertOutputShapeEqualsInputShape(DecoderConfig.tiny().withImageChannels(1), 2);
        assertOutputShapeEqualsInputShape(scaleShift(), 2);
    }

    /** The tiny decoder with a √D-scaled embedding that scales and shifts the normalised activations. */
    static DecoderConfig scaleShift() {
        return DecoderConfig.tiny().withConditioning(Math.sqrt(32), DecoderConfig.INJECTION_SCALE_SHIFT);
    }

    private static void assertOutputShapeEqualsInputShape(DecoderConfig config, int batch) {
        try (NDManager manager = DjlRuntime.newManager()) {
            Decoder decoder = withRandomWeights(Decoder.create(config, manager), 1);
            int size = config.imageSize();
            NDArray x = manager.randomNormal(new Shape(batch, config.imageChannels(), size, size));
            NDArray out = decoder.predict(x, manager.full(new Shape(batch), 10L),
                    manager.randomNormal(new Shape(batch, config.conditionDim())), manager.ones(new Shape(batch)));
            assertArrayEquals(x.getShape().getShape(), out.getShape().getShape(), config.toString());
            assertTrue(Float.isFinite(out.abs().max().getFloat()));
        }
    }

    @Test
    void aSingleImageGetsTheSameOutputAsInsideABatchThoughItsInnerConvolutionsAreRerouted() {
        try (NDManager manager = DjlRuntime.newManager()) {
            Decoder decoder = Decoder.load(java.nio.file.Path.of("../trained_models/decoder"), manager);
            NDArray x = manager.randomNormal(new Shape(2, 3, 32, 32));
            NDArray t = manager.create(new long[] {500, 20});
            NDArray condition = manager.randomNormal(new Shape(2, decoder.config().conditionDim()));
            NDArray keep = manager.ones(new Shape(2));
            assertTrue(Convolutions.reroutes(manager.zeros(new Shape(1, 64, 16, 16))));
            assertTrue(!Convolutions.reroutes(manager.zeros(new Shape(2, 64, 16, 16))));
            assertTrue(!Convolutions.reroutes(manager.zeros(new Shape(1, 32, 16, 16))));
            float[] batched = DjlRuntime.withoutGradients(() -> decoder.predict(x, t, condition, keep)).toFloatArray();
            for (int i = 0; i < 2; i++) {
                String row = i + ":" + (i + 1);
                float[] alone = DjlRuntime.withoutGradients(() -> decoder.predict(x.get(row), t.get(row),
                        condition.get(row), keep.get(row))).toFloatArray();
                float[] expected = java.util.Arrays.copyOfRange(batched, i * alone.length, (i + 1) * alone.length);
                assertArrayEquals(expected, alone, 2e-4f, "sample " + i);
            }
        }
    }

    @Test
    void aFreshNetworkOutputsZeroBecauseResidualBranchEndsStartAtZero() {
        try (NDManager manager = DjlRuntime.newManager()) {
            Decoder decoder = Decoder.create(DecoderConfig.tiny(), manager);
            NDArray out = decoder.predict(manager.randomNormal(new Shape(1, 3, 32, 32)), manager.create(new long[] {5}),
                    manager.randomNormal(new Shape(1, 32)), manager.ones(new Shape(1)));
            assertEquals(0f, out.abs().max().getFloat());
        }
    }

    @Test
    void keepZeroReplacesTheEmbeddingByTheLearnedNullEmbedding() {
        assertKeepZeroUsesTheNullEmbedding(DecoderConfig.tiny());
    }

    @Test
    void scaleShiftConditioningAlsoDependsOnTheEmbeddingAndHonoursKeepZero() {
        assertKeepZeroUsesTheNullEmbedding(scaleShift());
    }

    private static void assertKeepZeroUsesTheNullEmbedding(DecoderConfig config) {
        try (NDManager manager = DjlRuntime.newManager()) {
            Decoder decoder = withRandomWeights(Decoder.create(config, manager), 2);
            NDArray x = manager.randomNormal(new Shape(2, 3, 32, 32));
            NDArray t = manager.create(new long[] {100, 700});
            NDArray a = manager.randomNormal(new Shape(2, 32));
            NDArray b = manager.randomNormal(new Shape(2, 32));
            NDArray keep = manager.ones(new Shape(2));
            NDArray drop = manager.zeros(new Shape(2));

            NDArray conditionalA = decoder.predict(x, t, a, keep);
            NDArray conditionalB = decoder.predict(x, t, b, keep);
            NDArray unconditionalA = decoder.predict(x, t, a, drop);
            NDArray unconditionalB = decoder.predict(x, t, b, drop);
            NDArray nullEmbedding = nullCondition(decoder).getArray().reshape(1, 32).repeat(0, 2);
            NDArray givenNull = decoder.predict(x, t, nullEmbedding, keep);

            assertTrue(maxDifference(conditionalA, conditionalB) > 1e-3, "the embedding conditions the output");
            assertTrue(maxDifference(conditionalA, unconditionalA) > 1e-3, "keep = 0 changes the output");
            assertEquals(0f, maxDifference(unconditionalA, unconditionalB), 1e-6f, "keep = 0 ignores the embedding");
            assertEquals(0f, maxDifference(unconditionalA, givenNull), 1e-6f, "keep = 0 is the null embedding");
        }
    }

    @Test
    void overfitsFourFixedImagesWithFixedEmbeddings() {
        assertOverfits(DecoderConfig.tiny());
    }

    @Test
    void overfitsWithScaleShiftConditioningToo() {
        assertOverfits(scaleShift());
    }

    private static void assertOverfits(DecoderConfig config) {
        DjlRuntime.configure();
        try (NDManager manager = DjlRuntime.newManager()) {
            Decoder decoder = Decoder.create(config, manager, 3);
            Shape shape = new Shape(4, 3, 32, 32);
            NDArray images = manager.randomUniform(-1f, 1f, shape);
            NDArray embeddings = manager.randomNormal(new Shape(4, 32));
            NDArray timesteps = manager.create(new long[] {50, 300, 600, 900});
            NDArray noise = manager.randomNormal(shape);
            NDArray keep = manager.ones(new Shape(4));
            Optimizer adam = Optimizer.adam().optLearningRateTracker(Tracker.fixed(2e-3f)).build();
            ParameterList parameters = decoder.parameters();

            float first = Float.NaN;
            float last = Float.NaN;
            int step = 0;
            long start = System.nanoTime();
            // a memorised batch gets there in ~40 steps; stop there, the machine is small and shared
            for (; step < MAX_OVERFIT_STEPS && !(last * 10 <= first); step++) {
                try (NDManager scope = manager.newSubManager()) {
                    ParameterStore ps = new ParameterStore(scope, false);
                    try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                        // the step's inputs live in its scope, so the loss's intermediates are freed with it
                        NDArray loss = decoder.loss(ps, inScope(scope, images), inScope(scope, embeddings),
                                inScope(scope, timesteps), inScope(scope, noise), inScope(scope, keep));
                        collector.backward(loss);
                        last = loss.getFloat();
                    }
                    for (Pair<String, Parameter> p : parameters) {
                        NDArray weight = p.getValue().getArray();
                        // getGradient() allocates in the model's manager; Adam zeroes the gradient itself
                        NDArray gradient = weight.getGradient();
                        gradient.attach(scope);
                        adam.update(p.getValue().getId(), weight, gradient);
                    }
                }
                if (step == 0) {
                    first = last;
                }
            }
            System.out.printf("decoder overfit: loss %.4f -> %.5f in %d steps, %.1f s%n", first, last, step,
                    (System.nanoTime() - start) / 1e9);
            assertTrue(last * 10 <= first, "loss fell from " + first + " to " + last);
        }
    }

    /** Fills every parameter (the zero-initialised ones too) with small random values, so every path matters. */
    static Decoder withRandomWeights(Decoder decoder, long seed) {
        addRandomValues(decoder.parameters(), seed);
        return decoder;
    }

    /** Adds small random values to every parameter of a network, scaled by its fan-in. */
    static void addRandomValues(ai.djl.nn.ParameterList parameters, long seed) {
        Random random = new Random(seed);
        for (Pair<String, Parameter> p : parameters) {
            NDArray array = p.getValue().getArray();
            Shape shape = array.getShape();
            double scale = shape.dimension() >= 2 ? 1.0 / Math.sqrt(shape.size() / shape.get(0)) : 0.1;
            float[] values = array.toFloatArray();
            for (int i = 0; i < values.length; i++) {
                values[i] += (float) (random.nextGaussian() * scale);
            }
            array.set(FloatBuffer.wrap(values));
        }
    }

    /** Attaches an array, or a copy when it belongs to a longer-lived manager, to a step's scope. */
    static NDArray inScope(NDManager scope, NDArray array) {
        NDArray copy = array.getManager() == scope ? array : array.duplicate();
        copy.attach(scope);
        return copy;
    }

    static Parameter nullCondition(Decoder decoder) {
        return decoder.parameters().get("null_condition");
    }

    static float maxDifference(NDArray a, NDArray b) {
        return a.sub(b).abs().max().getFloat();
    }
}
