package dalle2.gateway;

import dalle2.messages.GenerationRequest;
import dalle2.messages.JobStatus;
import java.util.List;
import java.util.Map;

/** The JSON bodies of the HTTP API (written with {@code dalle2.json.Json}: snake_case). */
final class Representations {

    private Representations() {
    }

    /** {@code POST /v1/generations} body; every field but the prompt is optional. */
    record SubmitBody(String prompt, Integer n, Long seed, Integer priorSteps, Integer decoderSteps, Double eta,
                      Double priorGuidance, Double decoderGuidance, String sampler, String priorSampler, Integer size,
                      String webhook) {
    }

    record Links(String self, String cancel, String images) {
    }

    /**
     * The answer to a submission or a cancellation. {@code state} is the job's state, named as in every other
     * answer; {@code status} repeats it for clients written before {@code state} was added here, and is deprecated.
     */
    record Accepted(String id, String state, String status, Links links) {
        Accepted(String id, String state, Links links) {
            this(id, state, state, links);
        }
    }

    /**
     * The parameters a job was actually run with. {@code kind} is {@code generation} (a prompt) or {@code variation}
     * (an image, named by {@code imageSha256}, the hash of its normalised PNG; null for a prompt). {@code sampler}
     * is the decoder's, {@code priorSampler} the prior's (null for a variation, which runs no prior).
     */
    record Params(String kind, String prompt, int n, long seed, int priorSteps, int decoderSteps, double eta,
                  double priorGuidance, double decoderGuidance, String sampler, String priorSampler, int size,
                  String imageSha256) {
        static Params of(GenerationRequest r) {
            return new Params(r.isVariation() ? "variation" : "generation", r.prompt(), r.n(), r.seed(),
                    r.priorSteps(), r.decoderSteps(), r.eta(), r.priorGuidance(), r.decoderGuidance(), r.sampler(),
                    r.isVariation() ? null : r.priorStageSampler(), r.size(), r.imageSha256());
        }
    }

    record Image(int index, String url, String presignedUrl, String expiresAt) {
    }

    /** {@code GET /v1/generations/{id}}. */
    record Generation(String id, String state, Params params, JobStatus.Timestamps timestamps,
                      Map<String, String> models, JobStatus.Progress progress, Integer queuePosition,
                      List<Image> images, JobStatus.ErrorInfo error, Links links) {
    }

    /**
     * {@code GET /v1/generations}: a page of jobs, newest first; {@code nextAfter} is the {@code after} of the next
     * page, null on the last.
     */
    record GenerationList(List<Generation> data, String nextAfter) {
    }

    record Error(String code, String message, String field) {
    }

    record ErrorBody(Error error) {
    }
}
