package dalle2.models;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.ParameterStore;
import dalle2.djl.DjlRuntime;
import dalle2.json.Json;
import dalle2.messages.SamplerKind;
import dalle2.sampling.DdimSampler;
import dalle2.sampling.Denoiser;
import dalle2.sampling.NoiseScheduler;
import dalle2.sampling.PredictionType;
import dalle2.sampling.Sampler;
import dalle2.sampling.Samplers;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

/**
 * The DALL·E 2 diffusion prior: CLIP text embedding → CLIP image embedding (Ramesh et al. 2022, section 2.1).
 *
 * <p><b>Embedding scale.</b> CLIP embeddings are unit vectors, so each of their D dimensions has a standard
 * deviation of about 1/√D (0.044 at D = 512), while the diffusion noise ε has unit variance per dimension. At
 * that scale the signal would be buried after very few steps of the schedule. As DALLE2-pytorch
 * ({@code image_embed_scale = dim ** 0.5}), the prior diffuses {@code x₀ = s · z_img} with s = √D (written to
 * config.json as {@code embedding_scale}), so x₀ has unit variance per dimension like ε; the text condition
 * is fed scaled by the same s. {@link #sample} divides by s and L2-normalises, returning unit vectors.
 * Nothing clips x̂₀ during sampling: embeddings have no fixed range the way pixels do.
 *
 * <p>{@link #predict} is one evaluation of the network in diffusion space (scaled x_t and condition), as the
 * {@link Sampler} needs it. The training loss is the MSE between the network output and its target (x₀ or
 * ε per config), with the text replaced by the learned null embedding at rate {@code conditioning_dropout}
 * for classifier-free guidance.
 *
 * <p>A prior owns a sub-manager of the manager it was created with; {@link #close()} frees its weights.
 */
public final class Prior implements Denoiser, AutoCloseable {

    public static final String CONFIG_FILE = "config.json";
    public static final String WEIGHTS_FILE = "weights.safetensors";

    private final PriorConfig config;
    private final NDManager manager;
    private final PriorTransformer network;
    private final NoiseScheduler scheduler;
    private final DdimSampler ddim;
    private final ParameterStore inference;

    private Prior(PriorConfig config, NDManager parent) {
        this.config = config;
        this.manager = parent.newSubManager();
        this.network = new PriorTransformer(config);
        network.initialize(manager);
        this.scheduler = config.noiseScheduler();
        this.ddim = new DdimSampler(scheduler, config.predictionType(), 0f);
        this.inference = new ParameterStore(manager, false);
    }

    /** A freshly initialized prior (weights from the engine's random generator). */
    public static Prior create(PriorConfig config, NDManager manager) {
        return new Prior(config, manager);
    }

    /**
     * Loads a model directory written by {@link #save}: {@code config.json} and {@code weights.safetensors}.
     *
     * @throws IllegalArgumentException when the config is invalid or does not match the weights, naming what
     */
    public static Prior load(Path dir, NDManager manager) throws IOException {
        Path configFile = dir.resolve(CONFIG_FILE);
        Path weightsFile = dir.resolve(WEIGHTS_FILE);
        if (!Files.isRegularFile(configFile) || !Files.isRegularFile(weightsFile)) {
            throw new IllegalArgumentException(dir + " is not a prior model directory: it needs "
                    + CONFIG_FILE + " and " + WEIGHTS_FILE);
        }
        PriorConfig config;
        try {
            config = Json.readFile(configFile, PriorConfig.class);
        } catch (RuntimeException e) {
            throw new IllegalArgumentException("invalid prior config " + configFile + ": " + e.getMessage(), e);
        }
        Prior prior = new Prior(config, manager);
        try {
            ModelWeights.load(prior.network, weightsFile, "prior");
        } catch (IOException | RuntimeException e) {
            prior.close();
            throw e;
        }
        return prior;
    }

    /** Writes {@code config.json} and {@code weights.safetensors} into {@code dir} (created if needed). */
    public void save(Path dir) throws IOException {
        Files.createDirectories(dir);
        ModelWeights.save(network, dir.resolve(WEIGHTS_FILE));
        Json.writeFile(dir.resolve(CONFIG_FILE), config);
    }

    public PriorConfig config() {
        return config;
    }

    /** The network, for optimizers, EMA and gradient clipping. */
    public PriorTransformer network() {
        return network;
    }

    public NoiseScheduler scheduler() {
        return scheduler;
    }

    /** The factor s that maps unit CLIP embeddings into diffusion space. */
    public float embeddingScale() {
        return (float) config.embeddingScale();
    }

    /**
     * One network evaluation in diffusion space, without gradients.
     *
     * @param noisy         x_t = √ᾱ_t·s·z_img + √(1−ᾱ_t)·ε, shape (B, D)
     * @param timesteps     int64 (B)
     * @param condition     s·z_txt, shape (B, D)
     * @param keepCondition float (B), 1 = use the text, 0 = the learned null embedding
     * @return the prediction (x₀ or ε per config), (B, D), in the manager of {@code noisy}
     */
    @Override
    public NDArray predict(NDArray noisy, NDArray timesteps, NDArray condition, NDArray keepCondition) {
        return network.forward(inference, new NDList(noisy, timesteps, condition, keepCondition), false)
                .singletonOrThrow();
    }

