package dalle2.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dalle2.djl.DjlRuntime;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class DdimSamplerTest {

    private static final NoiseScheduler SCHEDULER = NoiseScheduler.linear(1000);
    private static final Shape SAMPLE = new Shape(3, 4, 4);

    @BeforeAll
    static void offline() {
        DjlRuntime.configure();
    }

    /** A network that knows the answer: it returns the ε (or x₀, or v) that turns x_t into the known x₀. */
    private static Denoiser oracle(NDArray x0, PredictionType prediction) {
        return (noisy, timesteps, condition, keep) -> {
            NDArray target = x0.duplicate();
            target.attach(noisy.getManager());
            NDArray alphaBar = NoiseScheduler.perSample(SCHEDULER.alphaBar(timesteps), noisy.getShape());
            NDArray sqrtAlphaBar = alphaBar.sqrt();
            NDArray sqrtOneMinus = alphaBar.neg().add(1f).sqrt();
            NDArray epsilon = noisy.sub(target.mul(sqrtAlphaBar)).div(sqrtOneMinus);
            switch (prediction) {
                case EPSILON:
                    return epsilon;
                case SAMPLE:
                    return target;
                default:
                    return sqrtAlphaBar.mul(epsilon).sub(sqrtOneMinus.mul(target));
            }
        };
    }

    @ParameterizedTest(name = "{0} with {1} steps")
    @CsvSource({"EPSILON,1", "EPSILON,10", "EPSILON,50", "SAMPLE,1", "SAMPLE,10", "SAMPLE,50", "V,1", "V,10", "V,50"})
    void deterministicDdimWithAnOracleRecoversTheCleanSample(PredictionType prediction, int steps) {
        try (NDManager manager = DjlRuntime.newManager()) {
            NDArray x0 = manager.randomUniform(-1f, 1f, new Shape(2).addAll(SAMPLE));
            NDArray condition = manager.zeros(new Shape(2, 8));
            DdimSampler sampler = new DdimSampler(SCHEDULER, prediction, 0f);
            NDArray sample = sampler.sample(oracle(x0, prediction), condition, SAMPLE, steps, 0f, 1f, new long[] {1, 2});
            float maxError = sample.sub(x0).abs().max().getFloat();
            assertTrue(maxError < 1e-4, "max |x̂ − x₀| = " + maxError);
        }
    }

    @ParameterizedTest(name = "{0} from t = 400")
    @CsvSource({"EPSILON", "SAMPLE", "V"})
    void denoisingFromAnIntermediateStepWithAnOracleRecoversTheCleanSample(PredictionType prediction) {
        try (NDManager manager = DjlRuntime.newManager()) {
            NDArray x0 = manager.randomUniform(-1f, 1f, new Shape(2).addAll(SAMPLE));
            NDArray condition = manager.zeros(new Shape(2, 8));
            DdimSampler sampler = new DdimSampler(SCHEDULER, prediction, 0f);
            NDArray start = SCHEDULER.addNoise(x0, manager.randomNormal(x0.getShape()), manager.create(new long[] {400, 400}));
            NDArray sample = sampler.denoise(oracle(x0, prediction), condition, start,
                    Sampler.trailingTimesteps(401, 5), 1f, Sampler.Progress.NONE);
            assertTrue(sample.sub(x0).abs().max().getFloat() < 1e-4);
            org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> sampler.denoise(
                    oracle(x0, prediction), condition, start, new int[] {400, 400}, 1f, Sampler.Progress.NONE));
        }
    }

    @Test
    void stochasticSamplingIsReproducibleForAFixedSeedAndDiffersAcrossSeeds() {
        try (NDManager manager = DjlRuntime.newManager()) {
            Denoiser shrink = (noisy, t, c, keep) -> noisy.mul(0.5f);
            DdimSampler sampler = new DdimSampler(SCHEDULER, PredictionType.EPSILON, 1f);
            NDArray condition = manager.zeros(new Shape(1, 8));
            float[] first = sampler.sample(shrink, condition, SAMPLE, 10, 0.7f, 1f, new long[] {42}).toFloatArray();
            float[] again = sampler.sample(shrink, condition, SAMPLE, 10, 0.7f, 1f, new long[] {42}).toFloatArray();
            float[] other = sampler.sample(shrink, condition, SAMPLE, 10, 0.7f, 1f, new long[] {43}).toFloatArray();
            assertArrayEquals(first, again);
            assertTrue(maxDifference(first, other) > 1e-3);
        }
    }

    @Test
    void aSampleDoesNotDependOnTheOtherSamplesOfItsBatch() {
        try (NDManager manager = DjlRuntime.newManager()) {
            Denoiser model = (noisy, t, c, keep) -> noisy.mul(0.3f).add(c.get(":, 0").reshape(-1, 1, 1, 1));
            DdimSampler sampler = new DdimSampler(SCHEDULER, PredictionType.EPSILON, 1f);
            NDArray alone = sampler.sample(model, manager.ones(new Shape(1, 8)), SAMPLE, 20, 0.5f, 3f, new long[] {7});
            NDArray batch = sampler.sample(model, manager.create(new float[] {5, 5, 5, 5, 5, 5, 5, 5, 1, 1, 1, 1, 1, 1, 1, 1},
                    new Shape(2, 8)), SAMPLE, 20, 0.5f, 3f, new long[] {99, 7});
            assertArrayEquals(alone.toFloatArray(), batch.get("1:2").toFloatArray(), 1e-6f);
        }
    }

    @Test
    void guidanceOneRunsOnlyTheConditionalPassAndOtherScalesExtrapolate() {
        try (NDManager manager = DjlRuntime.newManager()) {
            int[] batchSizes = new int[2];
            Denoiser model = (noisy, t, c, keep) -> {
                batchSizes[noisy.getShape().get(0) == 1 ? 0 : 1]++;
                // ε = keep: 1 for the conditional pass, 0 for the unconditional one
                return keep.reshape(-1, 1, 1, 1).broadcast(noisy.getShape());
            };
            DdimSampler sampler = new DdimSampler(SCHEDULER, PredictionType.EPSILON, 0f);
            NDArray x = manager.zeros(new Shape(1).addAll(SAMPLE));
            NDArray condition = manager.zeros(new Shape(1, 8));
            x.attach(manager);
            // one step from t = 999 straight to x₀ with guidance w: ε̃ = 0 + w·(1 − 0) = w
            sampler.sample(model, condition, SAMPLE, 3, 0f, 1f, new long[] {1});
            assertEquals(3, batchSizes[0]);
            assertEquals(0, batchSizes[1]);
            sampler.sample(model, condition, SAMPLE, 3, 0f, 4f, new long[] {1});
            assertEquals(3, batchSizes[1]);
        }
    }

    @Test
    void clampedOnlyAtZeroSnrAStepAtTheLastTimestepClampsAndTheNextFollowsTheNetwork() {
        try (NDManager manager = DjlRuntime.newManager()) {
            NoiseScheduler cosine = NoiseScheduler.cosine(1000);
            DdimSampler zeroSnr = new DdimSampler(cosine, PredictionType.EPSILON, SampleClamp.atZeroSnr(1f));
            DdimSampler everyStep = new DdimSampler(cosine, PredictionType.EPSILON, 1f);
            DdimSampler never = new DdimSampler(cosine, PredictionType.EPSILON, SampleClamp.NONE);
            NDArray x = manager.create(new float[] {-1.5f, -0.2f, 0.4f, 1.1f}, new Shape(1, 4));
            // ε̂ off by 0.1 from x: x̂₀ is far outside [−1, 1] at both timesteps (32× the error at t = 979)
            NDArray output = x.add(manager.create(new float[] {0.1f, -0.1f, 0.1f, 0.1f}, new Shape(1, 4)));
            assertArrayEquals(everyStep.update(x, output, 999, 979, 0f, null).toFloatArray(),
                    zeroSnr.update(x, output, 999, 979, 0f, null).toFloatArray());
            float[] unclamped = never.update(x, output, 979, 959, 0f, null).toFloatArray();
            assertArrayEquals(unclamped, zeroSnr.update(x, output, 979, 959, 0f, null).toFloatArray());
            assertTrue(maxDifference(unclamped, everyStep.update(x, output, 979, 959, 0f, null).toFloatArray()) > 1e-2);
            // the unclamped step at t = 999 would carry the error 631-fold into x_979
            assertTrue(never.update(x, output, 999, 979, 0f, null).abs().max().getFloat() > 50f);
        }
    }

    @Test
    void timestepsStartAtTheNoisiestStepAndAreEvenlySpaced() {
        DdimSampler sampler = new DdimSampler(SCHEDULER, PredictionType.EPSILON, 0f);
        assertArrayEquals(new int[] {999}, sampler.timesteps(1));
        assertArrayEquals(new int[] {999, 749, 499, 249}, sampler.timesteps(4));
        assertEquals(0, sampler.timesteps(1000)[999]);
    }

    private static float maxDifference(float[] a, float[] b) {
        float max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }
}
