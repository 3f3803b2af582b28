package dalle2.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import dalle2.djl.DjlRuntime;
import org.junit.jupiter.api.Test;

class TimestepEmbedderTest {

    @Test
    void sinusoidalFeaturesAreCosinesThenSinesOfGeometricFrequencies() {
        try (NDManager manager = DjlRuntime.newManager()) {
            float[] features = TimestepEmbedder.sinusoidal(manager.create(new long[] {0, 10})).toFloatArray();
            assertEquals(256, features.length);
            assertEquals(1f, features[0], 1e-6f);            // cos(0)
            assertEquals(0f, features[64], 1e-6f);           // sin(0)
            assertEquals((float) Math.cos(10), features[128], 1e-5f);
            double f1 = Math.pow(10_000, -1.0 / 64);
            assertEquals((float) Math.sin(10 * f1), features[128 + 65], 1e-5f);
        }
    }

    @Test
    void embedsABatchOfTimestepsToTheModelWidth() {
        try (NDManager manager = DjlRuntime.newManager()) {
            TimestepEmbedder embedder = new TimestepEmbedder(512);
            embedder.initialize(manager, DataType.FLOAT32, new Shape(3));
            NDArray out = embedder.embed(new ParameterStore(manager, false), manager.create(new long[] {0, 500, 999}), false);
            assertArrayEquals(new long[] {3, 512}, out.getShape().getShape());
        }
    }
}
