package dalle2.models;

import ai.djl.ndarray.NDArray;
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
import dalle2.sampling.SampleClamp;
import dalle2.sampling.Sampler;
import dalle2.sampling.Samplers;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * unCLIP's decoder (Ramesh et al. 2022, section 2.1): a diffusion model of images conditioned on a CLIP
 * image embedding. Holds its config, the {@link DecoderUNet}, the noise schedule and a DDIM sampler that
 * clamps x̂₀ to [−1, 1], the range images live in ({@link #SAMPLE_CLAMP}).
 *
 * <p>A model directory holds {@code config.json} ({@link DecoderConfig}) and {@code weights.safetensors}
 * ({@link ModelWeights}). The decoder's parameters live in the manager it was created or loaded with; the
 * caller owns that manager.
 */
public final class Decoder implements Denoiser {

    public static final String WEIGHTS_FILE = "weights.safetensors";
    /** The initialisation seed {@link #create(DecoderConfig, NDManager)} uses. */
    public static final long DEFAULT_INIT_SEED = 0L;
    /** Images are scaled to [−1, 1]. */
    public static final float CLIP_SAMPLE = 1f;
    /**
     * x̂₀ is clamped to [−1, 1] at every step. Clamped only at the zero-SNR timestep ({@link SampleClamp#atZeroSnr}),
     * the Fashion-MNIST samples came closer to real ones in brightness and Fréchet distance, but emoji prompts were
     * retrieved from their images less often (held-in 68 % instead of 87 %; SAMPLERS.md, "Brightness").
     */
    public static final SampleClamp SAMPLE_CLAMP = SampleClamp.everyStep(CLIP_SAMPLE);

    private final DecoderConfig config;
    private final DecoderUNet unet;
    private final NoiseScheduler scheduler;
    private final DdimSampler sampler;

    private Decoder(DecoderConfig config, DecoderUNet unet) {
        this.config = config;
        this.unet = unet;
        this.scheduler = new NoiseScheduler(config.noiseSchedule(), config.timesteps());
        this.sampler = new DdimSampler(scheduler, config.predictionType(), SAMPLE_CLAMP);
    }

    /** A decoder with fresh weights from {@link DecoderUNet#initializeWeights} and {@link #DEFAULT_INIT_SEED}. */
    public static Decoder create(DecoderConfig config, NDManager manager) {
        return create(config, manager, DEFAULT_INIT_SEED);
    }

    /** A decoder with fresh weights: the same config and seed give bit-identical weights. */
    public static Decoder create(DecoderConfig config, NDManager manager, long seed) {
        Decoder decoder = build(config, manager);
        decoder.unet.initializeWeights(seed);
        return decoder;
    }

    /**
     * Loads a model directory.
     *
     * @throws IllegalArgumentException when a file is missing or the weights do not match config.json, naming
     *                                  the mismatching parameters and shapes
     */
    public static Decoder load(Path dir, NDManager manager) {
        Path configFile = dir.resolve(DecoderConfig.FILE_NAME);
        Path weightsFile = dir.resolve(WEIGHTS_FILE);
        if (!Files.isRegularFile(configFile) || !Files.isRegularFile(weightsFile)) {
            throw new IllegalArgumentException("not a decoder model directory: " + dir + " needs "
                    + DecoderConfig.FILE_NAME + " and " + WEIGHTS_FILE);
        }
        Decoder decoder = build(DecoderConfig.read(dir), manager);
        try {
            ModelWeights.load(decoder.unet, weightsFile, "decoder");
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read decoder weights " + weightsFile, e);
        }
        return decoder;
    }

    private static Decoder build(DecoderConfig config, NDManager manager) {
        DecoderUNet unet = new DecoderUNet(config);
        int size = config.imageSize();
        unet.initialize(manager, DataType.FLOAT32, new Shape(1, config.imageChannels(), size, size), new Shape(1),
                new Shape(1, config.conditionDim()), new Shape(1));
        return new Decoder(config, unet);
    }

    /** Writes {@code config.json} and {@code weights.safetensors} into {@code dir} (created if needed). */
    public void save(Path dir) {
        config.write(dir);
        try {
            ModelWeights.save(unet, dir.resolve(WEIGHTS_FILE));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write decoder weights into " + dir, e);
        }
    }

    public DecoderConfig config() {
        return config;
    }

    public NoiseScheduler scheduler() {
        return scheduler;
    }

    public DdimSampler sampler() {
        return sampler;
    }

    /** The network, for trainers (parameters, optimizers) and benchmarks. */
    public DecoderUNet block() {
        return unet;
    }

    public ParameterList parameters() {
        return unet.getParameters();
    }

    /** Shape of one image: (C, S, S). */
    public Shape imageShape() {
        return new Shape(config.imageChannels(), config.imageSize(), config.imageSize());
    }

    /**
     * One network evaluation.
     *
     * @param noisy     x_t (B, C, S, S)
     * @param timesteps int64 (B)
     * @param condition CLIP image embeddings (B, D)
     * @param keep      float32 (B): 1 = use the embedding, 0 = use the learned null embedding
     * @return the prediction (B, C, S, S) of the config's type (ε, x₀ or v)
     */
    public NDArray forward(ParameterStore ps, NDArray noisy, NDArray timesteps, NDArray condition, NDArray keep,
                           boolean training) {
        return unet.forward(ps, new NDList(noisy, timesteps, condition, keep), training).singletonOrThrow();
    }

    @Override
    public NDArray predict(NDArray noisy, NDArray timesteps, NDArray condition, NDArray keepCondition) {
        return forward(new ParameterStore(noisy.getManager(), false), noisy, timesteps, condition, keepCondition,
                false);
    }

    /**
     * Draws images for CLIP image embeddings with DDIM.
     *
     * @param imageEmbeddings (B, D); the images are created in its manager
     * @param steps           DDIM steps (1 … T)
     * @param eta             0 deterministic … 1 DDPM-like
     * @param guidance        classifier-free guidance scale; 1 = conditional only
     * @param seeds           one per image; an image depends only on its seed and embedding, not on its batch
     * @return images (B, C, S, S) in [−1, 1]
     */
    public NDArray sample(NDArray imageEmbeddings, int steps, float eta, float guidance, long[] seeds,
                          Sampler.Progress progress) {
        return sample(imageEmbeddings, SamplerKind.DDIM, steps, eta, guidance, seeds, progress);
    }

    /** Draws images with the given sampler; every sampler clamps x̂₀ as {@link #SAMPLE_CLAMP} says. */
    public NDArray sample(NDArray imageEmbeddings, SamplerKind kind, int steps, float eta, float guidance,
                          long[] seeds, Sampler.Progress progress) {
        Shape shape = imageEmbeddings.getShape();
        if (shape.dimension() != 2 || shape.get(1) != config.conditionDim()) {
            throw new IllegalArgumentException("the decoder needs image embeddings of shape (B, "
                    + config.conditionDim() + "), got " + shape);
        }
        Sampler chosen = kind == SamplerKind.DDIM ? sampler
                : Samplers.create(kind, scheduler, config.predictionType(), SAMPLE_CLAMP);
        return DjlRuntime.withoutGradients(() -> chosen.sample(this, imageEmbeddings, imageShape(), steps, eta,
                guidance, seeds, progress));
    }

    /**
     * The training loss for a batch: t ~ U{0 … T−1}, ε ~ N(0, I) and the conditioning-dropout mask are drawn
     * from {@code rng} in that order (t for every sample, then ε sample by sample, then the mask), so a trainer
     * that saves and restores its {@link Random} resumes exactly.
     *
     * @param images          x₀ (B, C, S, S) in [−1, 1]
     * @param imageEmbeddings (B, D)
     * @return the scalar MSE between the network output and its target
     */
    public NDArray loss(ParameterStore ps, NDArray images, NDArray imageEmbeddings, Random rng) {
        NDManager manager = images.getManager();
        Shape shape = images.getShape();
        int batch = Math.toIntExact(shape.get(0));
        long[] timesteps = new long[batch];
        for (int i = 0; i < batch; i++) {
            timesteps[i] = rng.nextInt(config.timesteps());
        }
        float[] noise = new float[Math.toIntExact(shape.size())];
        for (int i = 0; i < noise.length; i++) {
            noise[i] = (float) rng.nextGaussian();
        }
        float[] keep = new float[batch];
        for (int i = 0; i < batch; i++) {
            keep[i] = rng.nextDouble() < config.conditioningDropout() ? 0f : 1f;
        }
        return loss(ps, images, imageEmbeddings, manager.create(timesteps), manager.create(noise, shape),
                manager.create(keep));
    }

    /** The training loss with explicit t (B) int64, ε (B, C, S, S) and keep (B) float32. */
    public NDArray loss(ParameterStore ps, NDArray images, NDArray imageEmbeddings, NDArray timesteps, NDArray noise,
                        NDArray keep) {
        NDArray noisy = scheduler.addNoise(images, noise, timesteps);                 // x_t, (B, C, S, S)
        NDArray target = scheduler.target(config.predictionType(), images, noise, timesteps);
        NDArray output = forward(ps, noisy, timesteps, imageEmbeddings, keep, true);
        return output.sub(target).square().mean();
    }
}
