package dalle2.messages;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.regex.Pattern;

/**
 * A generation job as it travels on the requests topic (key = job id), whether the gateway or a client of its
 * own produced it. Every parameter the workers use is filled in here, so the job's result depends only on this
 * record: absent optional fields take their defaults in the constructor, an absent seed is derived from the job
 * id (so a redelivered Kafka submission draws the same images).
 *
 * @param schemaVersion   {@value SchemaVersions#CURRENT}
 * @param jobId           1–64 characters of {@code [A-Za-z0-9._-]} (it becomes an object-key prefix)
 * @param prompt          1–{@value #MAX_PROMPT_CHARS} characters, not blank
 * @param n               images to draw, 1–{@value #MAX_IMAGES}
 * @param seed            the job seed; image k uses {@code NoiseStreams.seedFor(seed, k, stage)}
 * @param priorSteps      sampler steps of the prior, 1–{@value #MAX_STEPS}; absent means the prior sampler's
 *                        {@link SamplerKind#defaultPriorSteps()} (64 for {@code ddim}, 20 for {@code dpmpp-2m})
 * @param decoderSteps    sampler steps of the decoder, 1–{@value #MAX_STEPS}; absent means the sampler's
 *                        {@link SamplerKind#defaultDecoderSteps()} (50 for {@code ddim}, 30 for {@code dpmpp-2m})
 * @param eta             DDIM η in [0, 1] (0 = deterministic) of each stage that samples with {@code ddim}; the
 *                        other sampler is deterministic, so η above 0 needs at least one stage on {@code ddim}
 * @param priorGuidance   classifier-free guidance scale of the prior, 0–{@value #MAX_GUIDANCE}
 * @param decoderGuidance classifier-free guidance scale of the decoder, 0–{@value #MAX_GUIDANCE}
 * @param sampler         the decoder's sampler, and the prior's unless {@code priorSampler} names another:
 *                        {@code ddim} (the default) or {@code dpmpp-2m} ({@link SamplerKind}). Written only when it
 *                        is not the default, so a DDIM request reads the same to builds that predate the field
 * @param priorSampler    the prior's sampler where it differs from {@code sampler}; null (and left out of the JSON)
 *                        when it is the same, so a request of one sampler reads the same to builds that predate the
 *                        field, and one of two is refused by them rather than drawn with the wrong one. The HTTP API
 *                        fills in {@link ApiDefaults#priorSampler} and {@link ApiDefaults#decoderSampler} for a request that
 *                        names no sampler
 * @param size            side of the images in pixels: {@value #BASE_SIZE} (the base decoder's own images) or
 *                        {@link #SIZES} above it, which the upsampler pool draws from the base images. Absent means
 *                        {@value #BASE_SIZE}, what every request meant before the field existed; written only when it
 *                        is not, so a base-size request reads the same to builds that predate it (and a larger one
 *                        is refused by them, not silently drawn small). The gateway fills in its deployment's default
 * @param submittedAt     ISO-8601 instant
 * @param idempotencyKey  the client's Idempotency-Key, if any
 * @param image           for a variations job: the source image, base64 of an RGB PNG at most
 *                        {@value #MAX_SOURCE_IMAGE_SIDE} px a side (what the gateway made of the upload). The prior
 *                        worker embeds it with CLIP and runs no prior. Carried on the requests topic only: the copies
 *                        of the request in statuses and embeddings messages leave it out ({@link #withoutImage()})
 * @param imageSha256     for a variations job: the hex SHA-256 of the PNG that {@code image} holds; it stays when the
 *                        image is left out, so every copy of the request says which image the job varies. Computed
 *                        from {@code image} when absent; must match it when both are given
 * @param owner           who submitted the job, as the gateway names callers: a one-way id of the API key
 *                        (never the key), so that a caller can list its own jobs; null for jobs produced to Kafka
 * @param webhook         an absolute http(s) URL the gateways POST the job's final state to (the gateway checks
 *                        it against its operator's allow-list); null for none
 */
