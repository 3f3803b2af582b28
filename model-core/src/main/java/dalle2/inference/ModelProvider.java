package dalle2.inference;

import ai.djl.Device;

/**
 * Where workers get their models: the CLI's {@code ModelFactory} (real networks from {@code trained_models/}),
 * or a test's stand-in. Each call returns a new instance for one worker.
 */
public interface ModelProvider {

    /** CLIP text encoder + prior, for one prior worker. */
    ImageEmbeddingModel embeddingModel();

    /** The decoder on {@code device}, for one decoder worker. */
    ImageDecoderModel decoderModel(Device device);

    /** Whether there is an upsampler model: then the deployment serves sizes above the base. */
    default boolean hasUpsampler() {
        return false;
    }

    /** The upsampler on {@code device}, for one upsampler worker. */
    default ImageUpsamplerModel upsamplerModel(Device device) {
        throw new IllegalStateException("no upsampler model here");
    }
}
