package dalle2.sampling;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.util.Locale;

/**
 * The forward (noising) process of DDPM: β_t, α_t = 1 − β_t and ᾱ_t = ∏_{s≤t} α_s for t = 0 … T−1.
 *
 * <p>Constants are computed in double precision once; timesteps are 0-based as in the reference
 * implementations (t = 0 is the least noisy step).
 */
public final class NoiseScheduler {

    /** The β schedule. */
    public enum Schedule {
        /** β linear from 1e-4 to 0.02 (Ho et al. 2020, section 4). */
        LINEAR,
        /** ᾱ_t = f(t)/f(0), f(t) = cos²(((t/T)+s)/(1+s)·π/2), s = 0.008, β ≤ 0.999 (Nichol and Dhariwal 2021, eq. 17). */
        COSINE;

        public String configName() {
            return name().toLowerCase(Locale.ROOT);
        }

        public static Schedule fromConfigName(String name) {
            for (Schedule schedule : values()) {
                if (schedule.configName().equalsIgnoreCase(name)) {
                    return schedule;
                }
            }
            throw new IllegalArgumentException("unknown noise schedule '" + name + "': expected linear or cosine");
        }
    }

    public static final int DEFAULT_TIMESTEPS = 1000;
    static final double LINEAR_BETA_START = 1e-4;
    static final double LINEAR_BETA_END = 0.02;
    static final double COSINE_OFFSET = 0.008;
    static final double COSINE_MAX_BETA = 0.999;

    private final Schedule schedule;
    private final double[] betas;
    private final double[] alphasCumprod;

    public NoiseScheduler(Schedule schedule, int timesteps) {
        if (timesteps < 2) {
            throw new IllegalArgumentException("timesteps must be >= 2, got " + timesteps);
        }
        this.schedule = schedule;
        this.betas = schedule == Schedule.LINEAR ? linearBetas(timesteps) : cosineBetas(timesteps);
        this.alphasCumprod = new double[timesteps];
        double product = 1.0;
        for (int t = 0; t < timesteps; t++) {
            product *= 1.0 - betas[t];
            alphasCumprod[t] = product;
        }
    }

    public static NoiseScheduler linear(int timesteps) {
        return new NoiseScheduler(Schedule.LINEAR, timesteps);
    }

    public static NoiseScheduler cosine(int timesteps) {
        return new NoiseScheduler(Schedule.COSINE, timesteps);
    }

    private static double[] linearBetas(int timesteps) {
        double[] betas = new double[timesteps];
        for (int t = 0; t < timesteps; t++) {
            betas[t] = LINEAR_BETA_START + (LINEAR_BETA_END - LINEAR_BETA_START) * t / (timesteps - 1);
        }
        return betas;
    }

    private static double[] cosineBetas(int timesteps) {
        double[] betas = new double[timesteps];
        for (int t = 0; t < timesteps; t++) {
            double beta = 1.0 - cosineF(t + 1, timesteps) / cosineF(t, timesteps);
            betas[t] = Math.min(beta, COSINE_MAX_BETA);
        }
        return betas;
    }

    private static double cosineF(double t, int timesteps) {
        double angle = (t / timesteps + COSINE_OFFSET) / (1 + COSINE_OFFSET) * Math.PI / 2;
        return Math.cos(angle) * Math.cos(angle);
    }

    public Schedule schedule() {
        return schedule;
    }

    /** T, the number of diffusion steps. */
    public int timesteps() {
        return betas.length;
    }

    public double beta(int t) {
        return betas[checked(t)];
    }

    public double alpha(int t) {
        return 1.0 - betas[checked(t)];
    }

    /** ᾱ_t; by convention ᾱ_{−1} = 1 (the clean sample), which DDIM's last step uses. */
    public double alphaBar(int t) {
        return t == -1 ? 1.0 : alphasCumprod[checked(t)];
    }

    /** ᾱ_t for a batch of timesteps, float32, shape (B). */
    public NDArray alphaBar(NDArray timesteps) {
        return perTimestep(timesteps, t -> alphaBar(t));
    }

    /** √ᾱ_t for a batch of timesteps, float32, shape (B). */
    public NDArray sqrtAlphaBar(NDArray timesteps) {
        return perTimestep(timesteps, t -> Math.sqrt(alphaBar(t)));
    }

    /** √(1 − ᾱ_t), computed in double: 1 − ᾱ_t in float32 loses most digits near t = 0. */
    public NDArray sqrtOneMinusAlphaBar(NDArray timesteps) {
        return perTimestep(timesteps, t -> Math.sqrt(1.0 - alphaBar(t)));
    }

    private NDArray perTimestep(NDArray timesteps, java.util.function.IntToDoubleFunction value) {
        long[] ts = timesteps.toType(DataType.INT64, false).toLongArray();
        float[] values = new float[ts.length];
        for (int i = 0; i < ts.length; i++) {
            values[i] = (float) value.applyAsDouble(Math.toIntExact(ts[i]));
        }
        return timesteps.getManager().create(values);
    }

    /**
     * Samples q(x_t | x_0) = N(√ᾱ_t·x₀, (1 − ᾱ_t)·I) with the given noise (Ho et al. 2020, eq. 4).
     *
     * @param x0        clean samples, shape (B, …)
     * @param noise     ε ~ N(0, I), shape of x0
     * @param timesteps int64, shape (B)
     */
    public NDArray addNoise(NDArray x0, NDArray noise, NDArray timesteps) {
        Shape shape = x0.getShape();
        NDArray signal = perSample(sqrtAlphaBar(timesteps), shape);
        NDArray noiseScale = perSample(sqrtOneMinusAlphaBar(timesteps), shape);
        return x0.mul(signal).add(noise.mul(noiseScale));
    }

    /**
     * The target a network of the given prediction type is trained to output for (x₀, ε, t).
     */
    public NDArray target(PredictionType prediction, NDArray x0, NDArray noise, NDArray timesteps) {
        switch (prediction) {
            case EPSILON:
                return noise;
            case SAMPLE:
                return x0;
            case V: {
                // v = √ᾱ·ε − √(1−ᾱ)·x₀ (Salimans and Ho 2022, section 4)
                Shape shape = x0.getShape();
                NDArray signal = perSample(sqrtAlphaBar(timesteps), shape);
                NDArray noiseScale = perSample(sqrtOneMinusAlphaBar(timesteps), shape);
                return noise.mul(signal).sub(x0.mul(noiseScale));
            }
            default:
                throw new IllegalStateException(prediction.toString());
        }
    }

    /** Reshapes per-sample values (B) to (B, 1, 1, …) so they broadcast over a sample of the given shape. */
    public static NDArray perSample(NDArray values, Shape sampleBatchShape) {
        long[] dims = new long[sampleBatchShape.dimension()];
        java.util.Arrays.fill(dims, 1);
        dims[0] = sampleBatchShape.get(0);
        return values.reshape(new Shape(dims));
    }

    private int checked(int t) {
        if (t < 0 || t >= betas.length) {
            throw new IllegalArgumentException("timestep " + t + " outside 0.." + (betas.length - 1));
        }
        return t;
    }
}
