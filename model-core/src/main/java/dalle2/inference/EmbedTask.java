package dalle2.inference;

import dalle2.messages.GenerationRequest;
import dalle2.messages.SamplerKind;
import dalle2.messages.SamplingParams;
import dalle2.sampling.NoiseStreams;
import java.awt.image.BufferedImage;

/**
 * One image's worth of prior work: its prompt and its own seed, or, for a variations job, the source image.
 *
 * @param seed  {@code NoiseStreams.seedFor(jobSeed, index, "prior")}: the prior's noise stream of this image
 * @param image a variations job's source image: its CLIP image embedding is the result, and no prior runs; null
 *              for a prompt
 */
public record EmbedTask(String jobId, int index, String prompt, long seed, BufferedImage image) {

    /** A prompt's task. */
    public EmbedTask(String jobId, int index, String prompt, long seed) {
        this(jobId, index, prompt, seed, null);
    }

    /** The same task for image {@code source}: a variation of it. */
    public EmbedTask withImage(BufferedImage source) {
        return new EmbedTask(jobId, index, prompt, seed, source);
    }

    /** The NoiseStreams stage name of the prior. */
    public static final String STAGE = "prior";

    /** The task of image {@code index} of a job. */
    public static EmbedTask of(GenerationRequest request, int index) {
        return new EmbedTask(request.jobId(), index, request.prompt(),
                NoiseStreams.seedFor(request.seed(), index, STAGE));
    }

    /** The prior settings of a job. */
    public static SamplingParams params(GenerationRequest request) {
        String sampler = request.priorStageSampler();
        return new SamplingParams(request.priorSteps(), (float) request.etaOf(sampler),
                request.priorGuidance().floatValue(), SamplerKind.fromConfigName(sampler));
    }
}
