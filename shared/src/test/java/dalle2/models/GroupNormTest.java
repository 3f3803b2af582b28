package dalle2.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import dalle2.djl.DjlRuntime;
import java.nio.FloatBuffer;
import java.util.Random;
import org.junit.jupiter.api.Test;

class GroupNormTest {

    @Test
    void normalisesEachGroupOfEachSampleThenScalesAndShiftsEachChannel() {
        int batch = 2, channels = 6, groups = 3, height = 2, width = 3;
        int positions = height * width;
        float[] input = new float[batch * channels * positions];
        Random random = new Random(7);
        for (int i = 0; i < input.length; i++) {
            input[i] = (float) (random.nextGaussian() * (1 + i % 5) + i % 3);
        }
        float[] gamma = {0.5f, 1f, 1.5f, 2f, -1f, 3f};
        float[] beta = {0f, 0.1f, -0.2f, 0.3f, 1f, -1f};

        // by hand: statistics over the (channels/groups)·H·W values of each (sample, group)
        double[] expected = new double[input.length];
        int perGroup = channels / groups * positions;
        for (int b = 0; b < batch; b++) {
            for (int g = 0; g < groups; g++) {
                int start = (b * channels + g * channels / groups) * positions;
                double mean = 0;
                for (int i = 0; i < perGroup; i++) {
                    mean += input[start + i];
                }
                mean /= perGroup;
                double variance = 0;
                for (int i = 0; i < perGroup; i++) {
                    variance += Math.pow(input[start + i] - mean, 2);
                }
                variance /= perGroup;
                for (int i = 0; i < perGroup; i++) {
                    int channel = g * channels / groups + i / positions;
                    expected[start + i] = (input[start + i] - mean) / Math.sqrt(variance + 1e-5) * gamma[channel]
                            + beta[channel];
                }
            }
        }

        try (NDManager manager = DjlRuntime.newManager()) {
            GroupNorm norm = new GroupNorm(groups, channels);
            Shape shape = new Shape(batch, channels, height, width);
            norm.initialize(manager, DataType.FLOAT32, shape);
            norm.getParameters().get("gamma").getArray().set(FloatBuffer.wrap(gamma));
            norm.getParameters().get("beta").getArray().set(FloatBuffer.wrap(beta));
            NDArray out = norm.forward(new ParameterStore(manager, false), new NDList(manager.create(input, shape)),
                    false).singletonOrThrow();

            assertArrayEquals(shape.getShape(), out.getShape().getShape());
            float[] actual = out.toFloatArray();
            for (int i = 0; i < actual.length; i++) {
                assertEquals(expected[i], actual[i], 1e-4, "element " + i);
            }
        }
    }

    @Test
    void usesUpToThirtyTwoGroupsOfAtLeastFourChannels() {
        assertEquals(32, GroupNorm.forChannels(256).groups());
        assertEquals(32, GroupNorm.forChannels(128).groups());
        assertEquals(16, GroupNorm.forChannels(64).groups());
        assertEquals(12, GroupNorm.forChannels(48).groups());
        assertEquals(4, GroupNorm.forChannels(16).groups());
        assertEquals(1, GroupNorm.forChannels(3).groups());
        assertThrows(IllegalArgumentException.class, () -> new GroupNorm(4, 6));
    }

    @Test
    void aForwardPassLeavesNothingBehindInTheModelsManager() {
        try (NDManager model = DjlRuntime.newManager()) {
            GroupNorm norm = GroupNorm.forChannels(8);
            norm.initialize(model, DataType.FLOAT32, new Shape(1, 8, 4, 4));
            int before = model.getManagedArrays().size();
            for (int i = 0; i < 10; i++) {
                try (NDManager step = model.newSubManager()) {
                    norm.forward(new ParameterStore(step, false), new NDList(step.randomNormal(new Shape(1, 8, 4, 4))),
                            false);
                }
            }
            assertEquals(before, model.getManagedArrays().size());
        }
    }
}
