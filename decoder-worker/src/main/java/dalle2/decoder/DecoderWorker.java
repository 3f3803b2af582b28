package dalle2.decoder;

import dalle2.djl.DjlRuntime;
import dalle2.inference.DecodeTask;
import dalle2.inference.ImageDecoderModel;
import dalle2.inference.ImageTensors;
import dalle2.inference.PngParameters;
import dalle2.kafka.Topics;
import dalle2.messages.GenerationRequest;
import dalle2.messages.ImageEmbeddings;
import dalle2.messages.JobState;
import dalle2.messages.JobStatus;
import dalle2.messages.LowResImages;
import dalle2.messages.Messages;
import dalle2.messages.ModelVersion;
import dalle2.messages.SamplingParams;
import dalle2.pipeline.StageWorker;
import dalle2.pipeline.ThreadShare;
import dalle2.registry.ServedModels;
import dalle2.storage.ObjectStore;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.IntStream;
import javax.imageio.ImageIO;

/**
 * A member of the decoder pool (consumer group {@value Topics#DECODER_GROUP}), the GPU pool: reads image
 * embeddings, batches images across jobs and runs the U-Net DDIM. A job of the decoder's own size is finished
 * here: each PNG goes under {@code <job id>/<k>.png} (deterministic: a redelivered job overwrites the same
 * objects), then the job is reported succeeded. A larger job's base images go to the upsampler pool on
 * {@value Topics#LOWRES} instead, after a status that says the decoder is done. The worker owns the object store
 * it is given and closes it.
 */
public final class DecoderWorker extends StageWorker<ImageEmbeddings, DecodeTask, BufferedImage, BufferedImage> {

    private final ServedModels<ImageDecoderModel> models;
    private final ObjectStore store;

    /** A worker that runs one decoder for its whole life. */
    public DecoderWorker(Config config, ImageDecoderModel model, ObjectStore store) {
        this(config, ServedModels.fixed("decoder", model.version(), model), store);
    }

    /** A worker that runs the decoder versions {@code models} serves (a registry-following pool). */
    public DecoderWorker(Config config, ServedModels<ImageDecoderModel> models, ObjectStore store) {
        super(config, Topics.EMBEDDINGS, Topics.DECODER_GROUP,
                ThreadShare.processWide(DjlRuntime.intraOpThreads(), DjlRuntime::setIntraOpThreadsOfCallingThread),
                models);
        this.models = models;
        this.store = store;
    }

    /**
     * Throws, naming both, when a decoder was trained on another CLIP's image embeddings than the ones a prior
     * stage version ({@code prior@…+clip@…}) makes. Either side not recording its CLIP passes.
     */
    public static void requireSameClip(ImageDecoderModel decoder, String priorStageVersion) {
        String embeddingClip = ModelVersion.componentOf(priorStageVersion, "clip");
        String decoderClip = decoder.clipVersion();
        if (embeddingClip != null && decoderClip != null && !embeddingClip.equals(decoderClip)) {
            throw new IllegalArgumentException(decoder.version() + " was trained on " + decoderClip
                    + " image embeddings; the prior (" + priorStageVersion + ") makes " + embeddingClip + " ones");
        }
    }

    /**
     * The pool's version for this job, unless that decoder was trained on another CLIP than the one the job's
     * embeddings come from and a loaded version was trained on theirs: during a roll-out to a new CLIP the
     * embeddings already made by the old prior are drawn by the old decoder while they last.
     */
    @Override
    protected String modelVersionFor(ImageEmbeddings message) {
        String assigned = super.modelVersionFor(message);
        String embeddingClip = ModelVersion.componentOf(message.priorModelVersion(), "clip");
        String decoderClip = models.get(assigned).clipVersion();
        if (embeddingClip == null || decoderClip == null || embeddingClip.equals(decoderClip)) {
            return assigned;
        }
        return models.loadedVersionWhere(decoder -> embeddingClip.equals(decoder.clipVersion())).orElse(assigned);
    }

    @Override
    protected ImageEmbeddings parse(byte[] value, Instant recordTime) {
        return Messages.decode(value, ImageEmbeddings.class);
    }

    /**
     * An embedding of another width than the decoder's, or a size below its images, is this job's problem alone:
     * refused before batching.
     */
    @Override
    protected String problemOf(ImageEmbeddings message, String modelVersion) {
        ImageDecoderModel model = models.get(modelVersion);
        try {
            requireSameClip(model, message.priorModelVersion());
        } catch (IllegalArgumentException e) {
            return "clip_mismatch: " + e.getMessage();
        }
        if (message.dim() != model.embeddingDim()) {
            return "embeddings are " + message.dim() + "-d; this decoder (" + model.version() + ") takes "
                    + model.embeddingDim() + "-d CLIP image embeddings";
        }
        if (message.request().size() < model.imageSize()) {
            return "size " + message.request().size() + " is below this decoder's " + model.imageSize() + " px ("
                    + model.version() + ")";
        }
        return null;
    }

    @Override
    protected GenerationRequest requestOf(ImageEmbeddings message) {
        return message.request();
    }

