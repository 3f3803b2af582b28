package dalle2.models;

import com.fasterxml.jackson.annotation.JsonIgnore;
import dalle2.json.Json;
import dalle2.messages.SamplerKind;
import dalle2.sampling.NoiseScheduler;
import dalle2.sampling.PredictionType;
import java.nio.file.Path;
import java.util.List;

/**
 * Architecture and diffusion facts of a super-resolution stage, stored as the {@code config.json} of its model
 * directory (snake_case, {@link Json}). Every field is required in the file; defaults live in {@link #of}.
 *
 * @param modelType                always {@code "upsampler"}, so a decoder's folder is not loaded as one
 * @param formatVersion            {@link #FORMAT_VERSION}
 * @param lowResSize               side of the images it upsamples (the base decoder's size)
 * @param imageSize                side of the images it draws; a power-of-two multiple of {@code lowResSize}
 * @param imageChannels            3 for RGB
 * @param baseChannels             channels of the first (full-resolution) U-Net level
 * @param channelMultipliers       level i has baseChannels · channelMultipliers[i] channels; one level per entry
 * @param blocksPerLevel           residual blocks per level on the way down (one more on the way up)
 * @param timeEmbedDim             width of the timestep + augmentation embedding every residual block receives
 * @param timesteps                T of the noise schedule (also the scale of the augmentation level)
 * @param schedule                 {@code linear} or {@code cosine}
 * @param prediction               {@code epsilon}, {@code sample} or {@code v}
 * @param maxAugmentationStep      training corrupts the low-resolution image with q(z_s | x) for s drawn
 *                                 uniformly from 0 … this (noise-conditioning augmentation, Ho et al. 2022)
 * @param samplingAugmentationStep the s the sampler corrupts its low-resolution input with, and tells the network
 * @param samplingSteps            sampler steps (network evaluations) a worker uses
 * @param samplingStartStep        the timestep sampling starts at: T − 1 starts from pure noise; a lower one starts
 *                                 from the bicubic interpolation noised to that level (SDEdit), so the few steps
 *                                 refine an image instead of drawing one. Absent in older files: T − 1
 * @param samplingSampler          {@code ddim} or {@code dpmpp-2m} ({@link SamplerKind}); a start below T − 1 needs
 *                                 {@code ddim}. Absent in older files: {@code ddim}
 */
