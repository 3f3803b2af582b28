package dalle2.cli;

import ai.djl.Device;
import dalle2.inference.ImageDecoderModel;
import dalle2.inference.ImageEmbeddingModel;
import dalle2.inference.ModelProvider;
import java.nio.file.Path;

/**
 * THE place the CLI gets its models from: every command that runs a worker ({@code up}, {@code generate},
 * {@code prior-worker}, {@code decoder-worker}) calls {@link #load(Path)}.
 *
 * <p>TODO(lead): build the ports from {@code dalle2.inference.DallE2} loaded from {@code modelsDir}
 * (ClipEncoder + Prior behind {@link ImageEmbeddingModel}, Decoder on the given DJL device behind
 * {@link ImageDecoderModel}). Until then this refuses clearly instead of silently drawing stand-in pictures.
 */
public final class ModelFactory {

    /** Where the shipped models live, relative to the working directory. */
    public static final Path DEFAULT_MODELS_DIR = Path.of("trained_models");

    private ModelFactory() {
    }

    public static ModelProvider load(Path modelsDir) {
        throw new ModelsUnavailableException("models not available yet: dalle2.cli.ModelFactory does not build the "
                + "DallE2 networks (prior, decoder, CLIP) from " + modelsDir.toAbsolutePath() + " in this build");
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
