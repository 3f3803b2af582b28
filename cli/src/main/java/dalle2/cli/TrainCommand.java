package dalle2.cli;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import com.fasterxml.jackson.databind.JsonNode;
import dalle2.data.DatasetException;
import dalle2.data.DatasetSpec;
import dalle2.djl.DjlRuntime;
import dalle2.json.Json;
import dalle2.messages.ModelLineage;
import dalle2.messages.ModelVersion;
import dalle2.messages.SamplerKind;
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
import dalle2.sampling.PredictionType;
import dalle2.trainer.ClipTrainingTask;
import dalle2.trainer.CorpusCache;
import dalle2.trainer.CorpusEmbeddings;
import dalle2.trainer.DallE2Trainer;
import dalle2.trainer.DecoderTrainingTask;
import dalle2.trainer.PriorTrainingTask;
import dalle2.trainer.TrainerOptions;
import dalle2.trainer.TrainingCorpus;
import dalle2.trainer.TrainingTask;
import dalle2.trainer.UpsamplerTrainingTask;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code dalle2 train clip|prior|decoder|upsampler}: the trainer worker types. Each run writes its output folder
 * ({@code checkpoint/}, {@code model/}, {@code losses.csv}, {@code loss.png}, {@code samples/}); {@code --resume}
 * continues a run exactly where its last checkpoint left it.
 */
@Command(name = "train", mixinStandardHelpOptions = true,
        description = "Train the CLIP, the prior, the decoder or the upsampler (resumable; checkpoints on SIGTERM).",
        subcommands = {TrainCommand.Clip.class, TrainCommand.PriorTrainer.class, TrainCommand.DecoderTrainer.class,
                TrainCommand.UpsamplerTrainer.class})
