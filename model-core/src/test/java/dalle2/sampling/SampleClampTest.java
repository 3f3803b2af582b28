package dalle2.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dalle2.djl.DjlRuntime;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class SampleClampTest {

    private static final NoiseScheduler COSINE = NoiseScheduler.cosine(1000);

    @BeforeAll
    static void offline() {
        DjlRuntime.configure();
    }

    @Test
    void atZeroSnrClampsOnlyTheCosineSchedulesLastTimestep() {
        SampleClamp clamp = SampleClamp.atZeroSnr(1f);
        assertTrue(clamp.clampsAt(COSINE.alphaBar(999)), "ᾱ_999 = " + COSINE.alphaBar(999));
        for (int t = 0; t < 999; t++) {
            assertFalse(clamp.clampsAt(COSINE.alphaBar(t)), "t = " + t + ", ᾱ = " + COSINE.alphaBar(t));
        }
    }

    @Test
    void everyStepClampsEverywhereAndZeroMeansNever() {
        assertTrue(SampleClamp.everyStep(1f).clampsAt(COSINE.alphaBar(0)));
        assertTrue(SampleClamp.everyStep(1f).clampsAt(1.0));
        assertSame(SampleClamp.NONE, SampleClamp.everyStep(0f));
        assertSame(SampleClamp.NONE, SampleClamp.everyStep(Float.NaN));
        assertFalse(SampleClamp.NONE.clampsAt(COSINE.alphaBar(999)));
    }

    @Test
    void applyClampsToTheLimitWhereItClampsAndReturnsTheValuesElsewhere() {
        try (NDManager manager = DjlRuntime.newManager()) {
            NDArray x0 = manager.create(new float[] {-3f, -0.5f, 0.5f, 3f}, new Shape(1, 4));
            SampleClamp clamp = SampleClamp.atZeroSnr(1f);
            assertArrayEquals(new float[] {-1f, -0.5f, 0.5f, 1f},
                    clamp.apply(x0, COSINE.alphaBar(999)).toFloatArray());
            assertArrayEquals(new float[] {-3f, -0.5f, 0.5f, 3f},
                    clamp.apply(x0, COSINE.alphaBar(998)).toFloatArray());
        }
    }

    @Test
    void theResultIsClampedToTheLimitUnlessThereIsNone() {
        try (NDManager manager = DjlRuntime.newManager()) {
            NDArray x0 = manager.create(new float[] {-3f, 0.5f, 3f});
            assertArrayEquals(new float[] {-1f, 0.5f, 1f}, SampleClamp.atZeroSnr(1f).result(x0).toFloatArray());
            assertArrayEquals(new float[] {-3f, 0.5f, 3f}, SampleClamp.NONE.result(x0).toFloatArray());
        }
    }

    @Test
    void aNegativeOrInfiniteLimitOrAnAlphaBarOutsideTheUnitIntervalIsRefused() {
        assertThrows(IllegalArgumentException.class, () -> new SampleClamp(-1f, 1.0));
        assertThrows(IllegalArgumentException.class, () -> new SampleClamp(Float.POSITIVE_INFINITY, 1.0));
        assertThrows(IllegalArgumentException.class, () -> new SampleClamp(1f, 1.5));
        assertThrows(IllegalArgumentException.class, () -> new SampleClamp(1f, Double.NaN));
    }
}
