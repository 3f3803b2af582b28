package dalle2.cli;

import ai.djl.Device;
import dalle2.inference.DallE2;
import dalle2.inference.ImageDecoderModel;
import dalle2.inference.ImageEmbeddingModel;
import dalle2.inference.ModelProvider;
import java.nio.file.Path;
import java.util.List;

/**
 * THE place the CLI gets its models from: every command that runs a worker ({@code up}, {@code generate},
 * {@code prior-worker}, {@code decoder-worker}, {@code upsampler-worker}) calls one of the loads here.
 *
 * <p>The ports are {@link DallE2}'s stages: CLIP + prior behind {@link ImageEmbeddingModel}, the decoder on
 * the requested DJL device behind {@link ImageDecoderModel}; each worker gets its own copy of the weights.
 */
public final class ModelFactory {

    /** Where the shipped models live, relative to the working directory. */
    public static final Path DEFAULT_MODELS_DIR = Path.of("trained_models");

    private ModelFactory() {
    }

    /**
     * The models of every pool (the one-process stack: {@code up}, {@code generate}); the upsampler is optional
     * ({@link ModelProvider#hasUpsampler()}).
     */
    public static ModelProvider load(Path modelsDir) {
        return load(modelsDir, List.of(DallE2.CLIP_DIR, DallE2.PRIOR_DIR, DallE2.DECODER_DIR));
    }

    /** What a prior worker needs: CLIP and the prior; the decoder may be absent. */
    public static ModelProvider forPriorPool(Path modelsDir) {
        return load(modelsDir, DallE2.PRIOR_STAGE_MODELS);
    }

    /** What a decoder worker needs: the decoder; CLIP and the prior may be absent. */
    public static ModelProvider forDecoderPool(Path modelsDir) {
        return load(modelsDir, DallE2.DECODER_STAGE_MODELS);
    }

    /** What an upsampler worker needs: the upsampler alone. */
    public static ModelProvider forUpsamplerPool(Path modelsDir) {
        return load(modelsDir, DallE2.UPSAMPLER_STAGE_MODELS);
    }

    /** Checks up front that {@code required} are there (naming what is missing), then loads lazily per worker. */
    private static ModelProvider load(Path modelsDir, List<String> required) {
        Path dir = resolve(modelsDir);
        try {
            DallE2.requireModels(dir, required);
            return DallE2.provider(dir);
        } catch (IllegalArgumentException missing) {
            throw new ModelsUnavailableException(missing.getMessage());
        }
    }

    /**
     * A relative models folder that is not under the working directory is looked up under the project folder
     * the launcher names ({@code -Ddalle2.home}), so {@code ./dalle2 generate} works from anywhere.
     */
    public static Path resolve(Path modelsDir) {
        String home = System.getProperty("dalle2.home");
        if (modelsDir.isAbsolute() || java.nio.file.Files.isDirectory(modelsDir) || home == null) {
            return modelsDir;
        }
        return Path.of(home).resolve(modelsDir);
    }

    /** The networks cannot be loaded. */
    public static final class ModelsUnavailableException extends IllegalStateException {
        public ModelsUnavailableException(String message) {
            super(message);
        }
    }

    /** A provider whose models come from elsewhere (tests, other front ends). */
    public static ModelProvider of(java.util.function.Supplier<ImageEmbeddingModel> prior,
                                   java.util.function.Function<Device, ImageDecoderModel> decoder) {
        return new ModelProvider() {
            @Override
            public ImageEmbeddingModel embeddingModel() {
                return prior.get();
            }

            @Override
            public ImageDecoderModel decoderModel(Device device) {
                return decoder.apply(device);
            }
        };
    }
}
