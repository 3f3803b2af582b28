package dalle2.upsampler;

import ai.djl.Device;
import dalle2.djl.DjlRuntime;
import dalle2.inference.ImageUpsamplerModel;
import dalle2.inference.PngParameters;
import dalle2.inference.UpsampleTask;
import dalle2.kafka.Topics;
import dalle2.messages.GenerationRequest;
import dalle2.messages.JobState;
import dalle2.messages.JobStatus;
import dalle2.messages.LowResImages;
import dalle2.messages.Messages;
import dalle2.messages.SamplingParams;
import dalle2.pipeline.StageWorker;
import dalle2.pipeline.ThreadShare;
import dalle2.registry.ServedModels;
import dalle2.storage.ObjectStore;
import java.awt.image.BufferedImage;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;

/**
 * A member of the upsampler pool (consumer group {@value Topics#UPSAMPLER_GROUP}): reads the base images of jobs
 * larger than the base size from {@value Topics#LOWRES}, batches images across jobs (whatever size each asks for),
 * runs the super-resolution U-Net, puts each PNG under {@code <job id>/<k>.png} — the keys the decoder uses for
 * base-size jobs, so a redelivered job overwrites the same objects — and then reports the job succeeded. The
 * worker owns the object store it is given and closes it.
 */
public final class UpsamplerWorker extends StageWorker<LowResImages, UpsampleTask, BufferedImage, String> {

    /**
     * Images per batch when none is configured. A 256 px image costs 64 times the decoder's 32 px one, so a CPU
     * gains nothing past two, and a GPU runs out of memory long before the decoder's sixteen.
     */
    public static final int GPU_DEFAULT_MAX_BATCH = 8;
    public static final int CPU_DEFAULT_MAX_BATCH = 2;

    private final ServedModels<ImageUpsamplerModel> models;
    private final ObjectStore store;

    /** A worker that runs one upsampler for its whole life. */
    public UpsamplerWorker(Config config, ImageUpsamplerModel model, ObjectStore store) {
        this(config, ServedModels.fixed("upsampler", model.version(), model), store);
    }

    /** A worker that runs the upsampler versions {@code models} serves (a registry-following pool). */
    public UpsamplerWorker(Config config, ServedModels<ImageUpsamplerModel> models, ObjectStore store) {
        super(config, Topics.LOWRES, Topics.UPSAMPLER_GROUP,
                ThreadShare.processWide(DjlRuntime.intraOpThreads(), DjlRuntime::setIntraOpThreadsOfCallingThread));
        this.models = models;
        this.store = store;
    }

    public static int defaultMaxBatch(Device device) {
        return device.isGpu() ? GPU_DEFAULT_MAX_BATCH : CPU_DEFAULT_MAX_BATCH;
    }

    @Override
    protected LowResImages parse(byte[] value, Instant recordTime) {
        return Messages.decode(value, LowResImages.class);
    }

    /** Base images of another side, or a size this model cannot draw, fail only their own job, before batching. */
    @Override
    protected String problemOf(LowResImages message, String modelVersion) {
        ImageUpsamplerModel model = models.get(modelVersion);
        if (message.size() != model.lowResSize()) {
            return "base images are " + message.size() + " px; this upsampler (" + model.version() + ") takes "
                    + model.lowResSize() + " px";
        }
        int size = message.request().size();
        if (size > model.imageSize() || model.imageSize() % size != 0) {
            return "size " + size + " is not one this upsampler (" + model.version() + ", " + model.lowResSize()
                    + " → " + model.imageSize() + " px) draws";
        }
        return null;
    }

    @Override
    protected GenerationRequest requestOf(LowResImages message) {
        return message.request();
    }

    @Override
    protected List<UpsampleTask> tasksOf(LowResImages message) {
        return IntStream.range(0, message.request().n()).mapToObj(k -> UpsampleTask.of(message, k)).toList();
    }

    /**
     * Every batch uses the model's own DDIM settings (deterministic, unguided), so any jobs may share one: the
     * batch key is the same for all (batches still hold one model version each).
     */
    @Override
    protected SamplingParams paramsOf(LowResImages message) {
        return MODEL_OWN_SETTINGS;
    }

    private static final SamplingParams MODEL_OWN_SETTINGS = new SamplingParams(1, 0f, 1f);

    @Override
    protected boolean alreadyHandled(JobStatus status) {
        return status.state().terminal();
    }

    @Override
    protected JobStatus startedStatus(LowResImages m, String modelVersion, Instant now) {
        GenerationRequest r = m.request();
        Map<String, String> models = new LinkedHashMap<>(m.models());
        models.put("upsampler", modelVersion);
        return new JobStatus(null, r.jobId(), JobState.UPSAMPLING, r, m.timestamps().touched(now), models,
                new JobStatus.Progress(stageName(), 0, this.models.get(modelVersion).steps()), List.of(), null);
    }

    @Override
    protected JobState workingState() {
        return JobState.UPSAMPLING;
    }

    @Override
    protected String modelVersion() {
        return models.stableVersion();
    }

    @Override
    protected String modelVersionFor(LowResImages message) {
        return models.assign(message.request().jobId());
    }

    @Override
    protected void betweenBatches(Set<String> versionsInFlight) {
        models.releaseUnused(versionsInFlight);
    }

    @Override
    public Set<String> modelVersionsServed() {
        return models.servedVersions();
    }

    @Override
    public long modelVersionsRefused() {
        return models.refusals();
    }

    @Override
    protected String stageName() {
        return UpsampleTask.STAGE;
    }

    @Override
    protected int stepsOf(LowResImages message) {
        return models.get(models.stableVersion()).steps();
    }

    @Override
    protected List<BufferedImage> runModel(SamplingParams params, String modelVersion, List<UpsampleTask> tasks,
                                           StepProgress progress) {
        ImageUpsamplerModel model = models.get(modelVersion);
        return batchStats().time(tasks.size(), () -> model.upsample(tasks, progress::onStep));
    }

    @Override
    protected String persist(Job job, int index, UpsampleTask task, BufferedImage image) {
        if (image.getWidth() != task.size() || image.getHeight() != task.size()) {
            throw new IllegalStateException("the upsampler drew " + image.getWidth() + "x" + image.getHeight()
                    + ", expected " + task.size() + "²");
        }
        String key = ObjectStore.imageKey(task.jobId(), index);
        store.putPng(key, PngParameters.png(image, job.request, index, job.status().models()));
        return key;
    }

    @Override
    protected CompletableFuture<?> complete(Job job) {
        return sendStatus(job.status().succeeded(job.results(), Instant.now()));
    }

    /** Stops the worker (see {@link StageWorker#close}), then frees its model and its object store. */
    @Override
    public void close() {
        super.close();
        models.close();
        store.close();
    }
}