public record GenerationRequest(
        Integer schemaVersion,
        String jobId,
        String prompt,
        Integer n,
        Long seed,
        Integer priorSteps,
        Integer decoderSteps,
        Double eta,
        Double priorGuidance,
        Double decoderGuidance,
        @JsonInclude(value = JsonInclude.Include.CUSTOM, valueFilter = DefaultSampler.class) String sampler,
        @JsonInclude(JsonInclude.Include.NON_NULL) String priorSampler,
        @JsonInclude(value = JsonInclude.Include.CUSTOM, valueFilter = BaseSize.class) Integer size,
        String submittedAt,
        String idempotencyKey,
        @JsonInclude(JsonInclude.Include.NON_NULL) String image,
        @JsonInclude(JsonInclude.Include.NON_NULL) String imageSha256,
        @JsonInclude(JsonInclude.Include.NON_NULL) String owner,
        @JsonInclude(JsonInclude.Include.NON_NULL) String webhook) {

    public static final int MAX_PROMPT_CHARS = 1000;
    public static final int MAX_IMAGES = 8;
    public static final int MAX_STEPS = 1000;
    public static final double MAX_GUIDANCE = 20.0;
    public static final int DEFAULT_N = 1;
    /** The prior's steps of a request that names neither a sampler nor steps (the record's, not the API's). */
    public static final int DEFAULT_PRIOR_STEPS = SamplerKind.DEFAULT.defaultPriorSteps();
    /** The decoder's steps of a request that names neither a sampler nor steps (the record's, not the API's). */
    public static final int DEFAULT_DECODER_STEPS = SamplerKind.DEFAULT.defaultDecoderSteps();
    public static final double DEFAULT_ETA = 0.0;
    public static final double DEFAULT_PRIOR_GUIDANCE = 2.0;
    public static final double DEFAULT_DECODER_GUIDANCE = 2.0;
    public static final int MAX_IDEMPOTENCY_KEY_CHARS = 200;
    /** The base decoder's image side: a job of this size needs no upsampler. */
    public static final int BASE_SIZE = 32;
    /** Every image side a job may ask for: the base, and what the 32 → 256 upsampler and its area averages give. */
    public static final List<Integer> SIZES = List.of(BASE_SIZE, 64, 128, 256);

    /** The largest side of a variations job's source image: CLIP sees far less (32 px for the shipped one). */
    public static final int MAX_SOURCE_IMAGE_SIDE = 128;
    /** Base64 characters of a source image at most: an RGB PNG of 128 × 128 px is at most ~49 KiB. */
    public static final int MAX_IMAGE_CHARS = 128 * 1024;
    private static final Pattern SHA256_HEX = Pattern.compile("[0-9a-f]{64}");

    public static final String DEFAULT_SAMPLER = SamplerKind.DEFAULT.configName();
    /** An unknown sampler name is echoed in the error only up to this length. */
    private static final int MAX_SHOWN_SAMPLER_CHARS = 32;

    private static final Pattern JOB_ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");

    public GenerationRequest {
        schemaVersion = SchemaVersions.check(schemaVersion);
        InvalidMessageException.require(jobId != null, "job_id", "job_id is required");
        InvalidMessageException.require(JOB_ID.matcher(jobId).matches(), "job_id",
                "job_id must be 1-64 characters of A-Z a-z 0-9 . _ -");
        InvalidMessageException.require(!jobId.equals(".") && !jobId.equals(".."), "job_id",
                "job_id must not be . or ..");
        InvalidMessageException.require(prompt != null, "prompt", "prompt is required");
        InvalidMessageException.requireWellFormed(prompt, "prompt");
        InvalidMessageException.require(!prompt.isBlank(), "prompt", "prompt must not be empty");
        InvalidMessageException.require(prompt.length() <= MAX_PROMPT_CHARS, "prompt",
                "prompt must be at most " + MAX_PROMPT_CHARS + " characters, got " + prompt.length());
        n = n == null ? DEFAULT_N : n;
        InvalidMessageException.require(n >= 1 && n <= MAX_IMAGES, "n", "n must be in 1.." + MAX_IMAGES + ", got " + n);
        seed = seed == null ? seedFromJobId(jobId) : seed;
        sampler = checkSampler(sampler, "sampler");
        priorSampler = priorSampler == null ? null : checkSampler(priorSampler, "prior_sampler");
        priorSampler = sampler.equals(priorSampler) ? null : priorSampler;
        SamplerKind priorKind = SamplerKind.fromConfigName(priorSampler == null ? sampler : priorSampler);
        SamplerKind decoderKind = SamplerKind.fromConfigName(sampler);
        priorSteps = priorSteps == null ? priorKind.defaultPriorSteps() : priorSteps;
        InvalidMessageException.require(priorSteps >= 1 && priorSteps <= MAX_STEPS, "prior_steps",
                "prior_steps must be in 1.." + MAX_STEPS + ", got " + priorSteps);
        decoderSteps = decoderSteps == null ? decoderKind.defaultDecoderSteps() : decoderSteps;
        InvalidMessageException.require(decoderSteps >= 1 && decoderSteps <= MAX_STEPS, "decoder_steps",
                "decoder_steps must be in 1.." + MAX_STEPS + ", got " + decoderSteps);
        eta = eta == null ? DEFAULT_ETA : eta;
        InvalidMessageException.require(eta >= 0.0 && eta <= 1.0, "eta", "eta must be in [0, 1], got " + eta);
        priorGuidance = priorGuidance == null ? DEFAULT_PRIOR_GUIDANCE : priorGuidance;
        InvalidMessageException.require(priorGuidance >= 0.0 && priorGuidance <= MAX_GUIDANCE, "prior_guidance",
                "prior_guidance must be in [0, " + MAX_GUIDANCE + "], got " + priorGuidance);
        decoderGuidance = decoderGuidance == null ? DEFAULT_DECODER_GUIDANCE : decoderGuidance;
        InvalidMessageException.require(decoderGuidance >= 0.0 && decoderGuidance <= MAX_GUIDANCE,
                "decoder_guidance", "decoder_guidance must be in [0, " + MAX_GUIDANCE + "], got " + decoderGuidance);
        InvalidMessageException.require(eta == 0.0 || decoderKind.acceptsEta() || priorKind.acceptsEta(), "eta",
                "eta must be 0 when no stage samples with " + SamplerKind.DDIM.configName() + " (sampler "
                        + sampler + " is deterministic; eta applies to " + SamplerKind.DDIM.configName()
                        + " only), got " + eta);
        size = size == null ? BASE_SIZE : size;
        InvalidMessageException.require(SIZES.contains(size), "size", "size must be one of " + SIZES + ", got " + size);
        submittedAt = submittedAt == null ? Instant.now().toString() : submittedAt;
        checkInstant(submittedAt, "submitted_at");
        InvalidMessageException.require(idempotencyKey == null
                        || (!idempotencyKey.isEmpty() && idempotencyKey.length() <= MAX_IDEMPOTENCY_KEY_CHARS),
                "idempotency_key", "idempotency_key must be 1-" + MAX_IDEMPOTENCY_KEY_CHARS + " characters");
        InvalidMessageException.requireWellFormed(idempotencyKey, "idempotency_key");
        if (image != null) {
            InvalidMessageException.require(image.length() <= MAX_IMAGE_CHARS, "image",
                    "image must be at most " + MAX_IMAGE_CHARS + " base64 characters, got " + image.length());
            String hash;
            try {
                hash = sha256Hex(java.util.Base64.getDecoder().decode(image));
            } catch (IllegalArgumentException e) {
                throw new InvalidMessageException("image", "image must be base64: " + e.getMessage());
            }
            InvalidMessageException.require(imageSha256 == null || imageSha256.equals(hash), "image_sha256",
                    "image_sha256 does not match the image");
            imageSha256 = hash;
        }
        InvalidMessageException.require(imageSha256 == null || SHA256_HEX.matcher(imageSha256).matches(),
                "image_sha256", "image_sha256 must be 64 lowercase hex digits");
        InvalidMessageException.require(owner == null || OWNER.matcher(owner).matches(), "owner",
                "owner must be 1-64 characters of a-z 0-9 -");
        InvalidMessageException.require(webhook == null || webhook.length() <= MAX_WEBHOOK_CHARS
                && WEBHOOK.matcher(webhook).matches(), "webhook",
                "webhook must be an absolute http or https URL of at most " + MAX_WEBHOOK_CHARS + " characters");
    }

    public static final int MAX_WEBHOOK_CHARS = 2000;
    private static final Pattern WEBHOOK = Pattern.compile("https?://[^\\s/?#]+(/[^\\s]*)?");

    /** The same request, whose final state is POSTed to {@code url}. */
    public GenerationRequest withWebhook(String url) {
        return new GenerationRequest(schemaVersion, jobId, prompt, n, seed, priorSteps, decoderSteps, eta,
                priorGuidance, decoderGuidance, sampler, priorSampler, size, submittedAt, idempotencyKey, image, imageSha256, owner,
                url);
    }

    private static final Pattern OWNER = Pattern.compile("[a-z0-9-]{1,64}");

    /** The same request, submitted by {@code caller} (the gateway's one-way id of its API key). */
    public GenerationRequest withOwner(String caller) {
        return new GenerationRequest(schemaVersion, jobId, prompt, n, seed, priorSteps, decoderSteps, eta,
                priorGuidance, decoderGuidance, sampler, priorSampler, size, submittedAt, idempotencyKey, image, imageSha256, caller,
                webhook);
    }

    /** The hex SHA-256 of {@code bytes}. */
    public static String sha256Hex(byte[] bytes) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Whether this job varies an image (CLIP image embedding → decoder) rather than drawing a prompt. */
    @com.fasterxml.jackson.annotation.JsonIgnore
    public boolean isVariation() {
        return imageSha256 != null;
    }

    /** The source image's PNG bytes; empty for a text job, or a copy without the image. */
    public java.util.Optional<byte[]> imagePng() {
        return image == null ? java.util.Optional.empty() : java.util.Optional.of(java.util.Base64.getDecoder().decode(image));
    }

    /** The same request without the image itself (its hash stays): what statuses and embeddings messages carry. */
    public GenerationRequest withoutImage() {
        return image == null ? this : new GenerationRequest(schemaVersion, jobId, prompt, n, seed, priorSteps,
                decoderSteps, eta, priorGuidance, decoderGuidance, sampler, priorSampler, size, submittedAt,
                idempotencyKey, null,
                imageSha256, owner, webhook);
    }

    /**
     * This request carrying {@code source}'s image (what a status's copy of a variation lacks), which must be the
     * image this request names by its hash.
     */
    public GenerationRequest withImageOf(GenerationRequest source) {
        if (imageSha256 == null || !imageSha256.equals(source.imageSha256) || source.image == null) {
            throw new IllegalArgumentException("job " + jobId + ": the source request carries another image or none");
        }
        return new GenerationRequest(schemaVersion, jobId, prompt, n, seed, priorSteps, decoderSteps, eta,
                priorGuidance, decoderGuidance, sampler, priorSampler, size, submittedAt, idempotencyKey, source.image,
                imageSha256, owner, webhook);
    }

    /** A variation runs no prior: its one "prior step" is the CLIP image encoding (and what its cost counts). */
    public static final int VARIATION_PRIOR_STEPS = 1;

    /** A variations job as the gateway builds it: {@code png} is the normalised source image. */
    public static GenerationRequest variation(String jobId, String label, Integer n, Long seed, Integer decoderSteps,
                                              Double eta, Double decoderGuidance, String sampler, Integer size,
                                              byte[] png, Instant submittedAt, String idempotencyKey) {
        return new GenerationRequest(SchemaVersions.CURRENT, jobId, label, n, seed, VARIATION_PRIOR_STEPS, decoderSteps, eta, null,
                decoderGuidance, sampler, null, size, submittedAt.toString(), idempotencyKey,
                java.util.Base64.getEncoder().encodeToString(png), null, null, null);
    }

    /** A request as the gateway builds it; null parameters take their defaults. */
    public static GenerationRequest of(String jobId, String prompt, Integer n, Long seed, Integer priorSteps,
                                       Integer decoderSteps, Double eta, Double priorGuidance,
                                       Double decoderGuidance, String sampler, String priorSampler, Integer size,
                                       Instant submittedAt, String idempotencyKey) {
        return new GenerationRequest(SchemaVersions.CURRENT, jobId, prompt, n, seed, priorSteps, decoderSteps, eta,
                priorGuidance, decoderGuidance, sampler, priorSampler, size, submittedAt.toString(), idempotencyKey,
                null, null, null, null);
    }

    /** A request whose stages sample alike. */
    public static GenerationRequest of(String jobId, String prompt, Integer n, Long seed, Integer priorSteps,
                                       Integer decoderSteps, Double eta, Double priorGuidance,
                                       Double decoderGuidance, String sampler, Integer size, Instant submittedAt,
                                       String idempotencyKey) {
        return of(jobId, prompt, n, seed, priorSteps, decoderSteps, eta, priorGuidance, decoderGuidance, sampler,
                null, size, submittedAt, idempotencyKey);
    }

    /** A request of the base size. */
    public static GenerationRequest of(String jobId, String prompt, Integer n, Long seed, Integer priorSteps,
                                       Integer decoderSteps, Double eta, Double priorGuidance,
                                       Double decoderGuidance, String sampler, Instant submittedAt,
                                       String idempotencyKey) {
        return of(jobId, prompt, n, seed, priorSteps, decoderSteps, eta, priorGuidance, decoderGuidance, sampler,
                null, submittedAt, idempotencyKey);
    }

    /** A request with the default sampler. */
    public static GenerationRequest of(String jobId, String prompt, Integer n, Long seed, Integer priorSteps,
                                       Integer decoderSteps, Double eta, Double priorGuidance,
                                       Double decoderGuidance, Instant submittedAt, String idempotencyKey) {
        return of(jobId, prompt, n, seed, priorSteps, decoderSteps, eta, priorGuidance, decoderGuidance, null,
                submittedAt, idempotencyKey);
    }

    /** The same request with another job id (tests and tools). */
    public GenerationRequest withJobId(String newJobId) {
        return new GenerationRequest(schemaVersion, newJobId, prompt, n, seed, priorSteps, decoderSteps, eta,
                priorGuidance, decoderGuidance, sampler, priorSampler, size, submittedAt, idempotencyKey, image, imageSha256, owner, webhook);
    }

    /** The same request at another image size (tests and tools). */
    public GenerationRequest withSize(int newSize) {
        return new GenerationRequest(schemaVersion, jobId, prompt, n, seed, priorSteps, decoderSteps, eta,
                priorGuidance, decoderGuidance, sampler, priorSampler, newSize, submittedAt, idempotencyKey, image, imageSha256, owner, webhook);
    }

    /** The sampler the prior draws this job's embeddings with. */
    public String priorStageSampler() {
        return priorSampler == null ? sampler : priorSampler;
    }

    /** The η of a stage sampled with {@code stageSampler}: 0 for a deterministic sampler. */
    public double etaOf(String stageSampler) {
        return SamplerKind.fromConfigName(stageSampler).acceptsEta() ? eta : 0.0;
    }

    /** Whether the upsampler pool draws this job's final images (its size is above the base). */
    public boolean needsUpsampler() {
        return size > BASE_SIZE;
    }

    /** The same request submitted at another instant (a Kafka submission without {@code submitted_at}). */
    public GenerationRequest withSubmittedAt(Instant at) {
        return new GenerationRequest(schemaVersion, jobId, prompt, n, seed, priorSteps, decoderSteps, eta,
                priorGuidance, decoderGuidance, sampler, priorSampler, size, at.toString(), idempotencyKey, image, imageSha256, owner, webhook);
    }

    /** True when both ask for the same images (everything but the job id, timestamps and key). */
    public boolean sameParameters(GenerationRequest other) {
        return prompt.equals(other.prompt) && n.equals(other.n) && seed.equals(other.seed)
                && priorSteps.equals(other.priorSteps) && decoderSteps.equals(other.decoderSteps)
                && eta.equals(other.eta) && priorGuidance.equals(other.priorGuidance)
                && decoderGuidance.equals(other.decoderGuidance) && sampler.equals(other.sampler)
                && priorStageSampler().equals(other.priorStageSampler())
                && size.equals(other.size) && java.util.Objects.equals(imageSha256, other.imageSha256);
    }

    public Instant submittedInstant() {
        return Instant.parse(submittedAt);
    }

    /** A stable 64-bit seed from the job id (FNV-1a), for submissions that name none. */
    static long seedFromJobId(String jobId) {
        long h = 0xcbf29ce484222325L;
        for (int i = 0; i < jobId.length(); i++) {
            h ^= jobId.charAt(i);
            h *= 0x100000001b3L;
        }
        return h & Long.MAX_VALUE;
    }

    /** The sampler's canonical name; an absent one is the default. */
    private static String checkSampler(String sampler, String field) {
        if (sampler == null) {
            return DEFAULT_SAMPLER;
        }
        try {
            return SamplerKind.fromConfigName(sampler).configName();
        } catch (IllegalArgumentException e) {
            String shown = sampler.length() <= MAX_SHOWN_SAMPLER_CHARS ? "'" + sampler + "'" : "a longer string";
            throw new InvalidMessageException(field, field + " must be one of " + SamplerKind.names()
                    + ", got " + shown);
        }
    }

    /** Jackson's filter that leaves the default sampler out of the JSON (true = leave out). */
    static final class DefaultSampler {
        @Override
        public boolean equals(Object value) {
            return DEFAULT_SAMPLER.equals(value);
        }

        @Override
        public int hashCode() {
            return DEFAULT_SAMPLER.hashCode();
        }
    }

    /** Jackson's filter that leaves the base size out of the JSON (true = leave out). */
    static final class BaseSize {
        @Override
        public boolean equals(Object value) {
            return Integer.valueOf(BASE_SIZE).equals(value);
        }

        @Override
        public int hashCode() {
            return Integer.hashCode(BASE_SIZE);
        }
    }

    static void checkInstant(String value, String field) {
        if (value == null) {
            return;
        }
        try {
            Instant.parse(value);
        } catch (DateTimeParseException e) {
            throw new InvalidMessageException(field, field + " must be an ISO-8601 instant, got '" + value + "'");
        }
    }
}
