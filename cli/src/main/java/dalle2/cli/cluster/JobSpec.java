package dalle2.cli.cluster;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** One client submission: every parameter fixed, the seed included, so its images are known in advance. */
public record JobSpec(String idempotencyKey, String prompt, int n, long seed, int priorSteps, int decoderSteps,
                      double priorGuidance, double decoderGuidance) {

    static final List<String> PROMPTS = List.of("a photo of a t-shirt", "a photo of a trouser", "a photo of a pullover",
            "a photo of a dress", "a photo of a coat", "a photo of a sandal", "a photo of a shirt",
            "a photo of a sneaker", "a photo of a bag", "a photo of an ankle boot");

    /** Job {@code i} of a run: prompts cycle through the ten Fashion-MNIST classes the shipped models know. */
    public static JobSpec numbered(String run, int i, Workload w) {
        long seed = w.seedOf(i);
        return new JobSpec(run + "-" + i, PROMPTS.get((int) Math.floorMod(seed, (long) PROMPTS.size())),
                w.imagesPerJob(), seed,
                w.priorSteps(), w.decoderSteps(), 2.0, 5.0);
    }

    /** The same job under another idempotency key: what decides its images. */
    public JobSpec withoutKey() {
        return new JobSpec("", prompt, n, seed, priorSteps, decoderSteps, priorGuidance, decoderGuidance);
    }

    /** The HTTP body of {@code POST /v1/generations}. */
    public Map<String, Object> body() {
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("prompt", prompt);
        body.put("n", n);
        body.put("seed", seed);
        body.put("prior_steps", priorSteps);
        body.put("decoder_steps", decoderSteps);
        body.put("eta", 0.0);
        body.put("prior_guidance", priorGuidance);
        body.put("decoder_guidance", decoderGuidance);
        return body;
    }
}