public record UpsamplerConfig(
        String modelType,
        int formatVersion,
        int lowResSize,
        int imageSize,
        int imageChannels,
        int baseChannels,
        List<Integer> channelMultipliers,
        int blocksPerLevel,
        int timeEmbedDim,
        int timesteps,
        String schedule,
        String prediction,
        int maxAugmentationStep,
        int samplingAugmentationStep,
        int samplingSteps,
        Integer samplingStartStep,
        String samplingSampler) {

    public static final String MODEL_TYPE = "upsampler";
    public static final int FORMAT_VERSION = 1;
    public static final String FILE_NAME = "config.json";
    /** The sampler {@link #of} writes into a new model's config. */
    public static final SamplerKind DEFAULT_SAMPLER = SamplerKind.DPMPP_2M;
    /** The sampler steps {@link #of} writes into a new model's config. */
    public static final int DEFAULT_SAMPLING_STEPS = 7;

    public UpsamplerConfig {
        if (!MODEL_TYPE.equals(modelType)) {
            throw new IllegalArgumentException("model_type must be \"" + MODEL_TYPE + "\", got "
                    + (modelType == null ? "nothing" : "\"" + modelType + "\""));
        }
        if (formatVersion != FORMAT_VERSION) {
            throw new IllegalArgumentException("format_version " + formatVersion + " is not supported (expected "
                    + FORMAT_VERSION + ")");
        }
        if (lowResSize < 8 || imageSize <= lowResSize || imageSize % lowResSize != 0
                || Integer.bitCount(imageSize / lowResSize) != 1) {
            throw new IllegalArgumentException("image_size must be low_res_size times 2, 4, 8 …, got low_res_size "
                    + lowResSize + " and image_size " + imageSize);
        }
        if (imageChannels < 1 || imageChannels > 4) {
            throw new IllegalArgumentException("image_channels must be 1 to 4, got " + imageChannels);
        }
        if (channelMultipliers == null || channelMultipliers.isEmpty()) {
            throw new IllegalArgumentException("channel_multipliers must list at least one level");
        }
        channelMultipliers = List.copyOf(channelMultipliers);
        if (maxAugmentationStep < 0 || maxAugmentationStep >= timesteps) {
            throw new IllegalArgumentException("max_augmentation_step must be in 0.." + (timesteps - 1) + ", got "
                    + maxAugmentationStep);
        }
        if (samplingAugmentationStep < 0 || samplingAugmentationStep > maxAugmentationStep) {
            throw new IllegalArgumentException("sampling_augmentation_step must be in 0..max_augmentation_step ("
                    + maxAugmentationStep + "), got " + samplingAugmentationStep);
        }
        samplingStartStep = samplingStartStep == null ? timesteps - 1 : samplingStartStep;
        if (samplingStartStep < 1 || samplingStartStep >= timesteps) {
            throw new IllegalArgumentException("sampling_start_step must be in 1.." + (timesteps - 1) + ", got "
                    + samplingStartStep);
        }
        if (samplingSteps < 1 || samplingSteps > samplingStartStep + 1) {
            throw new IllegalArgumentException("sampling_steps must be in 1.." + (samplingStartStep + 1) + ", got "
                    + samplingSteps);
        }
        try {
            samplingSampler = SamplerKind.fromConfigName(samplingSampler == null ? SamplerKind.DDIM.configName()
                    : samplingSampler).configName();
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("sampling_sampler: " + e.getMessage(), e);
        }
        requireDdimForPartialStart(samplingStartStep, timesteps, SamplerKind.fromConfigName(samplingSampler));
        // the rest (channels, levels, schedule, prediction) is checked by the network's own config
        networkConfig(baseChannels, channelMultipliers, blocksPerLevel, imageSize, imageChannels, timeEmbedDim,
                timesteps, schedule, prediction);
    }

    /**
     * An upsampler with the defaults: RGB, time embedding 4 × base channels, T = 1000, cosine schedule,
     * v-prediction (well conditioned at every t, where ε-prediction amplifies the network's error by 1/√ᾱ_t near
     * t = T), augmentation up to s = 250 in training and s = 50 when sampling, 7 DPM-Solver++(2M) steps (on the
     * shipped upsampler as good as 10 DDIM steps by the tile Fréchet distance, in 0.7 of the time: its model card).
     */
    public static UpsamplerConfig of(int lowResSize, int imageSize, int baseChannels, List<Integer> channelMultipliers,
                                     int blocksPerLevel) {
        return new UpsamplerConfig(MODEL_TYPE, FORMAT_VERSION, lowResSize, imageSize, 3, baseChannels,
                channelMultipliers, blocksPerLevel, 4 * baseChannels, NoiseScheduler.DEFAULT_TIMESTEPS,
                NoiseScheduler.Schedule.COSINE.configName(), PredictionType.V.configName(), 250, 50, DEFAULT_SAMPLING_STEPS,
                NoiseScheduler.DEFAULT_TIMESTEPS - 1, DEFAULT_SAMPLER.configName());
    }

    /** Small enough for unit tests: 8 → 32 px, channels 8-16. */
    public static UpsamplerConfig tiny() {
        return of(8, 32, 8, List.of(1, 2), 1);
    }

    public UpsamplerConfig withSampling(int augmentationStep, int steps) {
        return new UpsamplerConfig(modelType, formatVersion, lowResSize, imageSize, imageChannels, baseChannels,
                channelMultipliers, blocksPerLevel, timeEmbedDim, timesteps, schedule, prediction, maxAugmentationStep,
                augmentationStep, steps, samplingStartStep, samplingSampler);
    }

    /** Sampling settings: the augmentation level, the sampler steps and the timestep they start at. */
    public UpsamplerConfig withSampling(int augmentationStep, int steps, int startStep) {
        return new UpsamplerConfig(modelType, formatVersion, lowResSize, imageSize, imageChannels, baseChannels,
                channelMultipliers, blocksPerLevel, timeEmbedDim, timesteps, schedule, prediction, maxAugmentationStep,
                augmentationStep, steps, startStep, samplingSampler);
    }

    /** The same settings with another sampler. */
    public UpsamplerConfig withSampler(SamplerKind sampler) {
        return new UpsamplerConfig(modelType, formatVersion, lowResSize, imageSize, imageChannels, baseChannels,
                channelMultipliers, blocksPerLevel, timeEmbedDim, timesteps, schedule, prediction, maxAugmentationStep,
                samplingAugmentationStep, samplingSteps, samplingStartStep, sampler.configName());
    }

    public UpsamplerConfig withMaxAugmentationStep(int value) {
        return new UpsamplerConfig(modelType, formatVersion, lowResSize, imageSize, imageChannels, baseChannels,
                channelMultipliers, blocksPerLevel, timeEmbedDim, timesteps, schedule, prediction, value,
                Math.min(samplingAugmentationStep, value), samplingSteps, samplingStartStep, samplingSampler);
    }

    /**
     * Refuses a start below T − 1 (from the noised interpolation, SDEdit) with a sampler other than DDIM, the only
     * one that can start part-way; the config and {@link Upsampler#upsample} hold to the same rule.
     */
    static void requireDdimForPartialStart(int startStep, int timesteps, SamplerKind sampler) {
        if (startStep < timesteps - 1 && sampler != SamplerKind.DDIM) {
            throw new IllegalArgumentException("sampling_start_step " + startStep + " (below T − 1) needs "
                    + "sampling_sampler ddim, got " + sampler.configName());
        }
    }

    /** The upsampling factor, e.g. 8 for 32 → 256. */
    @JsonIgnore
    public int factor() {
        return imageSize / lowResSize;
    }

    /** Input and crop sides must be multiples of this, so that every level halves them evenly. */
    @JsonIgnore
    public int sizeMultiple() {
        return 1 << (channelMultipliers.size() - 1);
    }

    /**
     * The U-Net's config as a {@link DecoderUNet} reads it: no attention anywhere (the network is fully
     * convolutional, so it trains on crops and runs on whole images), conditioned on the augmentation level's
     * sinusoidal features by scale and shift.
     */
    @JsonIgnore
    public DecoderConfig network() {
        return networkConfig(baseChannels, channelMultipliers, blocksPerLevel, imageSize, imageChannels, timeEmbedDim,
                timesteps, schedule, prediction);
    }

    private static DecoderConfig networkConfig(int baseChannels, List<Integer> channelMultipliers, int blocksPerLevel,
                                               int imageSize, int imageChannels, int timeEmbedDim, int timesteps,
                                               String schedule, String prediction) {
        if (!DecoderConfig.IMAGE_SIZES.contains(imageSize)) {
            throw new IllegalArgumentException("image_size must be one of 32, 64, 128, 256, got " + imageSize);
        }
        int headsDividingEverything = 1;
        return new DecoderConfig(DecoderConfig.MODEL_TYPE, DecoderConfig.FORMAT_VERSION, imageSize, imageChannels,
                baseChannels, channelMultipliers, blocksPerLevel, List.of(), headsDividingEverything, 0.0,
                TimestepEmbedder.FREQUENCY_DIM, timeEmbedDim, timesteps, schedule, prediction, 0.0, 1.0,
                DecoderConfig.INJECTION_SCALE_SHIFT);
    }

    @JsonIgnore
    public NoiseScheduler.Schedule noiseSchedule() {
        return NoiseScheduler.Schedule.fromConfigName(schedule);
    }

    @JsonIgnore
    public SamplerKind samplerKind() {
        return SamplerKind.fromConfigName(samplingSampler);
    }

    @JsonIgnore
    public PredictionType predictionType() {
        return PredictionType.fromConfigName(prediction);
    }

    public static UpsamplerConfig read(Path dir) {
        return Json.readFile(dir.resolve(FILE_NAME), UpsamplerConfig.class);
    }

    public void write(Path dir) {
        Json.writeFile(dir.resolve(FILE_NAME), this);
    }
}
