package dalle2.gateway;

import dalle2.gateway.Representations.SubmitBody;
import dalle2.messages.GenerationRequest;

/**
 * Whether a request repeating an Idempotency-Key asks for the job that key already names. It compares what the
 * client sent, not what this gateway's defaults make of it: a field the retry leaves out takes the value the job
 * was accepted with. A gateway's defaults may have changed between the two (a deployment that gained an upsampler
 * pool defaults to 256 px, an upgrade moved a sampler), and a client retrying the same body must still get its job
 * back rather than a 409. Every field the retry does set must equal the job's.
 */
final class IdempotentRetry {

    private IdempotentRetry() {
    }

    /** True when the generation body {@code sent} asks for the job {@code known} (prompt and every set field). */
    static boolean asks(SubmitBody sent, GenerationRequest known) {
        if (known.isVariation()) {
            return false;
        }
        String sampler = or(sent.sampler(), known.sampler());
        String priorSampler = sent.priorSampler() != null ? sent.priorSampler()
                : sent.sampler() != null ? sent.sampler() : known.priorStageSampler();
        GenerationRequest filled;
        try {
            filled = GenerationRequest.of(known.jobId(), sent.prompt(), or(sent.n(), known.n()),
                    or(sent.seed(), known.seed()), or(sent.priorSteps(), known.priorSteps()),
                    or(sent.decoderSteps(), known.decoderSteps()), or(sent.eta(), known.eta()),
                    or(sent.priorGuidance(), known.priorGuidance()), or(sent.decoderGuidance(), known.decoderGuidance()),
                    sampler, priorSampler, or(sent.size(), known.size()), known.submittedInstant(),
                    known.idempotencyKey());
        } catch (IllegalArgumentException e) {
            return false; // what it set does not even combine with the job's other values (e.g. eta on a DPM job)
        }
        return known.sameParameters(filled);
    }

    /** True when the variation {@code sent} (its query and {@code png}, the normalised upload) asks for the job {@code known}. */
    static boolean asks(VariationQuery sent, byte[] png, GenerationRequest known) {
        if (!known.isVariation()) {
            return false;
        }
        GenerationRequest filled;
        try {
            filled = GenerationRequest.variation(known.jobId(), sent.label(), or(sent.n(), known.n()),
                    or(sent.seed(), known.seed()), or(sent.decoderSteps(), known.decoderSteps()), or(sent.eta(), known.eta()),
                    or(sent.decoderGuidance(), known.decoderGuidance()), or(sent.sampler(), known.sampler()),
                    or(sent.size(), known.size()), png, known.submittedInstant(), known.idempotencyKey());
        } catch (IllegalArgumentException e) {
            return false;
        }
        return known.sameParameters(filled);
    }

    private static <T> T or(T sent, T known) {
        return sent != null ? sent : known;
    }
}
