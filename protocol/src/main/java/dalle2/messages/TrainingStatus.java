package dalle2.messages;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The last word on a training, on the compacted training status topic (key = training id): its state, how far it
 * got, its recent losses, the sample grids it wrote, its last checkpoint in object storage and, once succeeded, the
 * model version it published.
 *
 * @param request          the job as submitted
 * @param step             optimizer steps done (0 until the first one)
 * @param losses           the loss at every {@code log_interval} steps, the last {@value #MAX_LOSSES} of them
 * @param samples          the sample grids written to object storage, the last {@value #MAX_SAMPLES} of them
 * @param checkpointStep   the step of the last checkpoint in object storage (a resumed run starts there), or null
 * @param worker           the trainer worker running it (the latest, when a worker died and another took over)
 * @param attempts         how many times a worker started it (1 for a run no worker died in)
 * @param publishedVersion the model version the finished run published
 */
public record TrainingStatus(
        Integer schemaVersion,
        String trainingId,
        TrainingState state,
        TrainingRequest request,
        long step,
        long steps,
        List<LossPoint> losses,
        List<SampleGrid> samples,
        Long checkpointStep,
        String worker,
        int attempts,
        @JsonInclude(JsonInclude.Include.NON_NULL) String publishedVersion,
        @JsonInclude(JsonInclude.Include.NON_NULL) JobStatus.ErrorInfo error,
        String submittedAt,
        String startedAt,
        String updatedAt,
        String finishedAt) {

    public static final int MAX_LOSSES = 200;
    public static final int MAX_SAMPLES = 20;

    /** The loss after {@code step} optimizer steps, at {@code learningRate}. */
    public record LossPoint(long step, double loss, double learningRate) {
    }

    /** A grid of samples drawn after {@code step} steps, a PNG at {@code key} in the bucket. */
    public record SampleGrid(long step, String key) {
        public SampleGrid {
            InvalidMessageException.require(key != null && !key.isEmpty(), "samples.key", "a sample grid needs a key");
        }
    }

    public TrainingStatus {
        schemaVersion = SchemaVersions.check(schemaVersion);
        InvalidMessageException.require(trainingId != null && !trainingId.isEmpty(), "training_id",
                "training_id is required");
        InvalidMessageException.require(state != null, "state", "state is required");
        InvalidMessageException.require(request == null || request.trainingId().equals(trainingId), "request",
                "the request's training_id must be the status's");
        InvalidMessageException.require(step >= 0, "step", "step must be >= 0");
        losses = losses == null ? List.of() : List.copyOf(losses);
        samples = samples == null ? List.of() : List.copyOf(samples);
        GenerationRequest.checkInstant(submittedAt, "submitted_at");
        GenerationRequest.checkInstant(startedAt, "started_at");
        GenerationRequest.checkInstant(updatedAt, "updated_at");
        GenerationRequest.checkInstant(finishedAt, "finished_at");
    }

    public static TrainingStatus queued(TrainingRequest request) {
        return new TrainingStatus(null, request.trainingId(), TrainingState.QUEUED, request, 0, request.steps(),
                List.of(), List.of(), null, null, 0, null, null, request.submittedAt(), null, request.submittedAt(),
                null);
    }

    /**
     * Taken by {@code worker}, resuming at {@code step} (0 for a fresh run): one more attempt. Losses and grids past
     * that step are dropped, since the resumed run reports them again.
     */
    public TrainingStatus running(String byWorker, long fromStep, Instant now) {
        return new TrainingStatus(schemaVersion, trainingId, TrainingState.RUNNING, request, fromStep, steps,
                losses.stream().filter(p -> p.step() <= fromStep).toList(),
                samples.stream().filter(g -> g.step() <= fromStep).toList(), checkpointStep, byWorker,
                attempts + 1, null, null, submittedAt, startedAt == null ? now.toString() : startedAt, now.toString(),
                null);
    }

    public TrainingStatus progress(long atStep, LossPoint loss, Instant now) {
        List<LossPoint> more = losses;
        if (loss != null) {
            more = new ArrayList<>(losses);
            more.add(loss);
            if (more.size() > MAX_LOSSES) {
                more = more.subList(more.size() - MAX_LOSSES, more.size());
            }
        }
        return new TrainingStatus(schemaVersion, trainingId, state, request, atStep, steps, more, samples,
                checkpointStep, worker, attempts, publishedVersion, error, submittedAt, startedAt, now.toString(),
                finishedAt);
    }

    public TrainingStatus withSample(SampleGrid grid, Instant now) {
        List<SampleGrid> more = new ArrayList<>(samples);
        more.add(grid);
        if (more.size() > MAX_SAMPLES) {
            more = more.subList(more.size() - MAX_SAMPLES, more.size());
        }
        return new TrainingStatus(schemaVersion, trainingId, state, request, step, steps, losses, more, checkpointStep,
                worker, attempts, publishedVersion, error, submittedAt, startedAt, now.toString(), finishedAt);
    }

    public TrainingStatus checkpointed(long atStep, Instant now) {
        return new TrainingStatus(schemaVersion, trainingId, state, request, step, steps, losses, samples, atStep,
                worker, attempts, publishedVersion, error, submittedAt, startedAt, now.toString(), finishedAt);
    }

    public TrainingStatus succeeded(String version, Instant now) {
        return new TrainingStatus(schemaVersion, trainingId, TrainingState.SUCCEEDED, request, step, steps, losses,
                samples, checkpointStep, worker, attempts, version, null, submittedAt, startedAt, now.toString(),
                now.toString());
    }

    /** Cancelled at the user's request: what it had done so far stays (steps, losses, samples, checkpoint). */
    public TrainingStatus cancelled(Instant now) {
        return new TrainingStatus(schemaVersion, trainingId, TrainingState.CANCELLED, request, step, steps, losses,
                samples, checkpointStep, worker, attempts, null, null, submittedAt, startedAt, now.toString(),
                now.toString());
    }

    public TrainingStatus failed(String code, String message, Instant now) {
        return new TrainingStatus(schemaVersion, trainingId, TrainingState.FAILED, request, step, steps, losses,
                samples, checkpointStep, worker, attempts, null, new JobStatus.ErrorInfo(code, message), submittedAt,
                startedAt, now.toString(), now.toString());
    }
}
