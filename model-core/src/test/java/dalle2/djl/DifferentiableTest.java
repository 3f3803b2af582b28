package dalle2.djl;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.training.GradientCollector;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@link Differentiable} must be a drop-in replacement for DJL's {@code op(Number)} overloads: the same values
 * and the same gradients, bit for bit (the garbage-collection half of its contract is
 * {@code BackwardAfterGarbageCollectionTest}).
 */
class DifferentiableTest {

    private static final float[] X = {-3f, -0.5f, -1e-13f, 0f, 1e-13f, 0.25f, 0.5f, 2f, 7f};

    @BeforeAll
    static void offline() {
        DjlRuntime.configure();
    }

    /** Values then gradients of sum(f(x)) with respect to x. */
    private static float[][] valueAndGradient(Function<NDArray, NDArray> f) {
        try (NDManager manager = DjlRuntime.newManager()) {
            NDArray x = manager.create(X);
            x.setRequiresGradient(true);
            float[] value;
            try (GradientCollector collector = Engine.getInstance().newGradientCollector()) {
                NDArray y = f.apply(x);
                value = y.toFloatArray();
                collector.backward(y.sum());
            }
            return new float[][] {value, x.getGradient().toFloatArray()};
        }
    }

    private static void assertSameAs(Function<NDArray, NDArray> djl, Function<NDArray, NDArray> ours) {
        float[][] expected = valueAndGradient(djl);
        float[][] actual = valueAndGradient(ours);
        assertArrayEquals(expected[0], actual[0], "values");
        assertArrayEquals(expected[1], actual[1], "gradients");
    }

    @Test
    void mulDivMaximumAndMinimumMatchDjlsNumberOverloadsBitForBit() {
        assertSameAs(x -> x.mul(0.3f), x -> Differentiable.mul(x, 0.3f));
        assertSameAs(x -> x.div(3f), x -> Differentiable.div(x, 3f));
        assertSameAs(x -> x.maximum(1e-12f), x -> Differentiable.maximum(x, 1e-12f));
        assertSameAs(x -> x.minimum(0.5f), x -> Differentiable.minimum(x, 0.5f));
    }

    @Test
    void siluMatchesDjlsSwishWithBetaOneBitForBit() {
        assertSameAs(x -> Activation.swish(x, 1f), Differentiable::silu);
    }

    @Test
    void theConstantIsAScalarOfTheInputsTypeInTheInputsManager() {
        try (NDManager manager = DjlRuntime.newManager(); NDManager step = manager.newSubManager()) {
            NDArray x = step.create(new float[] {1f, 2f});
            NDArray c = Differentiable.constant(x, 0.125f);
            assertSame(step, c.getManager());
            assertEquals(new Shape(), c.getShape());
            assertEquals(x.getDataType(), c.getDataType());
            assertEquals(0.125f, c.getFloat());
        }
    }
}
