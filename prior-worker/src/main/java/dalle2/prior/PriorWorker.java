package dalle2.prior;

import dalle2.djl.DjlRuntime;
import dalle2.inference.EmbedTask;
import dalle2.inference.ImageEmbeddingModel;
import dalle2.inference.SourceImages;
import dalle2.kafka.Topics;
import dalle2.messages.GenerationRequest;
import dalle2.messages.ImageEmbeddings;
import dalle2.messages.JobState;
import dalle2.messages.JobStatus;
import dalle2.messages.Messages;
import dalle2.messages.SamplingParams;
import dalle2.pipeline.StageWorker;
import dalle2.pipeline.ThreadShare;
import dalle2.registry.ServedModels;
import java.awt.image.BufferedImage;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;

/**
 * A member of the prior pool (consumer group {@value Topics#PRIOR_GROUP}): reads generation requests, batches
 * their images across jobs, runs CLIP text encoding + the diffusion prior, and publishes one
 * {@link ImageEmbeddings} message per job (then its status). A variations job (a request with an image) gets the
 * image's CLIP image embedding for each of its images instead, without the prior: the prior pool is where the
 * CLIP is loaded, so the gateway never loads a model.
 */
public final class PriorWorker extends StageWorker<GenerationRequest, EmbedTask, float[], float[]> {

    private final ServedModels<ImageEmbeddingModel> models;

    /** A worker that runs one prior (and its CLIP) for its whole life. */
    public PriorWorker(Config config, ImageEmbeddingModel model) {
        this(config, ServedModels.fixed("prior", model.version(), model));
    }

    /** A worker that runs the prior versions {@code models} serves (a registry-following pool). */
    public PriorWorker(Config config, ServedModels<ImageEmbeddingModel> models) {
        super(config, Topics.REQUESTS, Topics.PRIOR_GROUP,
                ThreadShare.processWide(DjlRuntime.intraOpThreads(), DjlRuntime::setIntraOpThreadsOfCallingThread),
                models);
        this.models = models;
    }

    /**
     * One: the prior (a 256-wide transformer and the CLIP text tower) ran faster on one intra-op thread than on
     * two at every batch measured, 1, 4 and 16 (BENCHMARKS.md, "Threads by batch size"); its ops are too small
     * to split.
     */
    public static int threadsFor(int images) {
        return 1;
    }

    @Override
    protected int threadsWanted(int images) {
        return threadsFor(images);
    }

    /** A request without {@code submitted_at} was submitted when its record was written. */
    @Override
    protected GenerationRequest parse(byte[] value, Instant recordTime) {
        GenerationRequest request = Messages.decodeRequest(value, recordTime);
        if (request.isVariation()) {
            SourceImages.read(request);       // a poison image is dead-lettered here, with the reason
        }
        return request;
    }

    @Override
    protected GenerationRequest requestOf(GenerationRequest message) {
        return message;
    }

    @Override
    protected List<EmbedTask> tasksOf(GenerationRequest request) {
        if (request.isVariation()) {
            BufferedImage source = SourceImages.read(request);
            return IntStream.range(0, request.n()).mapToObj(k -> EmbedTask.of(request, k).withImage(source)).toList();
        }
        return IntStream.range(0, request.n()).mapToObj(k -> EmbedTask.of(request, k)).toList();
    }

    @Override
    protected SamplingParams paramsOf(GenerationRequest request) {
        return EmbedTask.params(request);
    }

    /** Nothing to do once cancelled, finished, or handed to the decoders or beyond (a redelivered request). */
    @Override
    protected boolean alreadyHandled(JobStatus status) {
        return !status.state().precedes(JobState.DECODING);
    }

    @Override
    protected JobStatus startedStatus(GenerationRequest request, String modelVersion, Instant now) {
        JobStatus queued = JobStatus.queued(request).withModel("prior", models.get(modelVersion).version());
        return queued.with(JobState.PRIOR, queued.timestamps().withPriorStarted(now),
                new JobStatus.Progress(stageName(), 0, stepsOf(request)));
    }

    @Override
    protected JobState workingState() {
        return JobState.PRIOR;
    }

    @Override
    protected String stageName() {
        return EmbedTask.STAGE;
    }

    @Override
    protected int stepsOf(GenerationRequest request) {
        return request.isVariation() ? VARIATION_STEPS : request.priorSteps();
    }

    /** A variation's "prior" is one CLIP image encoding: one step. */
    static final int VARIATION_STEPS = 1;

    @Override
    protected List<float[]> runModel(SamplingParams params, String modelVersion, List<EmbedTask> tasks,
                                     StepProgress progress) {
        ImageEmbeddingModel model = models.get(modelVersion);
        return batchStats().time(tasks.size(), () -> model.embed(params, tasks, progress::onStep));
    }

    @Override
    protected float[] persist(Job job, int index, EmbedTask task, float[] embedding) {
        ImageEmbeddingModel model = models.get(job.modelVersion);
        if (embedding.length != model.embeddingDim()) {
            throw new IllegalStateException("the prior returned " + embedding.length + " values, dim is "
                    + model.embeddingDim());
        }
        return embedding;
    }

    /**
     * Status "prior done" and the embeddings, sent together: waiting for the first acknowledgement before the
     * second send added a broker round trip to every job. Should the decoder's "decoding" land first, every status
     * view refuses the stage going back ({@link JobState#mayFollow}), and the decoder builds its status from the
     * embeddings message, not from "prior done".
     */
    @Override
    protected CompletableFuture<?> complete(Job job) {
        Instant now = Instant.now();
        JobStatus s = job.status();
        JobStatus finished = s.with(JobState.PRIOR, s.timestamps().withPriorFinished(now),
                new JobStatus.Progress(stageName(), stepsOf(job.request), stepsOf(job.request)));
        ImageEmbeddings out = ImageEmbeddings.of(job.request, models.get(job.modelVersion).version(), job.results(),
                Instant.parse(s.timestamps().priorStartedAt()), now);
        return CompletableFuture.allOf(sendStatus(finished),
                send(Topics.EMBEDDINGS, job.request.jobId(), Messages.encode(out)));
    }
}
