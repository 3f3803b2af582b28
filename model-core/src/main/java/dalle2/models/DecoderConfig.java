package dalle2.models;

import com.fasterxml.jackson.annotation.JsonIgnore;
import dalle2.json.Json;
import dalle2.sampling.NoiseScheduler;
import dalle2.sampling.PredictionType;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Architecture and diffusion facts of a decoder, stored as the {@code config.json} of its model directory
 * (snake_case, {@link Json}). Every field is required in the file; defaults live in {@link #of}.
 *
 * @param modelType            always {@code "decoder"}, so a prior's or CLIP's folder is not loaded as one
 * @param formatVersion        {@link #FORMAT_VERSION}
 * @param imageSize            side of the square images: 32, 64, 128 or 256
 * @param imageChannels        3 for RGB, 1 for grey
 * @param baseChannels         channels of the first U-Net level
 * @param channelMultipliers   level i has baseChannels · channelMultipliers[i] channels; one level per entry
 * @param blocksPerLevel       residual blocks per level on the way down (one more on the way up, as in ADM)
 * @param attentionResolutions spatial sizes (e.g. 16, 8) at which self-attention follows each residual block
 * @param attentionHeads       heads of every attention layer (the middle block always has one)
 * @param dropout              dropout rate inside the residual blocks
 * @param conditionDim         width of the CLIP image embedding that conditions the decoder
 * @param timeEmbedDim         width of the timestep + condition embedding every residual block receives
 * @param timesteps            T of the noise schedule
 * @param schedule             {@code linear} or {@code cosine}
 * @param prediction           what the network predicts: {@code epsilon}, {@code sample} or {@code v}
 * @param conditioningDropout  probability, in training, of replacing the embedding by the learned null one
 * @param conditionScale       factor on the (unit-norm) CLIP embedding before its projection; √D gives its
 *                             components unit scale like every other layer input. Absent in older files: 1
 * @param conditionInjection   how the time + condition embedding enters each residual block: {@code add} (a
 *                             per-channel bias, DDPM) or {@code scale_shift} (scales and shifts the normalised
 *                             activations, ADM's AdaGN). Absent in older files: {@code add}
 */
public record DecoderConfig(
        String modelType,
        int formatVersion,
        int imageSize,
        int imageChannels,
        int baseChannels,
        List<Integer> channelMultipliers,
        int blocksPerLevel,
        List<Integer> attentionResolutions,
        int attentionHeads,
        double dropout,
        int conditionDim,
        int timeEmbedDim,
        int timesteps,
        String schedule,
        String prediction,
        double conditioningDropout,
        Double conditionScale,
        String conditionInjection) {

    public static final String MODEL_TYPE = "decoder";
    public static final int FORMAT_VERSION = 1;
    public static final String FILE_NAME = "config.json";
    public static final Set<Integer> IMAGE_SIZES = Set.of(32, 64, 128, 256);
    public static final int DEFAULT_IMAGE_CHANNELS = 3;
    public static final int DEFAULT_CONDITION_DIM = 512;
    public static final int DEFAULT_ATTENTION_HEADS = 4;
    /** Conditioning dropout of unCLIP's decoder: the CLIP embedding is dropped 10% of the time. */
    public static final double DEFAULT_CONDITIONING_DROPOUT = 0.1;
    public static final String INJECTION_ADD = "add";
    public static final String INJECTION_SCALE_SHIFT = "scale_shift";

    public DecoderConfig {
        if (!MODEL_TYPE.equals(modelType)) {
            throw new IllegalArgumentException("model_type must be \"" + MODEL_TYPE + "\", got "
                    + (modelType == null ? "nothing" : "\"" + modelType + "\""));
        }
        if (formatVersion != FORMAT_VERSION) {
            throw new IllegalArgumentException("format_version " + formatVersion + " is not supported (expected "
                    + FORMAT_VERSION + ")");
        }
        if (!IMAGE_SIZES.contains(imageSize)) {
            throw new IllegalArgumentException("image_size must be one of 32, 64, 128, 256, got " + imageSize);
        }
        requireAtLeast("image_channels", imageChannels, 1);
        if (imageChannels > 4) {
            throw new IllegalArgumentException("image_channels must be 1 to 4, got " + imageChannels);
        }
        requireAtLeast("base_channels", baseChannels, 1);
        if (channelMultipliers == null || channelMultipliers.isEmpty()) {
            throw new IllegalArgumentException("channel_multipliers must list at least one level");
        }
        channelMultipliers = List.copyOf(channelMultipliers);
        for (int multiplier : channelMultipliers) {
            requireAtLeast("every channel_multipliers entry", multiplier, 1);
        }
        if (imageSize >> (channelMultipliers.size() - 1) < 1
                || (imageSize >> (channelMultipliers.size() - 1)) << (channelMultipliers.size() - 1) != imageSize) {
            throw new IllegalArgumentException("channel_multipliers has " + channelMultipliers.size()
                    + " levels, too many to halve image_size " + imageSize + " between them");
        }
        requireAtLeast("blocks_per_level", blocksPerLevel, 1);
        attentionResolutions = attentionResolutions == null ? List.of() : List.copyOf(attentionResolutions);
        requireAtLeast("attention_heads", attentionHeads, 1);
        for (int resolution : attentionResolutions) {
            int level = levelOf(imageSize, channelMultipliers.size(), resolution);
            if (level < 0) {
                throw new IllegalArgumentException("attention_resolutions entry " + resolution
                        + " is not a resolution of this U-Net (" + resolutionsOf(imageSize, channelMultipliers.size())
                        + ")");
            }
            int channels = baseChannels * channelMultipliers.get(level);
            if (channels % attentionHeads != 0) {
                throw new IllegalArgumentException("attention_heads " + attentionHeads + " must divide the "
                        + channels + " channels at resolution " + resolution);
            }
        }
        int middleChannels = baseChannels * channelMultipliers.get(channelMultipliers.size() - 1);
        if (middleChannels % attentionHeads != 0) {
            throw new IllegalArgumentException("attention_heads " + attentionHeads + " must divide the "
                    + middleChannels + " channels of the middle block");
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("dropout must be in [0, 1), got " + dropout);
        }
        requireAtLeast("condition_dim", conditionDim, 1);
        requireAtLeast("time_embed_dim", timeEmbedDim, 1);
        requireAtLeast("timesteps", timesteps, 2);
        if (schedule == null) {
            throw new IllegalArgumentException("schedule is missing: expected linear or cosine");
        }
        NoiseScheduler.Schedule.fromConfigName(schedule);
        if (prediction == null) {
            throw new IllegalArgumentException("prediction is missing: expected epsilon, sample or v");
        }
        PredictionType.fromConfigName(prediction);
        if (!(conditioningDropout >= 0 && conditioningDropout < 1)) {
            throw new IllegalArgumentException("conditioning_dropout must be in [0, 1), got " + conditioningDropout);
        }
        conditionScale = conditionScale == null ? 1.0 : conditionScale;
        if (!(conditionScale > 0 && conditionScale < 1e6)) {
            throw new IllegalArgumentException("condition_scale must be positive and finite, got " + conditionScale);
        }
        conditionInjection = conditionInjection == null ? INJECTION_ADD : conditionInjection;
        if (!Set.of(INJECTION_ADD, INJECTION_SCALE_SHIFT).contains(conditionInjection)) {
            throw new IllegalArgumentException("condition_injection must be add or scale_shift, got \""
                    + conditionInjection + "\"");
        }
    }

    /**
     * A decoder with the usual defaults: RGB, 512-wide CLIP embeddings, 4 heads, no dropout, time embedding
     * 4 × base channels (ADM), T = 1000, cosine schedule, ε prediction, 10% conditioning dropout.
     */
    public static DecoderConfig of(int imageSize, int baseChannels, List<Integer> channelMultipliers,
                                   int blocksPerLevel, List<Integer> attentionResolutions) {
        return new DecoderConfig(MODEL_TYPE, FORMAT_VERSION, imageSize, DEFAULT_IMAGE_CHANNELS, baseChannels,
                channelMultipliers, blocksPerLevel, attentionResolutions, DEFAULT_ATTENTION_HEADS, 0.0,
                DEFAULT_CONDITION_DIM, 4 * baseChannels, NoiseScheduler.DEFAULT_TIMESTEPS,
                NoiseScheduler.Schedule.COSINE.configName(), PredictionType.EPSILON.configName(),
                DEFAULT_CONDITIONING_DROPOUT, 1.0, INJECTION_ADD);
    }

    /** The seed's decoder: 64×64 RGB, channels 64-128-256, two blocks per level, attention at 16×16. */
    public static DecoderConfig seed() {
        return of(64, 64, List.of(1, 2, 4), 2, List.of(16));
    }

    /** A decoder small enough for unit tests: 32×32 RGB, channels 16-32, one block per level, attention at 16. */
    public static DecoderConfig tiny() {
        return of(32, 16, List.of(1, 2), 1, List.of(16)).withConditionDim(32);
    }

    public DecoderConfig withImageChannels(int value) {
        return new DecoderConfig(modelType, formatVersion, imageSize, value, baseChannels, channelMultipliers,
                blocksPerLevel, attentionResolutions, attentionHeads, dropout, conditionDim, timeEmbedDim, timesteps,
                schedule, prediction, conditioningDropout, conditionScale, conditionInjection);
    }

    public DecoderConfig withConditionDim(int value) {
        return new DecoderConfig(modelType, formatVersion, imageSize, imageChannels, baseChannels, channelMultipliers,
                blocksPerLevel, attentionResolutions, attentionHeads, dropout, value, timeEmbedDim, timesteps,
                schedule, prediction, conditioningDropout, conditionScale, conditionInjection);
    }

    public DecoderConfig withBaseChannels(int value) {
        return new DecoderConfig(modelType, formatVersion, imageSize, imageChannels, value, channelMultipliers,
                blocksPerLevel, attentionResolutions, attentionHeads, dropout, conditionDim, timeEmbedDim, timesteps,
                schedule, prediction, conditioningDropout, conditionScale, conditionInjection);
    }

    public DecoderConfig withDropout(double value, double conditioning) {
        return new DecoderConfig(modelType, formatVersion, imageSize, imageChannels, baseChannels, channelMultipliers,
                blocksPerLevel, attentionResolutions, attentionHeads, value, conditionDim, timeEmbedDim, timesteps,
                schedule, prediction, conditioning, conditionScale, conditionInjection);
    }

    public DecoderConfig withDiffusion(int steps, String scheduleName, String predictionName) {
        return new DecoderConfig(modelType, formatVersion, imageSize, imageChannels, baseChannels, channelMultipliers,
                blocksPerLevel, attentionResolutions, attentionHeads, dropout, conditionDim, timeEmbedDim, steps,
                scheduleName, predictionName, conditioningDropout, conditionScale, conditionInjection);
    }

    /** How the CLIP embedding conditions the U-Net: its scale and the injection ({@code add} or {@code scale_shift}). */
    public DecoderConfig withConditioning(double scale, String injection) {
        return new DecoderConfig(modelType, formatVersion, imageSize, imageChannels, baseChannels, channelMultipliers,
                blocksPerLevel, attentionResolutions, attentionHeads, dropout, conditionDim, timeEmbedDim, timesteps,
                schedule, prediction, conditioningDropout, scale, injection);
    }

    /** The same decoder predicting {@code type} (ε, x₀ or v) instead. */
    public DecoderConfig withPrediction(PredictionType type) {
        return new DecoderConfig(modelType, formatVersion, imageSize, imageChannels, baseChannels, channelMultipliers,
                blocksPerLevel, attentionResolutions, attentionHeads, dropout, conditionDim, timeEmbedDim, timesteps,
                schedule, type.configName(), conditioningDropout, conditionScale, conditionInjection);
    }

    @JsonIgnore
    public boolean scaleShift() {
        return INJECTION_SCALE_SHIFT.equals(conditionInjection);
    }

    /** Reads {@code config.json} from a model directory. */
    public static DecoderConfig read(Path dir) {
        return Json.readFile(dir.resolve(FILE_NAME), DecoderConfig.class);
    }

    /** Writes {@code config.json} into a model directory. */
    public void write(Path dir) {
        Json.writeFile(dir.resolve(FILE_NAME), this);
    }

    @JsonIgnore
    public NoiseScheduler.Schedule noiseSchedule() {
        return NoiseScheduler.Schedule.fromConfigName(schedule);
    }

    @JsonIgnore
    public PredictionType predictionType() {
        return PredictionType.fromConfigName(prediction);
    }

    /** Number of U-Net levels (resolutions). */
    @JsonIgnore
    public int levels() {
        return channelMultipliers.size();
    }

    /** Channels of level {@code level}. */
    public int channelsAt(int level) {
        return baseChannels * channelMultipliers.get(level);
    }

    /** Spatial size of level {@code level}: image_size / 2^level. */
    public int resolutionAt(int level) {
        return imageSize >> level;
    }

    public boolean attentionAt(int level) {
        return attentionResolutions.contains(resolutionAt(level));
    }

    private static void requireAtLeast(String field, int value, int min) {
        if (value < min) {
            throw new IllegalArgumentException(field + " must be >= " + min + ", got " + value
                    + (value == 0 ? " (missing from the config?)" : ""));
        }
    }

    private static int levelOf(int imageSize, int levels, int resolution) {
        for (int level = 0; level < levels; level++) {
            if (imageSize >> level == resolution) {
                return level;
            }
        }
        return -1;
    }

    private static List<Integer> resolutionsOf(int imageSize, int levels) {
        List<Integer> sizes = new ArrayList<>();
        for (int level = 0; level < levels; level++) {
            sizes.add(imageSize >> level);
        }
        return sizes;
    }
}
