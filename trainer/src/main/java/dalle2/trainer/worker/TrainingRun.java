package dalle2.trainer.worker;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import dalle2.data.DatasetSpec;
import dalle2.json.Json;
import dalle2.messages.InvalidMessageException;
import dalle2.messages.TrainingRequest;
import dalle2.models.ClipConfig;
import dalle2.models.ClipEncoder;
import dalle2.models.ClipTokenizer;
import dalle2.models.Decoder;
import dalle2.models.DecoderConfig;
import dalle2.models.ModelWeights;
import dalle2.models.Prior;
import dalle2.models.PriorConfig;
import dalle2.models.Upsampler;
import dalle2.models.UpsamplerConfig;
import dalle2.trainer.ClipTrainingTask;
import dalle2.trainer.CorpusCache;
import dalle2.trainer.CorpusEmbeddings;
import dalle2.trainer.DallE2Trainer;
import dalle2.trainer.DecoderTrainingTask;
import dalle2.trainer.PriorTrainingTask;
import dalle2.trainer.TrainingCorpus;
import dalle2.trainer.TrainingListener;
import dalle2.trainer.TrainingTask;
import dalle2.trainer.UpsamplerTrainingTask;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * One training request run in a local run folder, as {@code dalle2 train <model> --out <run folder>} would run it
 * with the request's hyper-parameters as flags: {@code resume} continues from the folder's checkpoint,
 * {@code baseModel} is {@code --init-from}. The prior and the decoder learn from the corpus's embeddings by the
 * worker's CLIP.
 */
final class TrainingRun {

    private final TrainingRequest request;
    private final TrainingSettings settings;
    private final Path runDir;
    private final Path dataDir;
    private final Path clipDir;
    private volatile DallE2Trainer trainer;
    private volatile boolean stopRequested;

    TrainingRun(TrainingRequest request, Path runDir, Path dataDir, Path clipDir) {
        this.request = request;
        this.settings = new TrainingSettings(request.model(), request.steps(), request.hyperParameters());
        this.runDir = runDir;
        this.dataDir = dataDir;
        this.clipDir = clipDir;
    }

    /** The settings' options, checked before any data is read: a bad value fails the job at once. */
    void checkOptions() {
        settings.options();
    }

    /**
     * Trains up to the request's steps (or until {@link #stop()}), then writes {@code model/}; returns whether it
     * reached the last step.
     */
    boolean train(boolean resume, Path baseModel, TrainingListener listener, NDManager manager) throws IOException {
        TrainingTask task = task(resume, manager);
        boolean checkpointed = Files.isRegularFile(runDir.resolve("checkpoint/state.json"));
        if (baseModel != null && !(resume && checkpointed)) {
            // before the trainer exists, so that its EMA starts from these weights too
            ModelWeights.load(task.block(), baseModel.resolve("weights.safetensors"), task.kind());
        }
        DallE2Trainer t = new DallE2Trainer(task, settings.options(), runDir, manager).listener(listener);
        if (resume) {
            t.resume();
        }
        trainer = t;
        if (stopRequested) {
            t.requestStop();
        }
        t.train();
        return t.finished();
    }

    /** Stops the run after its current step, with a checkpoint (from any thread). */
    void stop() {
        stopRequested = true;
        DallE2Trainer t = trainer;
        if (t != null) {
            t.requestStop();
        }
    }

    Path modelDir() {
        return runDir.resolve("model");
    }

    /**
     * The request's dataset with each location inside the worker's data folder (the request's own check keeps
     * them relative; this one also catches a link that leads out).
     */
    static DatasetSpec resolveDataset(String dataset, Path dataDir) {
        DatasetSpec asked;
        try {
            asked = DatasetSpec.parse(dataset);
        } catch (IllegalArgumentException e) {
            throw new InvalidMessageException("dataset", e.getMessage());
        }
        Path root = dataDir.toAbsolutePath().normalize();
        List<DatasetSpec.Entry> entries = new ArrayList<>();
        for (DatasetSpec.Entry e : asked.entries()) {
            Path location = null;
            if (e.location() != null) {
                location = root.resolve(e.location()).normalize();
                if (!location.startsWith(root)) {
                    throw new InvalidMessageException("dataset", "dataset location " + e.location()
                            + " is outside the worker's data folder");
                }
            }
            entries.add(new DatasetSpec.Entry(e.kind(), location, e.options()));
        }
        return new DatasetSpec(entries);
    }

    private TrainingCorpus corpus() throws IOException {
        return CorpusCache.open(dataDir, request.dataset(), resolveDataset(request.dataset(), dataDir),
                settings.integer("image_size"), settings.text("held_out_vendor"));
    }

    private TrainingTask task(boolean resume, NDManager manager) throws IOException {
        return switch (request.model()) {
            case "clip" -> clipTask(resume, manager);
            case "prior" -> priorTask(resume, manager);
            case "decoder" -> decoderTask(resume, manager);
            case "upsampler" -> upsamplerTask(resume, manager);
            default -> throw new InvalidMessageException("model", "unknown model " + request.model());
        };
    }

