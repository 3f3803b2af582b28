package dalle2.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dalle2.djl.DjlRuntime;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class GuidedDenoiserTest {

    @BeforeAll
    static void offline() {
        DjlRuntime.configure();
    }

    @Test
    void guidanceExtrapolatesFromTheUnconditionalOutputAndOneRunsOnlyTheConditionalPass() {
        try (NDManager manager = DjlRuntime.newManager()) {
            List<Long> batchSizes = new ArrayList<>();
            // conditional output 2, unconditional 0.5
            Denoiser model = (noisy, t, c, keep) -> {
                batchSizes.add(noisy.getShape().get(0));
                return keep.mul(1.5f).add(0.5f).reshape(-1, 1).broadcast(noisy.getShape());
            };
            NDArray x = manager.zeros(new Shape(2, 3));
            NDArray condition = manager.zeros(new Shape(2, 4));
            assertArrayEquals(new float[] {5, 5, 5, 5, 5, 5},
                    new GuidedDenoiser(model, 3f).predict(x, condition, 10).toFloatArray());
            assertArrayEquals(new float[] {2, 2, 2, 2, 2, 2},
                    new GuidedDenoiser(model, 1f).predict(x, condition, 10).toFloatArray());
            assertEquals(List.of(4L, 2L), batchSizes);
        }
    }

    @Test
    void negativeOrInfiniteGuidanceIsRefused() {
        Denoiser model = (noisy, t, c, keep) -> noisy;
        assertThrows(IllegalArgumentException.class, () -> new GuidedDenoiser(model, -1f));
        assertThrows(IllegalArgumentException.class, () -> new GuidedDenoiser(model, Float.POSITIVE_INFINITY));
        assertThrows(IllegalArgumentException.class, () -> new GuidedDenoiser(model, Float.NaN));
    }
}
