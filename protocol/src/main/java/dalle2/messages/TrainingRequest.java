package dalle2.messages;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * A training job as it travels on the training jobs topic (key = training id): which model to train, on which
 * dataset, for how many steps, with which of the trainer's options.
 *
 * @param schemaVersion   {@value SchemaVersions#CURRENT}
 * @param trainingId      1–64 characters of {@code [A-Za-z0-9._-]} (it becomes an object-key prefix)
 * @param model           {@code clip}, {@code prior}, {@code decoder} or {@code upsampler}
 * @param dataset         what {@code dalle2 train --data} takes ({@code fashion-mnist}, {@code emoji;vendors=default},
 *                        {@code jsonl:DIR}); locations are folders under the worker's data folder, so they must be
 *                        relative and must not climb out of it with {@code ..}
 * @param steps           optimizer steps of the run, 1–{@value #MAX_STEPS}
 * @param hyperParameters the trainer's options by snake_case name ({@link HyperParameters}); absent ones take the
 *                        trainer's defaults
 * @param baseVersion     a published version of the same model to start from (its weights), or null for a fresh
 *                        model
 * @param submittedAt     ISO-8601 instant
 * @param owner           the gateway's one-way id of the submitting API key, or null
 */
public record TrainingRequest(
        Integer schemaVersion,
        String trainingId,
        String model,
        String dataset,
        Long steps,
        Map<String, Object> hyperParameters,
        @JsonInclude(JsonInclude.Include.NON_NULL) String baseVersion,
        String submittedAt,
        @JsonInclude(JsonInclude.Include.NON_NULL) String owner) {

    public static final long MAX_STEPS = 10_000_000L;
    public static final int MAX_DATASET_CHARS = 1000;
    private static final Pattern ID = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    private static final Pattern VERSION = Pattern.compile("[A-Za-z0-9._@-]{1,128}");
    private static final Pattern OWNER = Pattern.compile("[a-z0-9-]{1,64}");

    public TrainingRequest {
        schemaVersion = SchemaVersions.check(schemaVersion);
        InvalidMessageException.require(trainingId != null, "training_id", "training_id is required");
        InvalidMessageException.require(ID.matcher(trainingId).matches() && !trainingId.equals(".")
                        && !trainingId.equals(".."), "training_id",
                "training_id must be 1-64 characters of A-Z a-z 0-9 . _ - (not . or ..)");
        InvalidMessageException.require(model != null, "model", "model is required: one of "
                + String.join(", ", HyperParameters.MODELS));
        InvalidMessageException.require(HyperParameters.MODELS.contains(model), "model",
                "model must be one of " + String.join(", ", HyperParameters.MODELS) + ", got '" + shown(model) + "'");
        InvalidMessageException.require(dataset != null, "dataset", "dataset is required (e.g. fashion-mnist)");
        InvalidMessageException.requireWellFormed(dataset, "dataset");
        InvalidMessageException.require(!dataset.isBlank(), "dataset", "dataset must not be empty");
        InvalidMessageException.require(dataset.length() <= MAX_DATASET_CHARS, "dataset",
                "dataset must be at most " + MAX_DATASET_CHARS + " characters");
        checkLocations(dataset);
        InvalidMessageException.require(steps != null, "steps", "steps is required");
        InvalidMessageException.require(steps >= 1 && steps <= MAX_STEPS, "steps",
                "steps must be in 1.." + MAX_STEPS + ", got " + steps);
        hyperParameters = hyperParameters == null ? Map.of()
                : Collections.unmodifiableMap(new LinkedHashMap<>(hyperParameters));
        HyperParameters.check(model, hyperParameters);
        InvalidMessageException.require(baseVersion == null || VERSION.matcher(baseVersion).matches(),
                "base_version", "base_version must be 1-128 characters of A-Z a-z 0-9 . _ - @");
        submittedAt = submittedAt == null ? Instant.now().toString() : submittedAt;
        GenerationRequest.checkInstant(submittedAt, "submitted_at");
        InvalidMessageException.require(owner == null || OWNER.matcher(owner).matches(), "owner",
                "owner must be 1-64 characters of a-z 0-9 -");
    }

    /**
     * Whether {@code other} asks for the same training (model, dataset, steps, hyper-parameters, starting
     * version): a retry with the same Idempotency-Key, as opposed to that key reused for another job.
     */
    public boolean sameParameters(TrainingRequest other) {
        return model.equals(other.model) && dataset.equals(other.dataset) && steps.equals(other.steps)
                && hyperParameters.equals(other.hyperParameters) && java.util.Objects.equals(baseVersion,
                other.baseVersion);
    }

    public static TrainingRequest of(String trainingId, String model, String dataset, long steps,
                                     Map<String, Object> hyperParameters, String baseVersion, Instant submittedAt) {
        return new TrainingRequest(null, trainingId, model, dataset, steps, hyperParameters, baseVersion,
                submittedAt.toString(), null);
    }

    /** The same request, submitted by {@code caller} (the gateway's one-way id of its API key). */
    public TrainingRequest withOwner(String caller) {
        return new TrainingRequest(schemaVersion, trainingId, model, dataset, steps, hyperParameters, baseVersion,
                submittedAt, caller);
    }

    /**
     * A worker reads dataset locations inside its own data folder: a location that is absolute or climbs out of it
     * would let a job read any file the worker can.
     */
    private static void checkLocations(String dataset) {
        for (String part : dataset.split(",")) {
            int colon = part.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String location = part.substring(colon + 1).trim().replace('\\', '/');
            InvalidMessageException.require(!location.startsWith("/") && !location.matches("^[A-Za-z]:.*"), "dataset",
                    "dataset location '" + shown(location) + "' must be relative to the worker's data folder");
            for (String segment : location.split("/")) {
                InvalidMessageException.require(!segment.equals(".."), "dataset",
                        "dataset location '" + shown(location) + "' must not leave the worker's data folder (..)");
            }
        }
    }

    private static String shown(String text) {
        return text.length() > 40 ? text.substring(0, 40) + "…" : text;
    }
}