    private TrainingTask clipTask(boolean resume, NDManager manager) throws IOException {
        TrainingCorpus corpus = corpus();
        Path tokenizer = runDir.resolve(ClipEncoder.TOKENIZER_FILE);
        if (!(resume && Files.isRegularFile(tokenizer))) {
            List<String> captions = new ArrayList<>();
            corpus.entries().forEach(entry -> captions.addAll(entry.captions()));
            Files.createDirectories(runDir);
            ClipTokenizer.writeWordLevel(captions, 1, tokenizer);
        }
        int contextLength = settings.integer("context_length");
        int vocab;
        try (ClipTokenizer loaded = ClipTokenizer.load(tokenizer, contextLength)) {
            vocab = loaded.vocabSize();
        }
        ClipConfig config = runConfig("clip-config.json", ClipConfig.small()
                .withEmbeddingDim(settings.integer("embedding_dim")).withContextLength(contextLength)
                .withVocabSize(vocab), ClipConfig.class, resume);
        Engine.getInstance().setRandomSeed((int) settings.options().seed());
        ClipEncoder clip = ClipEncoder.create(config, tokenizer, manager);
        return new ClipTrainingTask(clip, corpus, corpus.sampleTable(settings.repeats()));
    }

    private CorpusEmbeddings embeddings(TrainingCorpus corpus, NDManager manager) throws IOException {
        if (clipDir == null || !Files.isRegularFile(clipDir.resolve("weights.safetensors"))) {
            throw new IllegalStateException("a " + request.model() + " trains on CLIP embeddings, and this worker "
                    + "has no CLIP model (--clip " + clipDir + ")");
        }
        Path cache = runDir.resolve("embeddings");
        if (CorpusEmbeddings.exists(cache)) {
            return CorpusEmbeddings.load(cache, manager);
        }
        try (ClipEncoder clip = ClipEncoder.load(clipDir, manager)) {
            CorpusEmbeddings embeddings = CorpusEmbeddings.compute(clip, corpus, manager);
            embeddings.save(cache, manager);
            return embeddings;
        }
    }

    private TrainingTask priorTask(boolean resume, NDManager manager) throws IOException {
        TrainingCorpus corpus = corpus();
        CorpusEmbeddings embeddings = embeddings(corpus, manager);
        PriorConfig config = runConfig("prior-config.json", PriorConfig.of(embeddings.dim(),
                settings.integer("width"), settings.integer("depth"), settings.integer("heads")),
                PriorConfig.class, resume);
        Engine.getInstance().setRandomSeed((int) settings.options().seed());
        Prior prior = Prior.create(config, manager);
        return new PriorTrainingTask(prior, embeddings, corpus.sampleTable(settings.repeats()));
    }

    private TrainingTask decoderTask(boolean resume, NDManager manager) throws IOException {
        TrainingCorpus corpus = corpus();
        CorpusEmbeddings embeddings = embeddings(corpus, manager);
        DecoderConfig config = runConfig("decoder-config.json",
                DecoderConfig.of(settings.integer("image_size"), settings.integer("base_channels"),
                        settings.integers("channel_mult"), settings.integer("blocks"),
                        settings.integers("attention"))
                        .withConditionDim(embeddings.dim())
                        .withConditioning(settings.doubleValue("condition_scale"), settings.flag("scale_shift")
                                ? DecoderConfig.INJECTION_SCALE_SHIFT : DecoderConfig.INJECTION_ADD)
                        .withPrediction(settings.prediction()),
                DecoderConfig.class, resume);
        Decoder decoder = Decoder.create(config, manager, settings.options().seed());
        return new DecoderTrainingTask(decoder, corpus, embeddings, corpus.sampleTable(settings.repeats()), manager);
    }

    private TrainingTask upsamplerTask(boolean resume, NDManager manager) throws IOException {
        UpsamplerConfig config = runConfig("upsampler-config.json",
                UpsamplerConfig.of(settings.integer("low_res_size"), settings.integer("image_size"),
                        settings.integer("base_channels"), settings.integers("channel_mult"),
                        settings.integer("blocks"))
                        .withMaxAugmentationStep(settings.integer("max_augmentation_step"))
                        .withSampling(settings.integer("sampling_augmentation_step"),
                                settings.integer("sampling_steps"))
                        .withSampler(settings.sampler("sampling_sampler")),
                UpsamplerConfig.class, resume);
        int crop = settings.integer("crop");
        if (crop % config.sizeMultiple() != 0 || crop > config.imageSize()) {
            throw new InvalidMessageException("hyper_parameters.crop", "crop must be a multiple of "
                    + config.sizeMultiple() + " up to image_size " + config.imageSize() + ", got " + crop);
        }
        TrainingCorpus corpus = corpus();
        Upsampler upsampler = Upsampler.create(config, manager, settings.options().seed());
        return new UpsamplerTrainingTask(upsampler, corpus, corpus.sampleTable(settings.repeats()), crop, manager);
    }

    /** The run's model config: written on a fresh start, read back on resume (the checkpoint fits only it). */
    private <T> T runConfig(String file, T fresh, Class<T> type, boolean resume) {
        Path path = runDir.resolve(file);
        if (resume && Files.isRegularFile(path)) {
            return Json.readFile(path, type);
        }
        Json.writeFile(path, fresh);
        return fresh;
    }
}
