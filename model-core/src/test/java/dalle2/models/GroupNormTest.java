package dalle2.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
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
    void forwardPassesLeaveNothingBehindInTheModelsManagerButTheTwoIdentityConstants() {
        try (NDManager model = DjlRuntime.newManager()) {
            GroupNorm norm = GroupNorm.forChannels(8);
            norm.initialize(model, DataType.FLOAT32, new Shape(1, 8, 4, 4));
            int parameters = model.getManagedArrays().size();
            try (NDManager step = model.newSubManager()) {
                norm.forward(new ParameterStore(step, false), new NDList(step.randomNormal(new Shape(1, 8, 4, 4))),
                        false);
            }
            int before = model.getManagedArrays().size();
            assertEquals(parameters + 2, before, "the ones and zeros of the identity affine, made once");
            for (int i = 0; i < 10; i++) {
                try (NDManager step = model.newSubManager()) {
                    norm.forward(new ParameterStore(step, false), new NDList(step.randomNormal(new Shape(1, 8, 4, 4))),
                            false);
                }
            }
            assertEquals(before, model.getManagedArrays().size());
        }
    }

    @Test
    void gradientsWithRespectToInputScaleAndShiftMatchTheTextbookFormula() {
        int batch = 3, channels = 8, groups = 4, side = 5;
        Shape shape = new Shape(batch, channels, side, side);
        try (NDManager manager = DjlRuntime.newManager()) {
            manager.getEngine().setRandomSeed(11);
            NDArray input = manager.randomNormal(0f, 2f, shape, DataType.FLOAT32).add(0.5f);
            NDArray weights = manager.randomNormal(shape);                       // loss = Σ w · norm(x)
            NDArray gamma = manager.randomNormal(new Shape(channels));
            NDArray beta = manager.randomNormal(new Shape(channels));

            float[][] fused = gradients(input, weights, gamma, beta, (x, g, b) -> {
                GroupNorm norm = new GroupNorm(groups, channels);
                norm.initialize(manager, DataType.FLOAT32, shape);
                norm.getParameters().get("gamma").getArray().set(g.toFloatArray());
                norm.getParameters().get("beta").getArray().set(b.toFloatArray());
                NDArray gammaParameter = norm.getParameters().get("gamma").getArray();
                NDArray betaParameter = norm.getParameters().get("beta").getArray();
                gammaParameter.setRequiresGradient(true);
                betaParameter.setRequiresGradient(true);
                NDArray y = norm.forward(new ParameterStore(manager, false), new NDList(x), true).singletonOrThrow();
                return new NDArray[] {y, gammaParameter, betaParameter};
            });
            float[][] textbook = gradients(input, weights, gamma, beta, (x, g, b) -> {
                g.setRequiresGradient(true);
                b.setRequiresGradient(true);
                NDArray grouped = x.reshape(batch, groups, -1);
                NDArray centered = grouped.sub(grouped.mean(new int[] {2}, true));
                NDArray variance = centered.square().mean(new int[] {2}, true);
                NDArray normalised = centered.div(variance.add(manager.create(GroupNorm.EPSILON)).sqrt()).reshape(shape);
                NDArray y = normalised.mul(g.reshape(1, channels, 1, 1)).add(b.reshape(1, channels, 1, 1));
                return new NDArray[] {y, g, b};
            });

            String[] names = {"output", "d/dx", "d/dγ", "d/dβ"};
            for (int k = 0; k < names.length; k++) {
                assertEquals(textbook[k].length, fused[k].length, names[k]);
                for (int i = 0; i < fused[k].length; i++) {
                    assertEquals(textbook[k][i], fused[k][i], 2e-5 * (1 + Math.abs(textbook[k][i])),
                            names[k] + " element " + i);
                }
            }
        }
    }

    /** f gives {y, γ, β} with γ and β tracked; returns y, then the gradients of Σ w·y for x, γ and β. */
    private static float[][] gradients(NDArray input, NDArray weights, NDArray gamma, NDArray beta,
                                       NormFunction f) {
        NDArray x = input.duplicate();
        x.setRequiresGradient(true);
        try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            NDArray[] out = f.apply(x, gamma.duplicate(), beta.duplicate());
            collector.backward(out[0].mul(weights).sum());
            return new float[][] {out[0].toFloatArray(), x.getGradient().toFloatArray(),
                    out[1].getGradient().toFloatArray(), out[2].getGradient().toFloatArray()};
        }
    }

    @FunctionalInterface
    private interface NormFunction {
        NDArray[] apply(NDArray x, NDArray gamma, NDArray beta);
    }
}
