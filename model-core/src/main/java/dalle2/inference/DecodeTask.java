package dalle2.inference;

import dalle2.messages.ImageEmbeddings;
import dalle2.messages.SamplerKind;
import dalle2.messages.SamplingParams;
import dalle2.sampling.NoiseStreams;

/**
 * One image's worth of decoder work: the CLIP image embedding to draw and the image's own seed.
 *
 * @param seed {@code NoiseStreams.seedFor(jobSeed, index, "decoder")}: the decoder's noise stream of this image
 */
public record DecodeTask(String jobId, int index, float[] embedding, long seed) {

    /** The NoiseStreams stage name of the decoder. */
    public static final String STAGE = "decoder";

    /** The task of image {@code index} of a job. */
    public static DecodeTask of(ImageEmbeddings message, int index) {
        return new DecodeTask(message.jobId(), index, message.embedding(index),
                NoiseStreams.seedFor(message.request().seed(), index, STAGE));
    }

    /** The decoder settings of a job. */
    public static SamplingParams params(ImageEmbeddings message) {
        String sampler = message.request().sampler();
        return new SamplingParams(message.request().decoderSteps(), (float) message.request().etaOf(sampler),
                message.request().decoderGuidance().floatValue(), SamplerKind.fromConfigName(sampler));
    }
}
