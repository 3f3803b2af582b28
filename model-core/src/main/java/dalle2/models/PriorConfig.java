package dalle2.models;

import dalle2.sampling.NoiseScheduler;
import dalle2.sampling.PredictionType;

/**
 * The architecture and diffusion facts of a diffusion prior, stored as the model directory's
 * {@code config.json} (snake_case, through {@link dalle2.json.Json}).
 *
 * @param modelType           always {@code "prior"}: a decoder or CLIP folder passed by mistake is refused
 * @param formatVersion       version of this file's layout, {@value #FORMAT_VERSION}
 * @param embeddingDim        D, the CLIP embedding width (text condition and predicted image embedding)
 * @param width               the transformer's width
 * @param depth               the number of transformer blocks
 * @param heads               attention heads; must divide {@code width}
 * @param mlpRatio            hidden width of each block's MLP, as a multiple of {@code width}
 * @param timesteps           T, the number of diffusion steps of training
 * @param schedule            {@code "cosine"} or {@code "linear"}
 * @param prediction          {@code "sample"} (x₀, as the DALL·E 2 paper), {@code "epsilon"} (ε, as the seed) or {@code "v"}
 * @param embeddingScale      CLIP embeddings are diffused as {@code embeddingScale · z}; √D makes each dimension
 *                            unit variance (see {@link Prior})
 * @param conditioningDropout probability that training replaces the text embedding by the learned null embedding
 */
public record PriorConfig(
        String modelType,
        int formatVersion,
        int embeddingDim,
        int width,
        int depth,
        int heads,
        int mlpRatio,
        int timesteps,
        String schedule,
        String prediction,
        double embeddingScale,
        double conditioningDropout) {

    public static final String MODEL_TYPE = "prior";
    public static final int FORMAT_VERSION = 1;

    public PriorConfig {
        if (!MODEL_TYPE.equals(modelType)) {
            throw new IllegalArgumentException("model_type must be '" + MODEL_TYPE + "', got '" + modelType + "'");
        }
        if (formatVersion != FORMAT_VERSION) {
            throw new IllegalArgumentException("format_version " + formatVersion + " is not supported (this build reads "
                    + FORMAT_VERSION + ")");
        }
        positive("embedding_dim", embeddingDim);
        positive("width", width);
        positive("depth", depth);
        positive("heads", heads);
        positive("mlp_ratio", mlpRatio);
        if (width % heads != 0) {
            throw new IllegalArgumentException("width " + width + " is not divisible by heads " + heads);
        }
        if (timesteps < 2) {
            throw new IllegalArgumentException("timesteps must be >= 2, got " + timesteps);
        }
        if (schedule == null) {
            throw new IllegalArgumentException("schedule is missing: expected linear or cosine");
        }
        NoiseScheduler.Schedule.fromConfigName(schedule);
        if (prediction == null) {
            throw new IllegalArgumentException("prediction is missing: expected epsilon, sample or v");
        }
        PredictionType.fromConfigName(prediction);
        if (!(embeddingScale > 0) || Double.isInfinite(embeddingScale)) {
            throw new IllegalArgumentException("embedding_scale must be a positive number, got " + embeddingScale);
        }
        if (!(conditioningDropout >= 0 && conditioningDropout < 1)) {
            throw new IllegalArgumentException("conditioning_dropout must be in [0, 1), got " + conditioningDropout);
        }
    }

    private static void positive(String field, int value) {
        if (value < 1) {
            throw new IllegalArgumentException(field + " must be >= 1, got " + value);
        }
    }

    /**
     * A prior with the given sizes and this project's defaults: T = 1000, cosine schedule, x₀ prediction (the
     * paper's choice for the prior), embedding scale √D, conditioning dropout 0.1.
     */
    public static PriorConfig of(int embeddingDim, int width, int depth, int heads) {
        return new PriorConfig(MODEL_TYPE, FORMAT_VERSION, embeddingDim, width, depth, heads, 4,
                NoiseScheduler.DEFAULT_TIMESTEPS, NoiseScheduler.Schedule.COSINE.configName(),
                PredictionType.SAMPLE.configName(), Math.sqrt(embeddingDim), 0.1);
    }

    /** The seed's size: CLIP dim 512, width 512, 6 blocks, 8 heads. */
    public static PriorConfig seed() {
        return of(512, 512, 6, 8);
    }

    /** A network small enough for unit tests: D = 16, width 32, 2 blocks, 4 heads. */
    public static PriorConfig tiny() {
        return of(16, 32, 2, 4);
    }

    /** This config with another prediction target. */
    public PriorConfig withPrediction(PredictionType type) {
        return new PriorConfig(modelType, formatVersion, embeddingDim, width, depth, heads, mlpRatio, timesteps,
                schedule, type.configName(), embeddingScale, conditioningDropout);
    }

    /** The noise schedule this prior was trained with. */
    public NoiseScheduler noiseScheduler() {
        return new NoiseScheduler(NoiseScheduler.Schedule.fromConfigName(schedule), timesteps);
    }

    /** What the network outputs. */
    public PredictionType predictionType() {
        return PredictionType.fromConfigName(prediction);
    }
}