public final class TrainCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    /** Options every trainer shares. */
    static final class Common {
        @Option(names = "--data", defaultValue = "emoji,fashion-mnist",
                description = "datasets: kind[:location],... kinds emoji, emoji-google, emoji-twitter, fashion-mnist, jsonl:DIR, wds:DIR;"
                        + " the emoji corpus: emoji;vendors=default;resolution=256 (default: ${DEFAULT-VALUE})")
        String data;
        @Option(names = "--data-dir", defaultValue = "data", description = "data folder (default: ${DEFAULT-VALUE})")
        Path dataDir;
        @Option(names = "--image-size", defaultValue = "32", description = "training image size (default: ${DEFAULT-VALUE})")
        int imageSize;
        @Option(names = "--held-out-vendor", defaultValue = "openmoji",
                description = "emoji vendor never trained on (evaluation only), or none (default: ${DEFAULT-VALUE})")
        String heldOutVendor;
        @Option(names = "--repeat", split = ",", defaultValue = "emoji=4",
                description = "source=times: show a source's items that many times an epoch (default: ${DEFAULT-VALUE})")
        List<String> repeat;
        @Option(names = "--out", required = true, description = "run folder (checkpoint, model, logs)")
        Path out;
        @Option(names = "--steps", required = true, description = "total optimizer steps of the run")
        long steps;
        @Option(names = "--batch-size", defaultValue = "64") int batchSize;
        @Option(names = "--lr", defaultValue = "3e-4") float lr;
        @Option(names = "--min-lr", defaultValue = "3e-5") float minLr;
        @Option(names = "--warmup", defaultValue = "200") long warmup;
        @Option(names = "--weight-decay", defaultValue = "0.01") float weightDecay;
        @Option(names = "--grad-clip", defaultValue = "1.0") float gradClip;
        @Option(names = "--ema", defaultValue = "0.999", description = "EMA decay; 0 disables (default: ${DEFAULT-VALUE})")
        float ema;
        @Option(names = "--checkpoint-every", defaultValue = "250") int checkpointEvery;
        @Option(names = "--log-interval", defaultValue = "25") int logInterval;
        @Option(names = "--sample-every", defaultValue = "0", description = "steps between sample grids; 0: none")
        int sampleEvery;
        @Option(names = "--seed", defaultValue = "0") long seed;
        @Option(names = "--resume", description = "continue from the run folder's checkpoint")
        boolean resume;
        @Option(names = "--init-from", paramLabel = "MODEL_DIR",
                description = "start a new run from the weights of a model folder of the same config (e.g. the "
                        + "shipped model, when its run folder is gone); ignored when a checkpoint is resumed")
        Path initFrom;
        @Option(names = "--init-partial",
                description = "with --init-from: copy only the parameters whose name and shape match and keep the "
                        + "others at their fresh initialisation (e.g. a decoder following a CLIP of another "
                        + "embedding width); the run prints which ones")
        boolean initPartial;

        TrainerOptions options() {
            return new TrainerOptions(steps, batchSize, lr, warmup, minLr, weightDecay, gradClip, ema, checkpointEvery,
                    logInterval, sampleEvery, seed);
        }

        Map<String, Integer> repeats() {
            Map<String, Integer> repeats = new LinkedHashMap<>();
            for (String entry : repeat) {
                String[] parts = entry.split("=");
                if (parts.length != 2) {
                    throw new IllegalArgumentException("--repeat expects source=times, got '" + entry + "'");
                }
                repeats.put(parts[0].trim(), Integer.parseInt(parts[1].trim()));
            }
            return repeats;
        }

        /** The held-in training corpus, decoded once and cached in the data folder. */
        TrainingCorpus corpus() throws IOException {
            return CorpusCache.open(dataDir, data, DatasetSpec.parse(data), imageSize, heldOutVendor);
        }

        int exitOnBadInput(String command, Exception e) {
            System.err.println("dalle2 train " + command + ": " + e.getMessage());
            return 2;
        }
    }

    static int run(Common common, TrainingTask task, NDManager manager) throws IOException {
        return run(common, task, manager, null);
    }

    /**
     * Trains, then writes the model; a prior's or decoder's folder also gets its {@code lineage} (the CLIP it works
     * in, the model it started from), which is part of its version, as every model the registry serves has.
     */
    static int run(Common common, TrainingTask task, NDManager manager, ModelLineage lineage) throws IOException {
        boolean checkpointed = Files.isRegularFile(common.out.resolve("checkpoint/state.json"));
        if (common.initFrom != null && !(common.resume && checkpointed)) {
            // before the trainer exists, so its EMA starts from these weights too
            Path weights = common.initFrom.resolve("weights.safetensors");
            if (common.initPartial) {
                List<String> kept = ModelWeights.loadMatching(task.block(), weights, task.kind());
                System.err.println("initialised the " + task.kind() + " from " + common.initFrom + " except "
                        + kept.size() + " parameters that kept their fresh initialisation: " + kept);
            } else {
                ModelWeights.load(task.block(), weights, task.kind());
                System.err.println("initialised the " + task.kind() + " from " + common.initFrom);
            }
        }
        DallE2Trainer trainer = new DallE2Trainer(task, common.options(), common.out, manager);
        if (common.resume && !trainer.resume()) {
            System.err.println("no checkpoint in " + trainer.checkpointDir() + ": starting a new run");
        }
        trainer.train();
        if (lineage != null) {
            lineage.writeTo(trainer.modelDir());
        }
        System.err.println(task.kind() + " model written to " + trainer.modelDir());
        return 0;
    }

    /**
     * Saves the run's model config on first start and reads it back on resume. Resuming with flags that ask for
     * another model is refused, naming the settings that differ: the checkpoint's weights fit only the model it was
     * started with, and silently continuing that one would train (and ship) what the flags do not say.
     */
    static <T> T runConfig(Path out, String file, T fresh, Class<T> type, boolean resume) {
        Path path = out.resolve(file);
        if (resume && Files.isRegularFile(path)) {
            T saved = Json.readFile(path, type);
            List<String> changed = changedSettings(saved, fresh);
            if (!changed.isEmpty()) {
                throw new IllegalArgumentException(out + " was started with other model settings ("
                        + String.join(", ", changed) + "): resume it with the flags it was started with, or train "
                        + "into a new --out");
            }
            return saved;
        }
        Json.writeFile(path, fresh);
        return fresh;
    }

    /** "name saved → asked" for every top-level setting that differs between two configs of the same type. */
    static List<String> changedSettings(Object saved, Object asked) {
        JsonNode before = Json.mapper().valueToTree(saved);
        JsonNode after = Json.mapper().valueToTree(asked);
        List<String> changed = new ArrayList<>();
        before.fieldNames().forEachRemaining(name -> {
            JsonNode was = before.get(name);
            JsonNode is = after.get(name);
            if (!was.equals(is)) {
                changed.add(name + " " + text(was) + " → " + text(is));
            }
        });
        return changed;
    }

    private static String text(JsonNode node) {
        return node == null ? "nothing" : node.isValueNode() ? node.asText() : node.toString();
    }

    @Command(name = "clip", mixinStandardHelpOptions = true, description = "Contrastive CLIP training on image-caption pairs.")
    static final class Clip implements Callable<Integer> {
        @Mixin Common common = new Common();
        @Option(names = "--embedding-dim", defaultValue = "256") int embeddingDim;
        @Option(names = "--context-length", defaultValue = "16") int contextLength;

        @Override
        public Integer call() throws IOException {
            DjlRuntime.configure();
            try {
                TrainingCorpus corpus = common.corpus();
                Path tokenizer = common.out.resolve(ClipEncoder.TOKENIZER_FILE);
                if (!(common.resume && Files.isRegularFile(tokenizer))) {
                    List<String> captions = new ArrayList<>();
                    corpus.entries().forEach(entry -> captions.addAll(entry.captions()));
                    Files.createDirectories(common.out);
                    ClipTokenizer.writeWordLevel(captions, 1, tokenizer);
                }
                int vocab;
                try (ClipTokenizer loaded = ClipTokenizer.load(tokenizer, contextLength)) {
                    vocab = loaded.vocabSize();
                }
                ClipConfig config = runConfig(common.out, "clip-config.json", ClipConfig.small()
                        .withEmbeddingDim(embeddingDim).withContextLength(contextLength).withVocabSize(vocab),
                        ClipConfig.class, common.resume);
                try (NDManager manager = DjlRuntime.newManager()) {
                    Engine.getInstance().setRandomSeed((int) common.seed);
                    ClipEncoder clip = ClipEncoder.create(config, tokenizer, manager);
                    return run(common, new ClipTrainingTask(clip, corpus, corpus.sampleTable(common.repeats())), manager);
                }
            } catch (IllegalArgumentException | DatasetException e) {
                return common.exitOnBadInput("clip", e);
            }
        }
    }

    /** Loads or computes the CLIP embeddings of the corpus (the {@code embed} step). */
    static CorpusEmbeddings embeddings(Path clipDir, TrainingCorpus corpus, Path cacheDir, NDManager manager)
            throws IOException {
        if (CorpusEmbeddings.exists(cacheDir)) {
            return CorpusEmbeddings.load(cacheDir, manager);
        }
        System.err.println("embedding " + corpus.size() + " images and their captions with " + clipDir + " ...");
        try (ClipEncoder clip = ClipEncoder.load(clipDir, manager)) {
            CorpusEmbeddings embeddings = CorpusEmbeddings.compute(clip, corpus, manager);
            embeddings.save(cacheDir, manager);
            return embeddings;
        }
    }

    /** Where prior and decoder training get the corpus's CLIP embeddings from. */
    static final class EmbeddingSource {
        @Option(names = "--clip", required = true, description = "trained CLIP model folder") Path clip;
        @Option(names = "--embeddings", description = "cache of the corpus's CLIP embeddings (default: OUT/embeddings)")
        Path embeddingsDir;

        CorpusEmbeddings load(Common common, TrainingCorpus corpus, NDManager manager) throws IOException {
            return embeddings(clip, corpus, embeddingsDir != null ? embeddingsDir : common.out.resolve("embeddings"),
                    manager);
        }

        /** This CLIP's version and, for a run started from a model folder, that model's version. */
        ModelLineage lineage(Common common, String role) {
            return new ModelLineage(ModelVersion.of("clip", clip),
                    common.initFrom == null ? null : ModelVersion.of(role, common.initFrom));
        }
    }

    @Command(name = "prior", mixinStandardHelpOptions = true,
            description = "Diffusion prior training on (caption, image) CLIP embedding pairs.")
    static final class PriorTrainer implements Callable<Integer> {
        @Mixin Common common = new Common();
        @Mixin EmbeddingSource source = new EmbeddingSource();
        @Option(names = "--width", defaultValue = "256") int width;
        @Option(names = "--depth", defaultValue = "4") int depth;
        @Option(names = "--heads", defaultValue = "4") int heads;

        @Override
        public Integer call() throws IOException {
            DjlRuntime.configure();
            try (NDManager manager = DjlRuntime.newManager()) {
                TrainingCorpus corpus = common.corpus();
                CorpusEmbeddings embeddings = source.load(common, corpus, manager);
                PriorConfig config = runConfig(common.out, "prior-config.json",
                        PriorConfig.of(embeddings.dim(), width, depth, heads), PriorConfig.class, common.resume);
                Engine.getInstance().setRandomSeed((int) common.seed);
                Prior prior = Prior.create(config, manager);
                return run(common, new PriorTrainingTask(prior, embeddings, corpus.sampleTable(common.repeats())), manager,
                        source.lineage(common, "prior"));
            } catch (IllegalArgumentException | DatasetException e) {
                return common.exitOnBadInput("prior", e);
            }
        }
    }

    @Command(name = "decoder", mixinStandardHelpOptions = true,
            description = "Decoder U-Net training: CLIP image embedding -> image.")
    static final class DecoderTrainer implements Callable<Integer> {
        @Mixin Common common = new Common();
        @Mixin EmbeddingSource source = new EmbeddingSource();
        @Option(names = "--base-channels", defaultValue = "32") int baseChannels;
        @Option(names = "--channel-mult", split = ",", defaultValue = "1,2,2") List<Integer> channelMult;
        @Option(names = "--blocks", defaultValue = "1") int blocks;
        @Option(names = "--attention", split = ",", defaultValue = "8") List<Integer> attention;
        @Option(names = "--condition-scale", defaultValue = "1",
                description = "factor on the unit-norm CLIP embedding before its projection, e.g. 16 = sqrt(256) "
                        + "(default: ${DEFAULT-VALUE})") double conditionScale;
        @Option(names = "--scale-shift", description = "condition the residual blocks by scale and shift of the "
                + "normalised activations (ADM's AdaGN) instead of a per-channel bias") boolean scaleShift;
        @Option(names = "--prediction", defaultValue = "epsilon", converter = PredictionTypes.class,
                description = "what the network predicts: epsilon (the noise), v (sqrt(abar)*noise - sqrt(1-abar)*x0, "
                        + "whose x0 estimate stays bounded at the schedule's last step) or sample (default: "
                        + "${DEFAULT-VALUE})") PredictionType prediction;

        @Override
        public Integer call() throws IOException {
            DjlRuntime.configure();
            try (NDManager manager = DjlRuntime.newManager()) {
                TrainingCorpus corpus = common.corpus();
                CorpusEmbeddings embeddings = source.load(common, corpus, manager);
                DecoderConfig config = runConfig(common.out, "decoder-config.json",
                        DecoderConfig.of(common.imageSize, baseChannels, channelMult, blocks, attention)
                                .withConditionDim(embeddings.dim())
                                .withConditioning(conditionScale, scaleShift ? DecoderConfig.INJECTION_SCALE_SHIFT
                                        : DecoderConfig.INJECTION_ADD)
                                .withPrediction(prediction),
                        DecoderConfig.class, common.resume);
                Decoder decoder = Decoder.create(config, manager, common.seed);
                return run(common, new DecoderTrainingTask(decoder, corpus, embeddings,
                        corpus.sampleTable(common.repeats()), manager), manager, source.lineage(common, "decoder"));
            } catch (IllegalArgumentException | DatasetException e) {
                return common.exitOnBadInput("decoder", e);
            }
        }
    }

    /** Reads {@code --prediction} by its config name, so a bad value is refused before any data is read. */
    static final class PredictionTypes implements CommandLine.ITypeConverter<PredictionType> {
        @Override
        public PredictionType convert(String value) {
            return PredictionType.fromConfigName(value);
        }
    }

    @Command(name = "upsampler", mixinStandardHelpOptions = true,
            description = "Super-resolution U-Net training on random crops: low-resolution image -> full-size image. "
                    + "--image-size is the output size (default 256 here) and --data defaults to the emoji drawn at 256 px.")
    static final class UpsamplerTrainer implements Callable<Integer> {
        static final String DEFAULT_DATA = "emoji;resolution=256";
        static final int DEFAULT_IMAGE_SIZE = 256;

        @CommandLine.Spec CommandLine.Model.CommandSpec spec;
        @Mixin Common common = new Common();
        @Option(names = "--low-res-size", defaultValue = "32", description = "input size: the base decoder's (default: ${DEFAULT-VALUE})")
        int lowResSize;
        @Option(names = "--base-channels", defaultValue = "16") int baseChannels;
        @Option(names = "--channel-mult", split = ",", defaultValue = "1,2,4,8") List<Integer> channelMult;
        @Option(names = "--blocks", defaultValue = "1") int blocks;
        @Option(names = "--crop", defaultValue = "64", description = "side of the random training crops (default: ${DEFAULT-VALUE})")
        int crop;
        @Option(names = "--max-augmentation-step", defaultValue = "250",
                description = "training corrupts the low-resolution input to a level s up to this (default: ${DEFAULT-VALUE})")
        int maxAugmentationStep;
        @Option(names = "--sampling-augmentation-step", defaultValue = "50",
                description = "the level s sampling uses, stored in the model's config (default: ${DEFAULT-VALUE})")
        int samplingAugmentationStep;
        @Option(names = "--sampling-steps", defaultValue = "" + UpsamplerConfig.DEFAULT_SAMPLING_STEPS,
                description = "sampler steps, stored in the model's config (default: ${DEFAULT-VALUE})")
        int samplingSteps;
        @Option(names = "--sampling-sampler", converter = SamplerOption.class, defaultValue = "dpmpp-2m",
                description = "ddim or dpmpp-2m, stored in the model's config (default: ${DEFAULT-VALUE})")
        SamplerKind samplingSampler;

        @Override
        public Integer call() throws IOException {
            DjlRuntime.configure();
            CommandLine.ParseResult parsed = spec.commandLine().getParseResult();
            if (!parsed.hasMatchedOption("--data")) {
                common.data = DEFAULT_DATA;
            }
            if (!parsed.hasMatchedOption("--image-size")) {
                common.imageSize = DEFAULT_IMAGE_SIZE;
            }
            try (NDManager manager = DjlRuntime.newManager()) {
                UpsamplerConfig config = runConfig(common.out, "upsampler-config.json",
                        UpsamplerConfig.of(lowResSize, common.imageSize, baseChannels, channelMult, blocks)
                                .withMaxAugmentationStep(maxAugmentationStep)
                                .withSampling(samplingAugmentationStep, samplingSteps)
                                .withSampler(samplingSampler),
                        UpsamplerConfig.class, common.resume);
                if (crop % config.sizeMultiple() != 0 || crop > config.imageSize()) {
                    throw new IllegalArgumentException("--crop must be a multiple of " + config.sizeMultiple()
                            + " up to --image-size " + config.imageSize() + ", got " + crop);
                }
                TrainingCorpus corpus = common.corpus();
                Upsampler upsampler = Upsampler.create(config, manager, common.seed);
                return run(common, new UpsamplerTrainingTask(upsampler, corpus, corpus.sampleTable(common.repeats()),
                        crop, manager), manager);
            } catch (IllegalArgumentException | DatasetException e) {
                return common.exitOnBadInput("upsampler", e);
            }
        }
    }

    /** {@code dalle2 embed}: computes the corpus's CLIP embeddings ahead of prior and decoder training. */
    @Command(name = "embed", mixinStandardHelpOptions = true,
            description = "Compute the CLIP image and caption embeddings of a training corpus once.")
    static final class Embed implements Callable<Integer> {
        @Option(names = "--clip", required = true, description = "trained CLIP model folder") Path clip;
        @Option(names = "--data", defaultValue = "emoji,fashion-mnist",
                description = "datasets, as the trainers take them (default: ${DEFAULT-VALUE})") String data;
        @Option(names = "--data-dir", defaultValue = "data", description = "data folder (default: ${DEFAULT-VALUE})")
        Path dataDir;
        @Option(names = "--image-size", defaultValue = "32", description = "image size (default: ${DEFAULT-VALUE})")
        int imageSize;
        @Option(names = "--held-out-vendor", defaultValue = "openmoji",
                description = "emoji vendor the trainers never see, or none; give the trainers' value "
                        + "(default: ${DEFAULT-VALUE})") String heldOutVendor;
        @Option(names = "--out", required = true, description = "embeddings folder") Path out;

        @Override
        public Integer call() throws IOException {
            DjlRuntime.configure();
            Common common = new Common();
            common.data = data;
            common.dataDir = dataDir;
            common.imageSize = imageSize;
            common.heldOutVendor = heldOutVendor;
            try (NDManager manager = DjlRuntime.newManager()) {
                CorpusEmbeddings embeddings = embeddings(clip, common.corpus(), out, manager);
                System.out.println(embeddings.size() + " items embedded (" + embeddings.dim() + "-d) in " + out);
                return 0;
            } catch (IllegalArgumentException | DatasetException e) {
                return common.exitOnBadInput("embed", e);
            }
        }
    }
}