    /**
     * Samples CLIP image embeddings for CLIP text embeddings with DDIM and classifier-free guidance.
     *
     * @param textEmbeddings unit CLIP text embeddings (B, D); the result lives in their manager
     * @param seeds          one per sample; a sample's result does not depend on the rest of its batch
     * @return unit CLIP image embeddings (B, D)
     */
    public NDArray sample(NDArray textEmbeddings, int steps, float eta, float guidance, long[] seeds) {
        return sample(textEmbeddings, steps, eta, guidance, seeds, Sampler.Progress.NONE);
    }

    public NDArray sample(NDArray textEmbeddings, int steps, float eta, float guidance, long[] seeds,
                          Sampler.Progress progress) {
        return sample(textEmbeddings, SamplerKind.DDIM, steps, eta, guidance, seeds, progress);
    }

    /** Samples with the given sampler (x̂₀ is never clamped: embeddings have no fixed range). */
    public NDArray sample(NDArray textEmbeddings, SamplerKind kind, int steps, float eta, float guidance, long[] seeds,
                          Sampler.Progress progress) {
        checkEmbeddings("textEmbeddings", textEmbeddings);
        Sampler sampler = kind == SamplerKind.DDIM ? ddim : Samplers.create(kind, scheduler, config.predictionType(), 0f);
        NDManager caller = textEmbeddings.getManager();
        try (NDManager scope = caller.newSubManager()) {
            NDArray condition = textEmbeddings.mul(embeddingScale());                     // (B, D), scaled
            condition.attach(scope);
            NDArray x0 = DjlRuntime.withoutGradients(() -> sampler.sample(this, condition,
                    new Shape(config.embeddingDim()), steps, eta, guidance, seeds, progress)); // (B, D), scaled
            NDArray embeddings = x0.div(embeddingScale()).normalize(2, 1, 1e-12);        // (B, D), unit
            embeddings.attach(caller);
            return embeddings;
        }
    }

    /**
     * The training loss for a batch, drawing t ~ U{0…T−1}, keep ~ Bernoulli(1 − dropout) and ε ~ N(0, I) from
     * {@code rng} in that order (all B timesteps, then all B keep flags, then ε row by row), so a trainer that
     * saves and restores its {@link Random} resumes exactly.
     *
     * @param ps              a training parameter store over {@link #network()}
     * @param textEmbeddings  unit CLIP text embeddings (B, D)
     * @param imageEmbeddings unit CLIP image embeddings (B, D)
     * @return the scalar MSE, in the manager of {@code textEmbeddings}
     */
    public NDArray loss(ParameterStore ps, NDArray textEmbeddings, NDArray imageEmbeddings, Random rng) {
        checkEmbeddings("textEmbeddings", textEmbeddings);
        int batch = Math.toIntExact(textEmbeddings.getShape().get(0));
        int dim = config.embeddingDim();
        long[] timesteps = new long[batch];
        for (int i = 0; i < batch; i++) {
            timesteps[i] = rng.nextInt(config.timesteps());
        }
        float[] keep = new float[batch];
        for (int i = 0; i < batch; i++) {
            keep[i] = rng.nextDouble() < config.conditioningDropout() ? 0f : 1f;
        }
        float[] noise = new float[batch * dim];
        for (int i = 0; i < noise.length; i++) {
            noise[i] = (float) rng.nextGaussian();
        }
        NDManager manager = textEmbeddings.getManager();
        return loss(ps, textEmbeddings, imageEmbeddings, manager.create(timesteps),
                manager.create(noise, new Shape(batch, dim)), manager.create(keep));
    }

    /**
     * The training loss with explicit randomness: MSE(network(x_t, t, s·z_txt, keep), target), where
     * x_t = √ᾱ_t·s·z_img + √(1−ᾱ_t)·ε and the target is s·z_img (x₀) or ε per config.
     *
     * @param timesteps int64 (B)
     * @param noise     ε (B, D)
     * @param keep      float (B), 1 = condition on the text, 0 = on the null embedding
     */
    public NDArray loss(ParameterStore ps, NDArray textEmbeddings, NDArray imageEmbeddings, NDArray timesteps,
                        NDArray noise, NDArray keep) {
        checkEmbeddings("textEmbeddings", textEmbeddings);
        checkEmbeddings("imageEmbeddings", imageEmbeddings);
        NDArray x0 = imageEmbeddings.mul(embeddingScale());                              // (B, D)
        NDArray condition = textEmbeddings.mul(embeddingScale());                        // (B, D)
        NDArray noisy = scheduler.addNoise(x0, noise, timesteps);                         // (B, D)
        NDArray output = network.forward(ps, new NDList(noisy, timesteps, condition, keep), true)
                .singletonOrThrow();                                                      // (B, D)
        NDArray target = scheduler.target(config.predictionType(), x0, noise, timesteps);
        return output.sub(target).square().mean();
    }

    /** The prediction type of the network (x₀ for the paper's prior, ε for the seed's). */
    public PredictionType prediction() {
        return config.predictionType();
    }

    private void checkEmbeddings(String what, NDArray embeddings) {
        Shape shape = embeddings.getShape();
        if (shape.dimension() != 2 || shape.get(1) != config.embeddingDim()) {
            throw new IllegalArgumentException(what + " must have shape (B, " + config.embeddingDim() + "), got " + shape);
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}
