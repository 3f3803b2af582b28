package dalle2.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dalle2.djl.DjlRuntime;
import org.junit.jupiter.api.Test;

class NoiseSchedulerTest {

    @Test
    void linearAlphaBarIsTheProductOfOneMinusLinearlySpacedBetas() {
        NoiseScheduler scheduler = NoiseScheduler.linear(1000);
        for (int t : new int[] {0, 499, 999}) {
            double expected = 1.0;
            for (int s = 0; s <= t; s++) {
                expected *= 1.0 - (1e-4 + (0.02 - 1e-4) * s / 999.0);
            }
            assertEquals(expected, scheduler.alphaBar(t), 1e-12, "t=" + t);
        }
        assertEquals(1e-4, scheduler.beta(0), 1e-15);
        assertEquals(0.02, scheduler.beta(999), 1e-15);
        // closed-form figures of the DDPM schedule (log ᾱ_999 = Σ log(1 − β_s))
        assertEquals(0.9999, scheduler.alphaBar(0), 1e-12);
        assertEquals(4.0358e-5, scheduler.alphaBar(999), 1e-8);
    }

    @Test
    void cosineAlphaBarFollowsTheSquaredCosineUntilBetaIsClipped() {
        NoiseScheduler scheduler = NoiseScheduler.cosine(1000);
        double f0 = Math.pow(Math.cos(0.008 / 1.008 * Math.PI / 2), 2);
        for (int t : new int[] {0, 499}) {
            double angle = ((t + 1) / 1000.0 + 0.008) / 1.008 * Math.PI / 2;
            assertEquals(Math.pow(Math.cos(angle), 2) / f0, scheduler.alphaBar(t), 1e-12, "t=" + t);
        }
        // at t = 999 the closed form reaches 0: β is clipped to 0.999, so ᾱ_999 = ᾱ_998 · 0.001
        assertEquals(0.999, scheduler.beta(999), 1e-15);
        assertEquals(scheduler.alphaBar(998) * 0.001, scheduler.alphaBar(999), 1e-18);
        assertTrue(scheduler.alphaBar(999) > 0);
    }

    @Test
    void addNoiseScalesTheSampleAndTheNoisePerTimestep() {
        DjlRuntime.configure();
        NoiseScheduler scheduler = NoiseScheduler.linear(1000);
        try (NDManager manager = DjlRuntime.newManager()) {
            NDArray x0 = manager.ones(new ai.djl.ndarray.types.Shape(2, 3));
            NDArray noise = manager.full(new ai.djl.ndarray.types.Shape(2, 3), 2f);
            NDArray t = manager.create(new long[] {0, 999});
            float[] noisy = scheduler.addNoise(x0, noise, t).toFloatArray();
            double a0 = scheduler.alphaBar(0);
            double a999 = scheduler.alphaBar(999);
            assertEquals(Math.sqrt(a0) + 2 * Math.sqrt(1 - a0), noisy[0], 1e-6);
            assertEquals(Math.sqrt(a999) + 2 * Math.sqrt(1 - a999), noisy[5], 1e-6);
        }
    }

    @Test
    void timestepsOutsideTheScheduleAreRefused() {
        NoiseScheduler scheduler = NoiseScheduler.linear(10);
        assertThrows(IllegalArgumentException.class, () -> scheduler.alphaBar(10));
        assertThrows(IllegalArgumentException.class, () -> new NoiseScheduler(NoiseScheduler.Schedule.LINEAR, 1));
    }
}
