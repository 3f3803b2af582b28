package dalle2.inference;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dalle2.djl.DjlRuntime;
import dalle2.messages.ModelLineage;
import dalle2.messages.ModelVersion;
import dalle2.messages.SamplerKind;
import dalle2.messages.SamplingParams;
import dalle2.models.ClipEncoder;
import dalle2.models.Decoder;
import dalle2.models.Prior;
import dalle2.models.Upsampler;
import dalle2.sampling.DdimSampler;
import dalle2.sampling.NoiseStreams;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * DALL·E 2 (unCLIP) in one object: CLIP, the diffusion prior and the decoder, loaded from a models folder
 * with {@code clip/}, {@code prior/} and {@code decoder/}.
 *
 * <p>Image k of a request with seed S draws its prior noise from {@code seedFor(S, k, "prior")} and its
 * decoder noise from {@code seedFor(S, k, "decoder")}, exactly as the worker pools do, so the CLI, the
 * evaluation and the service give the same image for the same prompt, seed and settings.
 */
public final class DallE2 implements ModelProvider, AutoCloseable {

    public static final String CLIP_DIR = "clip";
    public static final String PRIOR_DIR = "prior";
    public static final String DECODER_DIR = "decoder";
    /** Optional: the 32 → 256 super-resolution stage; without it the service draws base-size images only. */
    public static final String UPSAMPLER_DIR = "upsampler";
    static final int ENCODE_BATCH = 256;

    private final Path modelsDir;
    private final PriorStage priorStage;
    private final DecoderStage decoderStage;
    private final ClipEncoder clip;
    private final NDManager manager;

    private DallE2(Path modelsDir, NDManager manager) throws IOException {
        this.modelsDir = modelsDir;
        this.manager = manager;
        this.clip = ClipEncoder.load(modelsDir.resolve(CLIP_DIR), manager);
        this.priorStage = loadPriorStage(modelsDir, clip, manager.newSubManager());
        this.decoderStage = loadDecoderStage(modelsDir, manager.newSubManager());
    }

    /** Loads the three models from a folder (e.g. {@code trained_models/}), naming what is missing. */
    public static DallE2 load(Path modelsDir) throws IOException {
        requireModels(modelsDir);
        return new DallE2(modelsDir, DjlRuntime.newManager());
    }

    /** Throws, naming the folder and the missing model, unless clip/, prior/ and decoder/ are all there. */
    public static void requireModels(Path modelsDir) {
        requireModels(modelsDir, List.of(CLIP_DIR, PRIOR_DIR, DECODER_DIR));
    }

    /** What the prior pool loads: CLIP (its text tower) and the prior. */
    public static final List<String> PRIOR_STAGE_MODELS = List.of(CLIP_DIR, PRIOR_DIR);
    /** What the decoder pool loads: the decoder alone. */
    public static final List<String> DECODER_STAGE_MODELS = List.of(DECODER_DIR);
    /** What the upsampler pool loads: the upsampler alone. */
    public static final List<String> UPSAMPLER_STAGE_MODELS = List.of(UPSAMPLER_DIR);

    /** Whether a models folder holds an upsampler (a {@code upsampler/config.json}). */
    public static boolean hasUpsampler(Path modelsDir) {
        return Files.isRegularFile(modelsDir.resolve(UPSAMPLER_DIR).resolve("config.json"));
    }

    /** Throws, naming the folder and the first missing model, unless every one of {@code models} is there. */
    public static void requireModels(Path modelsDir, List<String> models) {
        for (String model : models) {
            Path config = modelsDir.resolve(model).resolve("config.json");
            if (!Files.isRegularFile(config)) {
                throw new IllegalArgumentException("no " + model + " model in " + modelsDir.toAbsolutePath()
                        + " (missing " + config + "); train one with ./dalle2 train " + model + " or point --models at "
                        + "a folder with clip/, prior/ and decoder/");
            }
        }
    }

    private static PriorStage loadPriorStage(Path modelsDir, ClipEncoder clip, NDManager manager) throws IOException {
        return loadPriorStageAt(modelsDir.resolve(PRIOR_DIR), modelsDir.resolve(CLIP_DIR), clip, manager);
    }

