package dalle2.sampling;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dalle2.djl.DjlRuntime;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class DpmSolverPlusPlus2MSamplerTest {

    /** The schedule the shipped models use. */
    private static final NoiseScheduler SCHEDULER = NoiseScheduler.cosine(1000);
    private static final Shape SAMPLE = new Shape(4, 8, 8);
    private static final long[] SEEDS = {11, 12, 13, 14};
    /** Data x₀ ~ N(μ, s²) in every coordinate. */
    private static final double MEAN = 0.5;
    private static final double STD = 0.2;

    @BeforeAll
    static void offline() {
        DjlRuntime.configure();
    }

    /**
     * The exact network for Gaussian data: E[x₀ | x_t] = μ + α·s²/(α²s² + σ²)·(x_t − α·μ), given as ε, x₀ or v.
     */
    private static Denoiser gaussian(PredictionType prediction) {
        return (noisy, timesteps, condition, keep) -> {
            long[] ts = timesteps.toType(DataType.INT64, false).toLongArray();
            float[] x = noisy.toFloatArray();
            float[] out = new float[x.length];
            int perSample = x.length / ts.length;
            for (int b = 0; b < ts.length; b++) {
                double alphaBar = SCHEDULER.alphaBar((int) ts[b]);
                double alpha = Math.sqrt(alphaBar);
                double sigma = Math.sqrt(1 - alphaBar);
                double gain = alpha * STD * STD / (alphaBar * STD * STD + 1 - alphaBar);
                for (int i = b * perSample; i < (b + 1) * perSample; i++) {
                    double data = MEAN + gain * (x[i] - alpha * MEAN);
                    double epsilon = (x[i] - alpha * data) / sigma;
                    out[i] = (float) switch (prediction) {
                        case EPSILON -> epsilon;
                        case SAMPLE -> data;
                        case V -> alpha * epsilon - sigma * data;
                    };
                }
            }
            return noisy.getManager().create(out, noisy.getShape());
        };
    }

    /**
     * Where the probability-flow ODE takes the start noise, followed by the samplers' own last step (x̂₀ at the
     * last timestep): each coordinate keeps its standard score z = (x_t − α_t·μ)/√(α_t²s² + σ_t²).
     */
    private static float[] exactOdeSolution(float[] start, int lastTimestep) {
        double alphaBarStart = SCHEDULER.alphaBar(SCHEDULER.timesteps() - 1);
        double startScale = Math.sqrt(alphaBarStart * STD * STD + 1 - alphaBarStart);
        double alphaBar = SCHEDULER.alphaBar(lastTimestep);
        double alpha = Math.sqrt(alphaBar);
        double scale = Math.sqrt(alphaBar * STD * STD + 1 - alphaBar);
        double gain = alpha * STD * STD / (scale * scale);
        float[] solution = new float[start.length];
        for (int i = 0; i < start.length; i++) {
            double z = (start[i] - Math.sqrt(alphaBarStart) * MEAN) / startScale;
            double x = alpha * MEAN + scale * z;
            solution[i] = (float) (MEAN + gain * (x - alpha * MEAN));
        }
        return solution;
    }

    private static double rmsError(Sampler sampler, PredictionType prediction, int steps) {
        try (NDManager manager = DjlRuntime.newManager()) {
            NDArray condition = manager.zeros(new Shape(SEEDS.length, 2));
            float[] start = new NoiseStreams(SEEDS).next(manager, SAMPLE).toFloatArray();
            int[] ts = sampler.timesteps(steps);
            float[] exact = exactOdeSolution(start, ts[ts.length - 1]);
            float[] sampled = sampler.sample(gaussian(prediction), condition, SAMPLE, steps, 0f, 1f, SEEDS,
                    Sampler.Progress.NONE).toFloatArray();
            double sum = 0;
            for (int i = 0; i < exact.length; i++) {
                sum += (sampled[i] - exact[i]) * (double) (sampled[i] - exact[i]);
            }
            return Math.sqrt(sum / exact.length);
        }
    }

    @ParameterizedTest
    @EnumSource(PredictionType.class)
    void onGaussianDataItSolvesTheOdeFarMoreAccuratelyThanDdimAtTwentyStepsAndBothConverge(PredictionType prediction) {
        double dpm20 = rmsError(new DpmSolverPlusPlus2MSampler(SCHEDULER, prediction, 0f), prediction, 20);
        double ddim20 = rmsError(new DdimSampler(SCHEDULER, prediction, 0f), prediction, 20);
        double dpm500 = rmsError(new DpmSolverPlusPlus2MSampler(SCHEDULER, prediction, 0f), prediction, 500);
        double ddim500 = rmsError(new DdimSampler(SCHEDULER, prediction, 0f), prediction, 500);
        String errors = String.format("rms error vs the exact ODE solution: DPM-Solver++ 20 steps %.2e, DDIM 20 %.2e, "
                + "DPM-Solver++ 500 %.2e, DDIM 500 %.2e", dpm20, ddim20, dpm500, ddim500);
        // measured: 1.1e-3, 1.4e-2, 1.1e-4, 1.2e-3 for every prediction type
        assertTrue(dpm20 < ddim20 / 5, errors);
        assertTrue(dpm500 < dpm20 / 5, errors);
        assertTrue(ddim500 < ddim20 / 5, errors);
        assertTrue(ddim500 < 0.01 * STD && dpm500 < 0.01 * STD, errors);
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
            return switch (prediction) {
                case EPSILON -> epsilon;
                case SAMPLE -> target;
                case V -> sqrtAlphaBar.mul(epsilon).sub(sqrtOneMinus.mul(target));
            };
        };
    }

    @ParameterizedTest
    @EnumSource(PredictionType.class)
    void withAnOracleEveryStepCountRecoversTheCleanSample(PredictionType prediction) {
        try (NDManager manager = DjlRuntime.newManager()) {
            NDArray x0 = manager.randomUniform(-1f, 1f, new Shape(2).addAll(SAMPLE));
            NDArray condition = manager.zeros(new Shape(2, 8));
            Sampler sampler = new DpmSolverPlusPlus2MSampler(SCHEDULER, prediction, 0f);
            for (int steps : new int[] {1, 2, 10, 50}) {
                NDArray sample = sampler.sample(oracle(x0, prediction), condition, SAMPLE, steps, 0f, 1f,
                        new long[] {1, 2}, Sampler.Progress.NONE);
                float maxError = sample.sub(x0).abs().max().getFloat();
                // ε and v are converted to x̂₀ through 1/√ᾱ ≈ 2·10⁴ at t = 999: float32 leaves ~2e-3 after one step
                assertTrue(maxError < 5e-3, steps + " steps: max |x̂ − x₀| = " + maxError);
            }
        }
    }

    @Test
    void etaAboveZeroIsRefusedWithAClearMessage() {
        try (NDManager manager = DjlRuntime.newManager()) {
            Sampler sampler = new DpmSolverPlusPlus2MSampler(SCHEDULER, PredictionType.EPSILON, 1f);
            IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                    () -> sampler.sample((x, t, c, k) -> x, manager.zeros(new Shape(1, 2)), SAMPLE, 10, 0.5f, 1f,
                            new long[] {1}, Sampler.Progress.NONE));
            assertTrue(refused.getMessage().contains("eta must be 0 for the dpmpp-2m sampler"), refused.getMessage());
        }
    }

    @Test
    void theSameSeedStartsFromTheSameNoiseAsDdim() {
        try (NDManager manager = DjlRuntime.newManager()) {
            // one step is x̂₀ of the start noise for both samplers
            Denoiser model = (noisy, t, c, keep) -> noisy.mul(0.7f).tanh();
            NDArray condition = manager.zeros(new Shape(2, 2));
            long[] seeds = {5, 6};
            float[] ddim = new DdimSampler(SCHEDULER, PredictionType.SAMPLE, 0f)
                    .sample(model, condition, SAMPLE, 1, 0f, 1f, seeds).toFloatArray();
            float[] dpm = new DpmSolverPlusPlus2MSampler(SCHEDULER, PredictionType.SAMPLE, 0f)
                    .sample(model, condition, SAMPLE, 1, 0f, 1f, seeds, Sampler.Progress.NONE).toFloatArray();
            assertArrayEquals(ddim, dpm);
        }
    }

    @Test
    void aSampleDependsOnlyOnItsSeedNotOnItsBatch() {
        try (NDManager manager = DjlRuntime.newManager()) {
            // nonlinear, conditioned, guided: anything that mixed samples would show
            Denoiser model = (noisy, t, c, keep) -> noisy.mul(0.3f).tanh()
                    .add(c.get(":, 0").mul(keep).reshape(-1, 1, 1, 1));
            Sampler sampler = new DpmSolverPlusPlus2MSampler(SCHEDULER, PredictionType.SAMPLE, 0f);
            NDArray one = manager.ones(new Shape(1, 8));
            float[] alone = sampler.sample(model, one, SAMPLE, 12, 0f, 3f, new long[] {7}, Sampler.Progress.NONE)
                    .toFloatArray();
            float[] again = sampler.sample(model, one, SAMPLE, 12, 0f, 3f, new long[] {7}, Sampler.Progress.NONE)
                    .toFloatArray();
            float[] otherSeed = sampler.sample(model, one, SAMPLE, 12, 0f, 3f, new long[] {8}, Sampler.Progress.NONE)
                    .toFloatArray();
            NDArray mixed = manager.create(new float[] {5, 5, 5, 5, 5, 5, 5, 5, 1, 1, 1, 1, 1, 1, 1, 1}, new Shape(2, 8));
            float[] inBatch = sampler.sample(model, mixed, SAMPLE, 12, 0f, 3f, new long[] {99, 7}, Sampler.Progress.NONE)
                    .get("1:2").toFloatArray();
            assertArrayEquals(alone, again);
            assertArrayEquals(alone, inBatch, 1e-6f);
            float difference = 0;
            for (int i = 0; i < alone.length; i++) {
                difference = Math.max(difference, Math.abs(alone[i] - otherSeed[i]));
            }
            assertTrue(difference > 1e-3, "another seed changed the sample by only " + difference);
        }
    }

    @Test
    void pixelsAreClampedAndTheNetworkRunsOncePerStepAtDdimsTimesteps() {
        try (NDManager manager = DjlRuntime.newManager()) {
            List<Long> visited = new ArrayList<>();
            List<Integer> progress = new ArrayList<>();
            Denoiser wild = (noisy, t, c, keep) -> {
                visited.add(t.toType(DataType.INT64, false).toLongArray()[0]);
                return noisy.mul(-40f);
            };
            Sampler sampler = new DpmSolverPlusPlus2MSampler(SCHEDULER, PredictionType.EPSILON, 1f);
            NDArray images = sampler.sample(wild, manager.zeros(new Shape(1, 2)), SAMPLE, 6, 0f, 1f, new long[] {3},
                    (done, total) -> progress.add(done));
            assertTrue(images.abs().max().getFloat() <= 1f);
            int[] ddimTimesteps = new DdimSampler(SCHEDULER, PredictionType.EPSILON, 1f).timesteps(6);
            assertEquals(ddimTimesteps.length, visited.size());
            for (int i = 0; i < ddimTimesteps.length; i++) {
                assertEquals(ddimTimesteps[i], visited.get(i));
            }
            assertEquals(List.of(1, 2, 3, 4, 5, 6), progress);
        }
    }

    @Test
    void clampedOnlyAtZeroSnrTheDataPredictionIsClampedAtTheLastTimestepOnly() {
        try (NDManager manager = DjlRuntime.newManager()) {
            DpmSolverPlusPlus2MSampler sampler = new DpmSolverPlusPlus2MSampler(SCHEDULER, PredictionType.EPSILON,
                    SampleClamp.atZeroSnr(1f));
            NDArray x = manager.create(new float[] {-1.5f, 0.4f}, new Shape(1, 2));
            NDArray output = x.add(0.1f);
            float[] atZeroSnr = sampler.dataPrediction(x, output, 999).toFloatArray();
            assertArrayEquals(new float[] {-1f, -1f}, atZeroSnr);
            float[] next = sampler.dataPrediction(x, output, 979).toFloatArray();
            float[] expected = PredictionType.EPSILON.predictedSample(x, output, SCHEDULER.alphaBar(979)).toFloatArray();
            assertArrayEquals(expected, next, 1e-5f);
            assertTrue(next[0] < -2f, "x̂₀ at t = 979 is the network's, unclamped: " + next[0]);
        }
    }

    @Test
    void lambdaIsFiniteAtTheCosineSchedulesNoisiestStep() {
        DpmSolverPlusPlus2MSampler sampler = new DpmSolverPlusPlus2MSampler(SCHEDULER, PredictionType.EPSILON, 1f);
        // ᾱ_999 ≈ 2.4e-9 because β is clipped to 0.999: λ ≈ −9.9, far below λ_998 ≈ −6.5
        double lambda = sampler.lambda(999);
        assertTrue(Double.isFinite(lambda) && lambda < -9 && lambda > -11, "λ_999 = " + lambda);
        assertTrue(sampler.lambda(998) > lambda + 3);
    }
}