    @Override
    protected List<DecodeTask> tasksOf(ImageEmbeddings message) {
        return IntStream.range(0, message.request().n()).mapToObj(k -> DecodeTask.of(message, k)).toList();
    }

    @Override
    protected SamplingParams paramsOf(ImageEmbeddings message) {
        return DecodeTask.params(message);
    }

    /** Nothing to do once cancelled, finished, or handed to the upsamplers (a redelivered embeddings record). */
    @Override
    protected boolean alreadyHandled(JobStatus status) {
        return !status.state().precedes(JobState.UPSAMPLING);
    }

    @Override
    protected JobStatus startedStatus(ImageEmbeddings m, String modelVersion, Instant now) {
        GenerationRequest r = m.request();
        Map<String, String> models = new LinkedHashMap<>();
        models.put("prior", m.priorModelVersion());
        models.put("decoder", modelVersion);
        JobStatus.Timestamps ts = new JobStatus.Timestamps(r.submittedAt(), m.priorStartedAt(), m.priorFinishedAt(),
                now.toString(), null, now.toString());
        return new JobStatus(null, r.jobId(), JobState.DECODING, r, ts, models,
                new JobStatus.Progress(stageName(), 0, r.decoderSteps()), List.of(), null);
    }

    @Override
    protected JobState workingState() {
        return JobState.DECODING;
    }

    @Override
    protected String stageName() {
        return DecodeTask.STAGE;
    }

    @Override
    protected int stepsOf(ImageEmbeddings message) {
        return message.request().decoderSteps();
    }

    @Override
    protected List<BufferedImage> runModel(SamplingParams params, String modelVersion, List<DecodeTask> tasks,
                                           StepProgress progress) {
        ImageDecoderModel model = models.get(modelVersion);
        return batchStats().time(tasks.size(), () -> model.decode(params, tasks, progress::onStep));
    }

    /** Batches of at most this many images run on one intra-op thread. */
    public static final int ONE_THREAD_MAX_IMAGES = 4;

    /**
     * One thread for a batch of up to {@value #ONE_THREAD_MAX_IMAGES} images, every thread of its share above:
     * the 32 px U-Net sampled one image 1.8x faster on one thread than on two, four images in the same time, and
     * sixteen 1.4x faster on two (BENCHMARKS.md, "Threads by batch size"). On a GPU the host threads only launch
     * kernels, so the count does not matter there.
     */
    public static int threadsFor(int images) {
        return images <= ONE_THREAD_MAX_IMAGES ? 1 : Integer.MAX_VALUE;
    }

    @Override
    protected int threadsWanted(int images) {
        return threadsFor(images);
    }

    /** Stores the PNG when this image is final; a larger job's image is kept for the upsampler's message. */
    @Override
    protected BufferedImage persist(Job job, int index, DecodeTask task, BufferedImage image) {
        ImageDecoderModel model = models.get(job.modelVersion);
        if (image.getWidth() != model.imageSize() || image.getHeight() != model.imageSize()) {
            throw new IllegalStateException("the decoder drew " + image.getWidth() + "x" + image.getHeight()
                    + ", expected " + model.imageSize() + "²");
        }
        if (!upsampled(job.request, model)) {
            store.putPng(ObjectStore.imageKey(task.jobId(), index),
                    PngParameters.png(image, job.request, index, job.status().models()));
        }
        return image;
    }

    /**
     * A job of the decoder's size: succeeded with its PNGs' keys. A larger one: status "decoder done" and the base
     * images, sent together (no broker round trip between them); should the upsampler's "upsampling" land first,
     * every status view refuses the stage going back, and the upsampler builds its status from the base images'
     * message.
     */
    @Override
    protected CompletableFuture<?> complete(Job job) {
        Instant now = Instant.now();
        GenerationRequest r = job.request;
        JobStatus s = job.status();
        ImageDecoderModel model = models.get(job.modelVersion);
        if (!upsampled(r, model)) {
            List<String> keys = IntStream.range(0, r.n()).mapToObj(k -> ObjectStore.imageKey(r.jobId(), k)).toList();
            return sendStatus(s.succeeded(keys, now));
        }
        JobStatus decoded = s.with(JobState.DECODING, s.timestamps().touched(now),
                new JobStatus.Progress(stageName(), r.decoderSteps(), r.decoderSteps()));
        List<byte[]> bases = job.results().stream().map(ImageTensors::rgbBytes).toList();
        LowResImages out = LowResImages.of(r, decoded.models(), decoded.timestamps(), model.imageSize(), bases);
        return CompletableFuture.allOf(sendStatus(decoded), send(Topics.LOWRES, r.jobId(), Messages.encode(out)));
    }

    /** Whether the upsampler pool draws this job's final images. */
    private static boolean upsampled(GenerationRequest request, ImageDecoderModel model) {
        return request.size() > model.imageSize();
    }

    /** PNG bytes; the JDK's encoder is deterministic, so the same pixels give the same bytes. */
    public static byte[] png(BufferedImage image) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            if (!ImageIO.write(image, "png", out)) {
                throw new IllegalStateException("no PNG writer");
            }
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Stops the worker and frees its models (see {@link StageWorker#close}), then closes its object store. */
    @Override
    public void close() {
        super.close();
        store.close();
    }
}