    /** The stage's version names both models it runs: {@code prior@…+clip@…}. */
    private static PriorStage loadPriorStageAt(Path priorDir, Path clipDir, ClipEncoder clip, NDManager manager)
            throws IOException {
        Prior prior = Prior.load(priorDir, manager);
        String version = ModelVersion.of("prior", priorDir) + "+" + ModelVersion.of("clip", clipDir);
        return new PriorStage(clip, prior, manager, version);
    }

    /** The prior stage of a prior folder and the CLIP folder it was trained with (registry versions' folders). */
    public static ImageEmbeddingModel priorAt(Path priorDir, Path clipDir) {
        NDManager manager = DjlRuntime.newManager();
        try {
            ClipEncoder clip = ClipEncoder.load(clipDir, manager);
            return loadPriorStageAt(priorDir, clipDir, clip, manager);
        } catch (IOException e) {
            manager.close();
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /** The upsampler in one model folder, on {@code device}. */
    public static ImageUpsamplerModel upsamplerAt(Path upsamplerDir, Device device) {
        NDManager manager = DjlRuntime.engine().newBaseManager(device);
        try {
            return new UpsamplerStage(Upsampler.load(upsamplerDir, manager), manager,
                    ModelVersion.of("upsampler", upsamplerDir));
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    private static DecoderStage loadDecoderStage(Path modelsDir, NDManager manager) {
        return loadDecoderStageAt(modelsDir.resolve(DECODER_DIR), manager);
    }

    private static DecoderStage loadDecoderStageAt(Path decoderDir, NDManager manager) {
        Decoder decoder = Decoder.load(decoderDir, manager);
        String clip = ModelLineage.in(decoderDir).map(ModelLineage::clipVersion).orElse(null);
        return new DecoderStage(decoder, manager, ModelVersion.of("decoder", decoderDir), clip);
    }

    /** The decoder in one model folder (a registry version's), on {@code device}. */
    public static ImageDecoderModel decoderAt(Path decoderDir, Device device) {
        NDManager manager = DjlRuntime.engine().newBaseManager(device);
        try {
            return loadDecoderStageAt(decoderDir, manager);
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
    }

    /**
     * A provider for worker pools: every call loads its own copy, so each worker thread owns its models. Each
     * pool loads only its own stage's models: a prior worker needs no decoder weights, and the other way round.
     */
    public static ModelProvider provider(Path modelsDir) {
        return new ModelProvider() {
            @Override
            public ImageEmbeddingModel embeddingModel() {
                requireModels(modelsDir, PRIOR_STAGE_MODELS);
                NDManager manager = DjlRuntime.newManager();
                try {
                    ClipEncoder clip = ClipEncoder.load(modelsDir.resolve(CLIP_DIR), manager);
                    return loadPriorStage(modelsDir, clip, manager);
                } catch (IOException e) {
                    manager.close();
                    throw new UncheckedIOException(e);
                }
            }

            @Override
            public ImageDecoderModel decoderModel(Device device) {
                requireModels(modelsDir, DECODER_STAGE_MODELS);
                NDManager manager = DjlRuntime.engine().newBaseManager(device);
                return loadDecoderStage(modelsDir, manager);
            }

            @Override
            public boolean hasUpsampler() {
                return DallE2.hasUpsampler(modelsDir);
            }

            @Override
            public ImageUpsamplerModel upsamplerModel(Device device) {
                requireModels(modelsDir, UPSAMPLER_STAGE_MODELS);
                return upsamplerAt(modelsDir.resolve(UPSAMPLER_DIR), device);
            }
        };
    }

    @Override
    public ImageEmbeddingModel embeddingModel() {
        return priorStage;
    }

    @Override
    public ImageDecoderModel decoderModel(Device device) {
        return decoderStage;
    }

    public Path modelsDir() {
        return modelsDir;
    }

    public int imageSize() {
        return decoderStage.imageSize();
    }

    /**
     * The design's {@code generate(prompts, steps, eta, seed, guidance)}: one image per prompt, prompt k drawn
     * as image k of a job with the given seed.
     */
    public List<BufferedImage> generate(List<String> prompts, int steps, float eta, long seed, float guidance) {
        return generate(prompts, steps, eta, seed, guidance, SamplerKind.DEFAULT);
    }

    /** The same with a chosen sampler for both stages (η must be 0 unless it is DDIM). */
    public List<BufferedImage> generate(List<String> prompts, int steps, float eta, long seed, float guidance,
                                        SamplerKind sampler) {
        SamplingParams params = new SamplingParams(steps, eta, guidance, sampler);
        return generate(prompts, seed, params, params);
    }

    /** Generation with separate prior and decoder settings. */
    public List<BufferedImage> generate(List<String> prompts, long seed, SamplingParams prior, SamplingParams decoder) {
        return decode(embed(prompts, seed, prior), seed, decoder);
    }

    /** The prior's image embeddings (unit rows) for the prompts: the first half of {@link #generate}. */
    public List<float[]> embed(List<String> prompts, long seed, SamplingParams prior) {
        List<EmbedTask> embedTasks = new ArrayList<>();
        for (int k = 0; k < prompts.size(); k++) {
            embedTasks.add(new EmbedTask("local", k, prompts.get(k), NoiseStreams.seedFor(seed, k, EmbedTask.STAGE)));
        }
        return priorStage.embed(prior, embedTasks, DdimSampler.Progress.NONE);
    }

    /** Variations of an image: its CLIP image embedding decoded n times with different noise. */
    public List<BufferedImage> vary(BufferedImage image, int n, long seed, SamplingParams decoder) {
        float[] embedding = encodeImages(List.of(image)).get(0);
        List<float[]> embeddings = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            embeddings.add(embedding);
        }
        return decode(embeddings, seed, decoder);
    }

    /** Images decoded from CLIP image embeddings, embedding k drawn as image k of a job with the given seed. */
    public List<BufferedImage> decode(List<float[]> embeddings, long seed, SamplingParams decoder) {
        List<DecodeTask> tasks = new ArrayList<>();
        for (int k = 0; k < embeddings.size(); k++) {
            tasks.add(new DecodeTask("local", k, embeddings.get(k), NoiseStreams.seedFor(seed, k, DecodeTask.STAGE)));
        }
        return decoderStage.decode(decoder, tasks, DdimSampler.Progress.NONE);
    }

    /** CLIP text embeddings, unit rows. */
    public List<float[]> encodeText(List<String> prompts) {
        return encodeText(clip, manager, prompts);
    }

    /** CLIP image embeddings, unit rows. */
    public List<float[]> encodeImages(List<BufferedImage> images) {
        return encodeImages(clip, manager, images);
    }

    /** Text embeddings of any CLIP as unit rows, in batches (also for tools that load only the CLIP). */
    public static List<float[]> encodeText(ClipEncoder clip, NDManager manager, List<String> prompts) {
        return inChunks(manager, prompts, clip::encodeText);
    }

    /** Image embeddings of any CLIP as unit rows, in batches. */
    public static List<float[]> encodeImages(ClipEncoder clip, NDManager manager, List<BufferedImage> images) {
        return inChunks(manager, images, clip::encodeImages);
    }

    /** Encodes in batches of {@value #ENCODE_BATCH}, so evaluating 10,000 images does not need 10,000 at once. */
    private static <T> List<float[]> inChunks(NDManager manager, List<T> inputs,
                                              java.util.function.BiFunction<NDManager, List<T>, NDArray> encoder) {
        List<float[]> rows = new ArrayList<>(inputs.size());
        for (int start = 0; start < inputs.size(); start += ENCODE_BATCH) {
            List<T> chunk = inputs.subList(start, Math.min(inputs.size(), start + ENCODE_BATCH));
            try (NDManager scope = manager.newSubManager()) {
                rows.addAll(PriorStage.rows(encoder.apply(scope, chunk).toFloatArray(), chunk.size()));
            }
        }
        return rows;
    }

    public ClipEncoder clip() {
        return clip;
    }

    @Override
    public void close() {
        clip.close();
        manager.close();
    }
}
