package dalle2.messages;

import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The latest known state of a job, on the compacted status topic (key = job id). Every status is complete on
 * its own (parameters, timestamps so far, model versions), because compaction keeps only the last one per job.
 *
 * @param request      the parameters actually used (seed included); null only for a dead-lettered record whose
 *                     request could not be read
 * @param models       model versions by role ("prior", "decoder")
 * @param progress     the running stage's step, or null
 * @param imageKeys    object keys {@code <job id>/<k>.png} once succeeded
 * @param error        why the job failed, or null
 */
public record JobStatus(
        Integer schemaVersion,
        String jobId,
        JobState state,
        GenerationRequest request,
        Timestamps timestamps,
        Map<String, String> models,
        Progress progress,
        List<String> imageKeys,
        ErrorInfo error) {

    /** ISO-8601 instants of the stages; later stages null until reached. */
    public record Timestamps(String submittedAt, String priorStartedAt, String priorFinishedAt,
                             String decoderStartedAt, String finishedAt, String updatedAt) {
        public Timestamps {
            GenerationRequest.checkInstant(submittedAt, "timestamps.submitted_at");
            GenerationRequest.checkInstant(priorStartedAt, "timestamps.prior_started_at");
            GenerationRequest.checkInstant(priorFinishedAt, "timestamps.prior_finished_at");
            GenerationRequest.checkInstant(decoderStartedAt, "timestamps.decoder_started_at");
            GenerationRequest.checkInstant(finishedAt, "timestamps.finished_at");
            InvalidMessageException.require(updatedAt != null, "timestamps.updated_at", "updated_at is required");
            GenerationRequest.checkInstant(updatedAt, "timestamps.updated_at");
        }

        public static Timestamps submitted(String submittedAt) {
            return new Timestamps(submittedAt, null, null, null, null, Instant.now().toString());
        }

        public Timestamps withPriorStarted(Instant t) {
            return new Timestamps(submittedAt, t.toString(), priorFinishedAt, decoderStartedAt, finishedAt, t.toString());
        }

        public Timestamps withPriorFinished(Instant t) {
            return new Timestamps(submittedAt, priorStartedAt, t.toString(), decoderStartedAt, finishedAt, t.toString());
        }

        public Timestamps withDecoderStarted(Instant t) {
            return new Timestamps(submittedAt, priorStartedAt, priorFinishedAt, t.toString(), finishedAt, t.toString());
        }

        public Timestamps withFinished(Instant t) {
            return new Timestamps(submittedAt, priorStartedAt, priorFinishedAt, decoderStartedAt, t.toString(), t.toString());
        }

        public Timestamps touched(Instant t) {
            return new Timestamps(submittedAt, priorStartedAt, priorFinishedAt, decoderStartedAt, finishedAt, t.toString());
        }
    }

    /** Step {@code step} of {@code steps} of a stage ("prior" or "decoder"). */
    public record Progress(String stage, Integer step, Integer steps) {
        public Progress {
            InvalidMessageException.require(stage != null, "progress.stage", "stage is required");
            InvalidMessageException.require(step != null && steps != null && steps >= 1 && step >= 0 && step <= steps,
                    "progress.step", "progress must satisfy 0 <= step <= steps, steps >= 1");
        }
    }

    /** A machine-readable code and a sentence. */
    public record ErrorInfo(String code, String message) {
        public ErrorInfo {
            InvalidMessageException.require(code != null && !code.isEmpty(), "error.code", "error code is required");
            message = message == null ? "" : message;
        }
    }

    public JobStatus {
        schemaVersion = SchemaVersions.check(schemaVersion);
        InvalidMessageException.require(jobId != null && !jobId.isEmpty(), "job_id", "job_id is required");
        InvalidMessageException.require(state != null, "state", "state is required");
        InvalidMessageException.require(request == null || request.jobId().equals(jobId), "request",
                "request.job_id must equal job_id");
        InvalidMessageException.require(timestamps != null, "timestamps", "timestamps are required");
        // a variation's source image travels on the requests topic only: statuses stay small, its hash says which
        request = request == null ? null : request.withoutImage();
        models = models == null ? Map.of() : Map.copyOf(new LinkedHashMap<>(models));
        imageKeys = imageKeys == null ? List.of() : List.copyOf(imageKeys);
        InvalidMessageException.require(state != JobState.FAILED || error != null, "error", "a failed status needs an error");
        InvalidMessageException.require(state != JobState.SUCCEEDED || request == null
                || imageKeys.size() == request.n(), "image_keys", "a succeeded status needs one key per image");
    }

    /** The first status of a job, written before its request. */
    public static JobStatus queued(GenerationRequest request) {
        return new JobStatus(SchemaVersions.CURRENT, request.jobId(), JobState.QUEUED, request,
                Timestamps.submitted(request.submittedAt()), Map.of(), null, List.of(), null);
    }

    public JobStatus with(JobState newState, Timestamps newTimestamps, Progress newProgress) {
        return new JobStatus(schemaVersion, jobId, newState, request, newTimestamps, models, newProgress, imageKeys, error);
    }

    public JobStatus withModel(String role, String version) {
        Map<String, String> m = new LinkedHashMap<>(models);
        m.put(role, version);
        return new JobStatus(schemaVersion, jobId, state, request, timestamps, m, progress, imageKeys, error);
    }

    public JobStatus succeeded(List<String> keys, Instant at) {
        return new JobStatus(schemaVersion, jobId, JobState.SUCCEEDED, request, timestamps.withFinished(at), models,
                null, keys, null);
    }

    public JobStatus failed(String code, String message, Instant at) {
        return new JobStatus(schemaVersion, jobId, JobState.FAILED, request, timestamps.withFinished(at), models,
                null, List.of(), new ErrorInfo(code, message));
    }

    public JobStatus cancelled(Instant at) {
        return new JobStatus(schemaVersion, jobId, JobState.CANCELLED, request, timestamps.withFinished(at), models,
                null, List.of(), null);
    }

    /** A failed status for a job whose request could not be read (dead-lettered). */
    public static JobStatus failedUnreadable(String jobId, String code, String message) {
        Instant now = Instant.now();
        return new JobStatus(SchemaVersions.CURRENT, jobId, JobState.FAILED, null,
                new Timestamps(null, null, null, null, now.toString(), now.toString()), Map.of(), null, List.of(),
                new ErrorInfo(code, message));
    }
}
