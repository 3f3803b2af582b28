package dalle2.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.ParameterList;
import ai.djl.training.ParameterStore;
import dalle2.djl.DjlRuntime;
import dalle2.messages.SamplerKind;
import dalle2.sampling.DdimSampler;
import dalle2.sampling.Denoiser;
import dalle2.sampling.NoiseScheduler;
import dalle2.sampling.NoiseStreams;
import dalle2.sampling.Sampler;
import dalle2.sampling.Samplers;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * A diffusion super-resolution stage of the cascade (unCLIP's upsamplers, Ramesh et al. 2022, section 2.1 and
 * appendix C; SR3 and cascaded diffusion, Saharia et al. 2021 and Ho et al. 2022): a U-Net that draws an image
 * of {@code image_size} given the same image at {@code low_res_size}.
 *
 * <pre>
 *   z_s    = √ᾱ_s·low + √(1−ᾱ_s)·n                  noise-conditioning augmentation of the low-resolution image
 *   c      = bicubic(z_s) to the output size          concatenated to the noisy input: (B, 2C, S, S)
 *   output = UNet([x_t, c], t, emb(s))                 s is told to the network by scale and shift
 * </pre>
 *
 * <p>The network has no attention and is fully convolutional, so it trains on random crops of the output and its
 * conditioning (the paper's 64→256 stage trains on 64×64 crops) and samples whole images. Training draws s up to
 * {@code max_augmentation_step}; sampling uses {@code sampling_augmentation_step}, which makes the stage tolerant of
 * the base decoder's artefacts instead of copying them.
 */
public final class Upsampler {

    public static final String WEIGHTS_FILE = "weights.safetensors";
    public static final long DEFAULT_INIT_SEED = 0L;
    /** Interpolation modes as DJL's PyTorch {@code interpolation} numbers them (not libtorch's own numbers). */
    static final int BICUBIC = 3;
    static final int AREA = 2;
    /** Mixed into a sample's seed for its augmentation noise, so it never repeats the sampler's starting noise. */
    static final long AUGMENTATION_STREAM = 0x5DEECE66DL;

    private final UpsamplerConfig config;
    private final DecoderUNet unet;
    private final NoiseScheduler scheduler;
    private final Sampler sampler;

    private Upsampler(UpsamplerConfig config, DecoderUNet unet) {
        this.config = config;
        this.unet = unet;
        this.scheduler = new NoiseScheduler(config.noiseSchedule(), config.timesteps());
        this.sampler = Samplers.create(config.samplerKind(), scheduler, config.predictionType(), Decoder.CLIP_SAMPLE);
    }

    public static Upsampler create(UpsamplerConfig config, NDManager manager, long seed) {
        Upsampler upsampler = build(config, manager);
        upsampler.unet.initializeWeights(seed);
        return upsampler;
    }

    public static Upsampler create(UpsamplerConfig config, NDManager manager) {
        return create(config, manager, DEFAULT_INIT_SEED);
    }

    /** Loads a model directory; refuses one that is not an upsampler's, naming what is wrong. */
    public static Upsampler load(Path dir, NDManager manager) {
        Path configFile = dir.resolve(UpsamplerConfig.FILE_NAME);
        Path weightsFile = dir.resolve(WEIGHTS_FILE);
        if (!Files.isRegularFile(configFile) || !Files.isRegularFile(weightsFile)) {
            throw new IllegalArgumentException("not an upsampler model directory: " + dir + " needs "
                    + UpsamplerConfig.FILE_NAME + " and " + WEIGHTS_FILE);
        }
        String type = modelType(configFile);
        if (!UpsamplerConfig.MODEL_TYPE.equals(type)) {
            throw new IllegalArgumentException(dir + " holds a model of type \"" + type + "\", not an upsampler");
        }
        Upsampler upsampler = build(UpsamplerConfig.read(dir), manager);
        try {
            ModelWeights.load(upsampler.unet, weightsFile, "upsampler");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read upsampler weights " + weightsFile, e);
        }
        return upsampler;
    }

    private static String modelType(Path configFile) {
        try {
            return dalle2.json.Json.mapper().readTree(configFile.toFile()).path("model_type").asText("");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + configFile, e);
        }
    }

    private static Upsampler build(UpsamplerConfig config, NDManager manager) {
        DecoderUNet unet = new DecoderUNet(config.network(), false);
        int size = config.imageSize();
        unet.initialize(manager, DataType.FLOAT32, new Shape(1, 2L * config.imageChannels(), size, size),
                new Shape(1), new Shape(1, TimestepEmbedder.FREQUENCY_DIM), new Shape(1));
        return new Upsampler(config, unet);
    }

    public void save(Path dir) {
        config.write(dir);
        try {
            ModelWeights.save(unet, dir.resolve(WEIGHTS_FILE));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write upsampler weights into " + dir, e);
        }
    }

    public UpsamplerConfig config() {
        return config;
    }

    /**
     * The same network with other sampling settings (they are not part of what was trained), e.g. to measure
     * them before writing the chosen ones into the model's config.
     */
    public Upsampler sampledWith(int augmentationStep, int steps, int startStep) {
        return new Upsampler(config.withSampling(augmentationStep, steps, startStep), unet);
    }

    /** The same network and settings, sampled with another sampler. */
    public Upsampler sampledWith(SamplerKind sampler) {
        return new Upsampler(config.withSampler(sampler), unet);
    }

    public NoiseScheduler scheduler() {
        return scheduler;
    }

    public DecoderUNet block() {
        return unet;
    }

    public ParameterList parameters() {
        return unet.getParameters();
    }

    /** Area-averages images (B, C, S, S) to (B, C, size, size): how the low-resolution training inputs are made. */
    public static NDArray downsample(NDArray images, int size) {
        return images.getNDArrayInternal().interpolation(new long[] {size, size}, AREA, false);
    }

    /** Bicubic interpolation of images (B, C, s, s) to (B, C, size, size), not clamped. */
    public static NDArray bicubic(NDArray images, int size) {
        return images.getNDArrayInternal().interpolation(new long[] {size, size}, BICUBIC, false);
    }

    /**
     * The conditioning the network sees: the low-resolution images (B, C, l, l) corrupted to level s (B, int64)
     * with the given noise, then interpolated bicubically to the output size (B, C, S, S).
     */
    public NDArray conditioning(NDArray lowRes, NDArray augmentationNoise, NDArray augmentationSteps) {
        return bicubic(scheduler.addNoise(lowRes, augmentationNoise, augmentationSteps), config.imageSize());
    }

    /**
     * One network evaluation on x_t (B, C, h, w) and its conditioning of the same size; h and w multiples of
     * {@link UpsamplerConfig#sizeMultiple()}.
     */
    public NDArray forward(ParameterStore ps, NDArray noisy, NDArray timesteps, NDArray conditioning,
                           NDArray augmentationSteps, boolean training) {
        NDManager manager = noisy.getManager();
        NDArray input = noisy.concat(conditioning, 1);                                   // (B, 2C, h, w)
        NDArray level = TimestepEmbedder.sinusoidal(augmentationSteps);                  // (B, 128)
        NDArray keep = manager.ones(new Shape(noisy.getShape().get(0)));
        return unet.forward(ps, new NDList(input, timesteps, level, keep), training).singletonOrThrow();
    }

    /**
     * The training loss on full-size images (B, C, S, S) in [−1, 1]: each is area-averaged to the low resolution,
     * augmented, interpolated back, and one random {@code crop}×{@code crop} window of image and conditioning is
     * denoised. Draws from {@code rng}, in this order: the crop offsets, the augmentation levels, the augmentation
     * noise, the timesteps, ε; a trainer that checkpoints its {@link Random} resumes exactly.
     */
    public NDArray loss(ParameterStore ps, NDArray images, int crop, Random rng) {
        NDManager manager = images.getManager();
        Shape shape = images.getShape();
        int batch = Math.toIntExact(shape.get(0));
        int channels = config.imageChannels();
        int size = config.imageSize();
        int low = config.lowResSize();
        if (shape.dimension() != 4 || shape.get(1) != channels || shape.get(2) != size || shape.get(3) != size) {
            throw new IllegalArgumentException("the upsampler trains on images of shape (B, " + channels + ", " + size
                    + ", " + size + "), got " + shape);
        }
        if (crop < config.sizeMultiple() || crop > size || crop % config.sizeMultiple() != 0) {
            throw new IllegalArgumentException("crop must be a multiple of " + config.sizeMultiple() + " up to " + size
                    + ", got " + crop);
        }
        int[][] offsets = new int[batch][2];
        for (int[] offset : offsets) {
            offset[0] = rng.nextInt(size - crop + 1);
            offset[1] = rng.nextInt(size - crop + 1);
        }
        long[] levels = new long[batch];
        for (int b = 0; b < batch; b++) {
            levels[b] = rng.nextInt(config.maxAugmentationStep() + 1);
        }
        NDArray augmentationNoise = gaussian(manager, rng, new Shape(batch, channels, low, low));
        long[] timesteps = new long[batch];
        for (int b = 0; b < batch; b++) {
            timesteps[b] = rng.nextInt(config.timesteps());
        }
        NDArray noise = gaussian(manager, rng, new Shape(batch, channels, crop, crop));

        NDArray augmentationSteps = manager.create(levels);
        NDArray conditioning = conditioning(downsample(images, low), augmentationNoise, augmentationSteps);
        NDArray imageCrops = crops(images, offsets, crop);                                // (B, C, crop, crop)
        NDArray conditioningCrops = crops(conditioning, offsets, crop);
        NDArray t = manager.create(timesteps);
        NDArray noisy = scheduler.addNoise(imageCrops, noise, t);
        NDArray target = scheduler.target(config.predictionType(), imageCrops, noise, t);
        NDArray output = forward(ps, noisy, t, conditioningCrops, augmentationSteps, true);
        return output.sub(target).square().mean();
    }

    private static NDArray crops(NDArray images, int[][] offsets, int crop) {
        NDList windows = new NDList(offsets.length);
        for (int b = 0; b < offsets.length; b++) {
            int y = offsets[b][0];
            int x = offsets[b][1];
            windows.add(images.get(b + ",:," + y + ":" + (y + crop) + "," + x + ":" + (x + crop)));
        }
        return NDArrays.stack(windows);
    }

    private static NDArray gaussian(NDManager manager, Random rng, Shape shape) {
        float[] values = new float[Math.toIntExact(shape.size())];
        for (int i = 0; i < values.length; i++) {
            values[i] = (float) rng.nextGaussian();
        }
        return manager.create(values, shape);
    }

    /** Upsamples with the config's augmentation level, step count and start step. */
    public NDArray upsample(NDArray lowRes, long[] seeds, Sampler.Progress progress) {
        return upsample(lowRes, config.samplingSteps(), config.samplingAugmentationStep(), config.samplingStartStep(),
                seeds, progress);
    }

    /** Upsamples from pure noise at T − 1. */
    public NDArray upsample(NDArray lowRes, int steps, int augmentationStep, long[] seeds, Sampler.Progress progress) {
        return upsample(lowRes, steps, augmentationStep, config.timesteps() - 1, seeds, progress);
    }

    /**
     * Draws full-size images from low-resolution ones with the config's sampler (deterministic: DDIM at η = 0 or
     * DPM-Solver++(2M)).
     *
     * @param lowRes           (B, C, l, l) in [−1, 1], l = {@code low_res_size}; the result lives in its manager
     * @param steps            sampler steps (network evaluations)
     * @param augmentationStep the corruption level s given to the network (0 … max_augmentation_step)
     * @param startStep        T − 1: start from pure noise; lower: from the bicubic interpolation noised to that level
     *                         (DDIM only: the config refuses another sampler with it)
     * @param seeds            one per image: its starting and augmentation noise depend only on it, not on the batch
     * @return (B, C, S, S) in [−1, 1]
     */
    public NDArray upsample(NDArray lowRes, int steps, int augmentationStep, int startStep, long[] seeds,
                            Sampler.Progress progress) {
        Shape shape = lowRes.getShape();
        int channels = config.imageChannels();
        int low = config.lowResSize();
        if (shape.dimension() != 4 || shape.get(1) != channels || shape.get(2) != low || shape.get(3) != low) {
            throw new IllegalArgumentException("the upsampler takes images of shape (B, " + channels + ", " + low + ", "
                    + low + "), got " + shape);
        }
        if (augmentationStep < 0 || augmentationStep >= config.timesteps()) {
            throw new IllegalArgumentException("augmentation step must be in 0.." + (config.timesteps() - 1) + ", got "
                    + augmentationStep);
        }
        int batch = Math.toIntExact(shape.get(0));
        if (seeds.length != batch) {
            throw new IllegalArgumentException("need one seed per image: " + seeds.length + " seeds for " + batch);
        }
        long[] augmentationSeeds = new long[batch];
        for (int b = 0; b < batch; b++) {
            augmentationSeeds[b] = seeds[b] ^ AUGMENTATION_STREAM;
        }
        UpsamplerConfig.requireDdimForPartialStart(startStep, config.timesteps(), config.samplerKind());
        int size = config.imageSize();
        return DjlRuntime.withoutGradients(() -> {
            NDManager manager = lowRes.getManager();
            NDArray augmentationNoise = new NoiseStreams(augmentationSeeds).next(manager, new Shape(channels, low, low));
            NDArray levels = manager.full(new Shape(batch), (long) augmentationStep);
            NDArray conditioning = conditioning(lowRes, augmentationNoise, levels);
            Denoiser network = (noisy, timesteps, cond, keep) -> forward(new ParameterStore(noisy.getManager(), false),
                    noisy, timesteps, cond, noisy.getManager().full(new Shape(batch), (long) augmentationStep), false);
            Shape imageShape = new Shape(channels, size, size);
            if (startStep >= config.timesteps() - 1) {
                return sampler.sample(network, conditioning, imageShape, steps, 0f, 1f, seeds, progress);
            }
            DdimSampler ddim = (DdimSampler) sampler;
            NDArray noise = new NoiseStreams(seeds).next(manager, imageShape);
            NDArray start = scheduler.addNoise(bicubic(lowRes, size), noise, manager.full(new Shape(batch), (long) startStep));
            return ddim.denoise(network, conditioning, start, Sampler.trailingTimesteps(startStep + 1, steps), 1f,
                    progress);
        });
    }
}
