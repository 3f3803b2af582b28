package dalle2.cli;

import ai.djl.Device;
import dalle2.inference.DallE2;
import dalle2.inference.ImageDecoderModel;
import dalle2.inference.ImageEmbeddingModel;
import dalle2.inference.ModelProvider;
import java.nio.file.Path;

/**
 * THE place the CLI gets its models from: every command that runs a worker ({@code up}, {@code generate},
 * {@code prior-worker}, {@code decoder-worker}) calls {@link #load(Path)}.
 *
 * <p>The ports are {@link DallE2}'s stages: CLIP + prior behind {@link ImageEmbeddingModel}, the decoder on
 * the requested DJL device behind {@link ImageDecoderModel}; each worker gets its own copy of the weights.
 */
public final class ModelFactory {

    /** Where the shipped models live, relative to the working directory. */
    public static final Path DEFAULT_MODELS_DIR = Path.of("trained_models");

    private ModelFactory() {
    }

    public static ModelProvider load(Path modelsDir) {
        try {
            return DallE2.provider(resolve(modelsDir));
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
