package dalle2.inference;

import dalle2.messages.GenerationRequest;
import dalle2.sampling.NoiseStreams;
import dalle2.sampling.SamplerKind;

/**
 * One image's worth of prior work: its prompt and its own seed.
 *
 * @param seed {@code NoiseStreams.seedFor(jobSeed, index, "prior")}: the prior's noise stream of this image
 */
public record EmbedTask(String jobId, int index, String prompt, long seed) {

    /** The NoiseStreams stage name of the prior. */
    public static final String STAGE = "prior";

    /** The task of image {@code index} of a job. */
    public static EmbedTask of(GenerationRequest request, int index) {
        return new EmbedTask(request.jobId(), index, request.prompt(),
                NoiseStreams.seedFor(request.seed(), index, STAGE));
    }

    /** The prior settings of a job. */
    public static SamplingParams params(GenerationRequest request) {
        return new SamplingParams(request.priorSteps(), request.eta().floatValue(),
                request.priorGuidance().floatValue(), SamplerKind.fromConfigName(request.sampler()));
    }
}
