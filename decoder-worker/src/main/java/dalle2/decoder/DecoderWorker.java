package dalle2.decoder;

import dalle2.inference.DecodeTask;
import dalle2.inference.ImageDecoderModel;
import dalle2.inference.SamplingParams;
import dalle2.kafka.Topics;
import dalle2.messages.GenerationRequest;
import dalle2.messages.ImageEmbeddings;
import dalle2.messages.JobState;
import dalle2.messages.JobStatus;
import dalle2.messages.Messages;
import dalle2.pipeline.StageWorker;
import dalle2.sampling.DdimSampler;
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
 * embeddings, batches images across jobs, runs the U-Net DDIM, puts each PNG under {@code <job id>/<k>.png}
 * (deterministic: a redelivered job overwrites the same objects) and then reports the job succeeded. The
 * worker owns the object store it is given and closes it.
 */
public final class DecoderWorker extends StageWorker<ImageEmbeddings, DecodeTask, BufferedImage, String> {

    private final ImageDecoderModel model;
    private final ObjectStore store;

    public DecoderWorker(Config config, ImageDecoderModel model, ObjectStore store) {
        super(config, Topics.EMBEDDINGS, Topics.DECODER_GROUP);
        this.model = model;
        this.store = store;
    }

    @Override
    protected ImageEmbeddings parse(byte[] value, Instant recordTime) {
        return Messages.decode(value, ImageEmbeddings.class);
    }

    /** An embedding of another width than the decoder's is this job's problem alone: refused before batching. */
    @Override
    protected String problemOf(ImageEmbeddings message) {
        if (message.dim() != model.embeddingDim()) {
            return "embeddings are " + message.dim() + "-d; this decoder (" + model.version() + ") takes "
                    + model.embeddingDim() + "-d CLIP image embeddings";
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

    @Override
    protected boolean alreadyHandled(JobStatus status) {
        return status.state().terminal();
    }

    @Override
    protected JobStatus startedStatus(ImageEmbeddings m, Instant now) {
        GenerationRequest r = m.request();
        Map<String, String> models = new LinkedHashMap<>();
        models.put("prior", m.priorModelVersion());
        models.put("decoder", model.version());
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
    protected List<BufferedImage> runModel(SamplingParams params, List<DecodeTask> tasks, DdimSampler.Progress progress) {
        return batchStats().time(tasks.size(), () -> model.decode(params, tasks, progress));
    }

    @Override
    protected String persist(Job job, int index, DecodeTask task, BufferedImage image) {
        if (image.getWidth() != model.imageSize() || image.getHeight() != model.imageSize()) {
            throw new IllegalStateException("the decoder drew " + image.getWidth() + "x" + image.getHeight()
                    + ", expected " + model.imageSize() + "²");
        }
        String key = ObjectStore.imageKey(task.jobId(), index);
        store.putPng(key, png(image));
        return key;
    }

    @Override
    protected CompletableFuture<?> complete(Job job) {
        return sendStatus(job.status().succeeded(job.results(), Instant.now()));
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

    /** Stops the worker (see {@link StageWorker#close}), then frees its model and its object store. */
    @Override
    public void close() {
        super.close();
        model.close();
        store.close();
    }
}
