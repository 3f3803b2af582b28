package dalle2.cli;

import ai.djl.ndarray.NDManager;
import dalle2.data.DatasetOptions;
import dalle2.data.DatasetSpec;
import dalle2.data.FashionMnistDataset;
import dalle2.data.HeldOutSplit;
import dalle2.data.ImageCaptionDataset;
import dalle2.data.ImageCaptionItem;
import dalle2.data.LoadedItem;
import dalle2.djl.DjlRuntime;
import dalle2.eval.FashionClassifier;
import dalle2.eval.FashionEvaluation;
import dalle2.eval.RetrievalEvaluation;
import dalle2.eval.UpsamplerEvaluation;
import dalle2.inference.ContactSheet;
import dalle2.inference.DallE2;
import dalle2.inference.ImageTensors;
import dalle2.inference.UpsampleTask;
import dalle2.messages.ApiDefaults;
import dalle2.messages.GenerationRequest;
import dalle2.messages.SamplerKind;
import dalle2.messages.SamplingParams;
import dalle2.models.ClipEncoder;
import dalle2.models.Upsampler;
import dalle2.sampling.NoiseStreams;
import dalle2.sampling.Sampler;
import java.awt.image.BufferedImage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code dalle2 eval}: the figures of the model cards — CLIP zero-shot accuracy and held-out
 * recall, Fashion-MNIST generations judged by the project's classifier (share of the prompted class, Fréchet
 * distance in its feature space), and top-1-of-10 prompt retrieval of generated emoji.
 */
@Command(name = "eval", mixinStandardHelpOptions = true,
        description = "Evaluate the models: CLIP retrieval, Fashion-MNIST generations, emoji generations.")
public final class EvalCommand implements Callable<Integer> {

    static final String UPSAMPLER_DIR = "upsampler";

    @Option(names = "--models", defaultValue = "trained_models", description = "models folder (default: ${DEFAULT-VALUE})")
    Path models;
    @Option(names = "--classifier", defaultValue = "trained_models/eval/fashion-classifier") Path classifier;
    @Option(names = "--data-dir", defaultValue = "data") Path dataDir;
    @Option(names = "--per-class", defaultValue = "50", description = "generated images per Fashion-MNIST class")
    int perClass;
    @Option(names = "--emoji-prompts", defaultValue = "100", description = "held-in emoji names to generate")
    int emojiPrompts;
    // the API's defaults, so that what is evaluated is what a request without these fields gets
    @Option(names = "--prior-steps", description = "(default: the API's, 20 with the prior sampler dpmpp-2m, 64 "
            + "with ddim)") Integer priorSteps;
    @Option(names = "--decoder-steps", description = "(default: the API's, 30 with the decoder sampler dpmpp-2m, 50 "
            + "with ddim)") Integer decoderSteps;
    @Option(names = "--prior-guidance", defaultValue = "" + GenerationRequest.DEFAULT_PRIOR_GUIDANCE,
            description = "(default: ${DEFAULT-VALUE}, the API's)") float priorGuidance;
    @Option(names = "--decoder-guidance", defaultValue = "" + GenerationRequest.DEFAULT_DECODER_GUIDANCE,
            description = "(default: ${DEFAULT-VALUE}, the API's)") float decoderGuidance;
    @Option(names = "--sampler", converter = SamplerOption.class,
            description = "the sampler of both stages, " + SamplerOption.DESCRIPTION + " (default: the API's, dpmpp-2m)")
    SamplerKind sampler;
    @Option(names = "--prior-sampler", converter = SamplerOption.class,
            description = "the prior's sampler, to measure one stage's sampler alone (default: the API's: --sampler "
                    + "when given, else dpmpp-2m)")
    SamplerKind priorSampler;
    @Option(names = "--decoder-sampler", converter = SamplerOption.class,
            description = "the decoder's sampler (default: the API's: --sampler when given, else dpmpp-2m)")
    SamplerKind decoderSampler;
    @Option(names = "--seed", defaultValue = "1", description = "job seed of every generation; another seed "
            + "measures the run-to-run noise of the figures (default: ${DEFAULT-VALUE})") long seed;
    @Option(names = "--out", description = "also write the report (Markdown) here") Path out;
    @Option(names = "--clip-only", description = "only the CLIP figures (no prior or decoder needed)") boolean clipOnly;
    @Option(names = "--judge-clip", paramLabel = "CLIP_DIR", description = "the CLIP that scores the emoji and "
            + "cascade retrieval (default: the models' own); one judge for two model sets that have different CLIPs "
            + "makes their figures comparable") Path judgeClip;
    @Option(names = "--stage-per-class", defaultValue = "20", description = "images per class for the per-stage "
            + "diagnostics (prior alone, decoder alone); 0 skips them (default: ${DEFAULT-VALUE})") int stagePerClass;

    /** Parts of the report; each can be run alone (e.g. to compare sampler settings on the stages only). */
    enum Section { clip, emoji, fashion, stages, upsampler, cascade }

    @Option(names = "--upsampler-images", defaultValue = "48", description = "held-out 256 px emoji per set (held-out "
            + "vendor, held-out names) for the upsampler section (default: ${DEFAULT-VALUE})") int upsamplerImages;

    @Option(names = "--upsampler-sampling", split = ",", paramLabel = "AUG,STEPS,START",
            description = "measure the upsampler with these sampling settings instead of its config's: augmentation "
                    + "level, sampler steps, start step (999 = from pure noise)") List<Integer> upsamplerSampling;

    @Option(names = "--upsampler-sampler", converter = SamplerOption.class,
            description = "the upsampler's sampler for the upsampler and cascade sections, ddim or dpmpp-2m "
                    + "(default: its config's)") SamplerKind upsamplerSampler;

    @Option(names = "--sections", split = ",", defaultValue = "clip,emoji,fashion,stages,upsampler,cascade",
            description = "which parts to run, of ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE})")
    Set<Section> sections;

    /** The prior's settings: what an HTTP request naming only the options given here gets. */
    SamplingParams priorSettings() {
        SamplerKind kind = SamplerKind.fromConfigName(ApiDefaults.priorSampler(
                sampler == null ? null : sampler.configName(), priorSampler == null ? null : priorSampler.configName()));
        return new SamplingParams(priorSteps != null ? priorSteps : kind.defaultPriorSteps(), 0f, priorGuidance, kind);
    }

    /** The decoder's settings, likewise. */
    SamplingParams decoderSettings() {
        SamplerKind kind = decoderSampler != null ? decoderSampler
                : SamplerKind.fromConfigName(ApiDefaults.decoderSampler(sampler == null ? null : sampler.configName(), null));
        return new SamplingParams(decoderSteps != null ? decoderSteps : kind.defaultDecoderSteps(), 0f, decoderGuidance,
                kind);
    }

    @Override
    public Integer call() throws Exception {
        DjlRuntime.configure();
        sections = clipOnly ? EnumSet.of(Section.clip)
                : sections.isEmpty() ? EnumSet.noneOf(Section.class) : EnumSet.copyOf(sections);
        if (stagePerClass <= 0) {
            sections.remove(Section.stages);
        }
        if ((sections.contains(Section.upsampler) || sections.contains(Section.cascade))
                && !Files.isDirectory(ModelFactory.resolve(models).resolve(UPSAMPLER_DIR))) {
            sections.remove(Section.upsampler);
            sections.remove(Section.cascade);
            System.err.println("eval: no " + UPSAMPLER_DIR + "/ model in " + models
                    + ": skipping the upsampler and cascade sections");
        }
        boolean generates = sections.stream().anyMatch(s -> s != Section.clip && s != Section.upsampler);
        StringBuilder report = new StringBuilder();
        SamplingParams prior = priorSettings();
        SamplingParams decoder = decoderSettings();
        report.append(String.format(Locale.ROOT, "Settings: prior %s %d steps (guidance %.1f), decoder %s %d steps "
                        + "(guidance %.1f), eta 0, seed %d.%n%n", prior.sampler().configName(), prior.steps(),
                priorGuidance, decoder.sampler().configName(), decoder.steps(), decoderGuidance, seed));
        try (NDManager manager = DjlRuntime.newManager()) {
            DallE2 dalle2 = generates ? DallE2.load(ModelFactory.resolve(models)) : null;
            ClipEncoder clip = generates ? dalle2.clip()
                    : ClipEncoder.load(ModelFactory.resolve(models).resolve(DallE2.CLIP_DIR), manager);
            RetrievalEvaluation retrieval = new RetrievalEvaluation(
                    texts -> DallE2.encodeText(clip, manager, texts),
                    images -> DallE2.encodeImages(clip, manager, images));
            ClipEncoder judgeEncoder = judgeClip == null ? clip : ClipEncoder.load(judgeClip, manager);
            if (judgeEncoder.config().imageSize() != clip.config().imageSize()) {
                throw new IllegalArgumentException("--judge-clip " + judgeClip + " takes "
                        + judgeEncoder.config().imageSize() + " px images, the models' CLIP " + clip.config().imageSize());
            }
            RetrievalEvaluation judged = judgeClip == null ? retrieval : new RetrievalEvaluation(
                    texts -> DallE2.encodeText(judgeEncoder, manager, texts),
                    images -> DallE2.encodeImages(judgeEncoder, manager, images));
            String judgeName = judgeClip == null ? "the project's CLIP" : "the CLIP in " + judgeClip;
            int size = clip.config().imageSize();
            ImageCaptionDataset fashionTest = DatasetSpec.parse("fashion-mnist-test").open(dataDir, DatasetOptions.of(size));
            // only the sections that use emoji need its data
            boolean usesEmoji = sections.contains(Section.clip) || sections.contains(Section.emoji)
                    || sections.contains(Section.cascade);
            ImageCaptionDataset emoji = usesEmoji
                    ? DatasetSpec.parse("emoji-google").open(dataDir, DatasetOptions.of(size)) : null;
            List<LoadedItem> heldOut = usesEmoji ? emoji.heldOut(HeldOutSplit.DEFAULT).loadAll() : List.of();
            List<String> heldOutNames = heldOut.stream().map(item -> item.item().caption()).toList();
            // the first --emoji-prompts trained names, in an order fixed by the seed (the emoji and cascade sections)
            List<String> heldInNames = usesEmoji ? emoji.heldIn(HeldOutSplit.DEFAULT).shuffled(seed).items().stream()
                    .limit(emojiPrompts).map(ImageCaptionItem::caption).toList() : List.of();
            List<String> classPrompts = FashionMnistDataset.CLASSES.stream().map(FashionMnistDataset::prompt).toList();

            if (sections.contains(Section.clip)) {
                List<LoadedItem> fashion = fashionTest.loadAll();
                List<BufferedImage> fashionImages = fashion.stream().map(LoadedItem::image).toList();
                int[] labels = fashion.stream().mapToInt(item -> item.item().label()).toArray();
                double zeroShot = retrieval.zeroShotAccuracy(fashionImages, labels, classPrompts);
                report.append(String.format(Locale.ROOT, "CLIP zero-shot accuracy on the Fashion-MNIST test split "
                        + "(%d images, prompts \"a photo of a <class>\"): %.1f%%%n%n", fashion.size(), 100 * zeroShot));
                double[] recall = retrieval.textToImageRecall(heldOutNames,
                        heldOut.stream().map(LoadedItem::image).toList(), 1, 5);
                report.append(String.format(Locale.ROOT, "CLIP text-to-image recall on held-out emoji (google, %d names "
                        + "never trained on): R@1 %.1f%%, R@5 %.1f%%%n%n", heldOut.size(), 100 * recall[0], 100 * recall[1]));
            }
            // the emoji section's base images, kept for the cascade section (same names, seed and settings)
            List<BufferedImage> heldInBase = null;
            List<BufferedImage> heldOutBase = null;
            if (sections.contains(Section.emoji)) {
                heldInBase = dalle2.generate(heldInNames, seed, prior, decoder);
                heldOutBase = dalle2.generate(heldOutNames, seed, prior, decoder);
                double heldInTop1 = judged.promptRetrievalTop1Of10(heldInNames, heldInBase, seed);
                double heldOutTop1 = judged.promptRetrievalTop1Of10(heldOutNames, heldOutBase, seed);
                report.append(String.format(Locale.ROOT, "Emoji generations, top-1-of-10 retrieval of the prompt with "
                                + "%s (chance 10%%): held-in %.1f%% (%d names), held-out %.1f%% (%d names)%n%n",
                        judgeName, 100 * heldInTop1, heldInNames.size(), 100 * heldOutTop1, heldOutNames.size()));
            }
            if (generates && (sections.contains(Section.fashion) || sections.contains(Section.stages))) {
                FashionClassifier judge = FashionClassifier.load(ModelFactory.resolve(classifier), manager);
                if (sections.contains(Section.fashion)) {
                    GenerationClock clock = new GenerationClock();
                    FashionEvaluation.Result fashionResult = new FashionEvaluation(judge, fashionTest).evaluate(
                            prompt -> clock.time(() -> dalle2.generate(Collections.nCopies(perClass, prompt), seed,
                                    prior, decoder)),
                            perClass);
                    report.append("Fashion-MNIST generations judged by the project's classifier:\n\n")
                            .append(fashionResult.toMarkdown()).append('\n')
                            .append(clock.summary()).append("\n\n");
                }
                if (sections.contains(Section.stages)) {
                    report.append(stageDiagnostics(dalle2, retrieval, judge, fashionTest, classPrompts, prior, decoder));
                }
            }
            if (sections.contains(Section.upsampler)) {
                report.append(upsamplerSection(clip, manager));
            }
            if (sections.contains(Section.cascade)) {
                report.append(cascadeSection(dalle2, judged, CascadeNames.of(heldInNames, heldInBase, cascadePrompts, seed),
                        CascadeNames.of(heldOutNames, heldOutBase, cascadePrompts, seed), prior, decoder, manager));
            }
            if (dalle2 != null) {
                dalle2.close();
            }
            if (judgeEncoder != clip) {
                judgeEncoder.close();
            }
        }
        System.out.print(report);
        if (out != null) {
            Files.writeString(out, report, StandardCharsets.UTF_8);
        }
        return 0;
    }

    /**
     * Which stage limits the pipeline: the prior alone (are its predicted image embeddings classified like real
     * images' embeddings, by CLIP zero-shot?) and the decoder alone (what it draws from real images' CLIP
     * embeddings, an oracle prior, judged like the generations). Training images feed the oracle so the test
     * images stay the untouched reference.
     */
    private String stageDiagnostics(DallE2 dalle2, RetrievalEvaluation retrieval, FashionClassifier judge,
                                    ImageCaptionDataset fashionTest, List<String> classPrompts,
                                    SamplingParams prior, SamplingParams decoder) {
        StringBuilder section = new StringBuilder();
        List<String> prompts = new ArrayList<>();
        int[] promptLabels = new int[classPrompts.size() * stagePerClass];
        for (int c = 0; c < classPrompts.size(); c++) {
            for (int k = 0; k < stagePerClass; k++) {
                promptLabels[prompts.size()] = c;
                prompts.add(classPrompts.get(c));
            }
        }
        double priorZeroShot = retrieval.zeroShotAccuracyOfEmbeddings(dalle2.embed(prompts, seed, prior),
                promptLabels, classPrompts);
        section.append(String.format(Locale.ROOT, "Prior alone: its image embeddings for the ten class prompts "
                + "(%d each) classified zero-shot by CLIP like real images: %.1f%% (real test images above: the CLIP "
                + "zero-shot figure)%n%n", stagePerClass, 100 * priorZeroShot));

        int size = dalle2.clip().config().imageSize();
        ImageCaptionDataset fashionTrain = DatasetSpec.parse("fashion-mnist").open(dataDir, DatasetOptions.of(size));
        List<List<BufferedImage>> oracleSources =
                FashionMnistDataset.firstImagesOfEachClass(fashionTrain, stagePerClass);
        FashionEvaluation.Result oracle = new FashionEvaluation(judge, fashionTest).evaluate(prompt -> {
            int label = classPrompts.indexOf(prompt);
            return dalle2.decode(dalle2.encodeImages(oracleSources.get(label)), seed, decoder);
        }, stagePerClass);
        section.append("Decoder alone: images decoded from the CLIP image embeddings of real training images of each "
                        + "class (an oracle prior), judged by the classifier:\n\n")
                .append(oracle.toMarkdown()).append('\n');
        return section.toString();
    }

    /**
     * The super-resolution stage alone against bicubic interpolation, on 256 px emoji it never trained on: drawings
     * of trained names by the held-out vendor, and held-out names by the trained vendors.
     */
    private String upsamplerSection(ClipEncoder clip, NDManager manager) {
        Path dir = ModelFactory.resolve(models).resolve(UPSAMPLER_DIR);
        Upsampler upsampler = withSamplingOption(Upsampler.load(dir, manager));
        int size = upsampler.config().imageSize();
        ImageCaptionDataset highRes = DatasetSpec.parse("emoji;resolution=" + size).open(dataDir, DatasetOptions.of(size));
        UpsamplerEvaluation evaluation = new UpsamplerEvaluation(upsampler,
                tiles -> DallE2.encodeImages(clip, manager, tiles));
        StringBuilder section = new StringBuilder(String.format(Locale.ROOT, "Upsampler alone (%s, %d→%d px, %d %s "
                        + "steps from t = %d, augmentation level %d): held-out real images area-averaged to %d px and brought back by "
                        + "the upsampler and by bicubic interpolation. Tile Fréchet distance: CLIP image features of the "
                        + "%d×%d tiles with content, against the originals' tiles at the same places (0 = the originals).%n%n",
                dir, upsampler.config().lowResSize(), size, upsampler.config().samplingSteps(),
                samplerName(upsampler.config().samplerKind()), upsampler.config().samplingStartStep(), upsampler.config().samplingAugmentationStep(), upsampler.config().lowResSize(), UpsamplerEvaluation.PATCH,
                UpsamplerEvaluation.PATCH));
        section.append(UpsamplerEvaluation.Result.header());
        List<ImageCaptionDataset> sets = List.of(highRes.heldOutVendor(HeldOutSplit.DEFAULT),
                highRes.heldOutNames(HeldOutSplit.DEFAULT));
        List<String> names = List.of("held-out vendor", "held-out names");
        double seconds = 0;
        int images = 0;
        for (int i = 0; i < sets.size(); i++) {
            List<ImageCaptionItem> items = sets.get(i).shuffled(seed).items();
            ImageCaptionDataset chosen = ImageCaptionDataset.of(sets.get(i).name(), size,
                    items.subList(0, Math.min(upsamplerImages, items.size())), sets.get(i).report());
            List<BufferedImage> originals = chosen.loadAll().stream().map(LoadedItem::image).toList();
            UpsamplerEvaluation.Result result = evaluation.evaluate(names.get(i) + " (" + String.join(", ",
                    chosen.countsBySource().keySet()) + ")", originals, seed, manager);
            section.append(result.toMarkdownRows());
            seconds += result.seconds();
            images += result.images();
        }
        section.append(String.format(Locale.ROOT, "%nUpsampling wall time: %.1f s for %d images (%.2f s an image, "
                + "bicubic included).%n%n", seconds, images, seconds / images));
        return section.toString();
    }

    @Option(names = "--cascade-prompts", description = "held-in and held-out names the cascade section upsamples, "
            + "each a sample drawn with the seed (default: all of the emoji section's: --emoji-prompts held-in names and "
            + "every held-out one)")
    Integer cascadePrompts;

    /**
     * The names of one split the cascade draws, and their base images when the emoji section drew them already.
     * A capped list is a sample drawn with the seed, never the first names in the data's order: those are grouped by
     * kind (ten of the first twenty held-out names are flags), and top-1-of-10 draws its distractors among the list's
     * own names, so a run of flags is retrieved far worse than the whole split.
     */
    record CascadeNames(List<String> names, List<BufferedImage> base) {
        static CascadeNames of(List<String> names, List<BufferedImage> base, Integer cap, long seed) {
            if (cap == null || cap >= names.size()) {
                return new CascadeNames(names, base);
            }
            List<Integer> order = new ArrayList<>(java.util.stream.IntStream.range(0, names.size()).boxed().toList());
            Collections.shuffle(order, new java.util.Random(seed));
            List<Integer> picked = order.subList(0, cap);
            return new CascadeNames(picked.stream().map(names::get).toList(),
                    base == null ? null : picked.stream().map(base::get).toList());
        }
    }

    /**
     * The whole cascade: emoji prompts through prior, base decoder and upsampler, the final images retrieved like the
     * base ones (the CLIP sees them area-averaged to its input size), beside the base images of the same run; and a
     * contact sheet of fixed prompts at full size when {@code --cascade-sheet} names a file.
     */
    private String cascadeSection(DallE2 dalle2, RetrievalEvaluation retrieval, CascadeNames heldIn,
                                  CascadeNames heldOut, SamplingParams prior, SamplingParams decoder,
                                  NDManager manager) throws java.io.IOException {
        Upsampler upsampler = withSamplingOption(Upsampler.load(ModelFactory.resolve(models).resolve(UPSAMPLER_DIR),
                manager));
        StringBuilder section = new StringBuilder(String.format(Locale.ROOT, "Cascade (prior, decoder, upsampler %d→%d "
                        + "px, %d %s steps): emoji prompts, top-1-of-10 retrieval of the prompt from the final image against "
                        + "the base image of the same run (chance 10%%):%n%n| names | prompts | base %d px | final %d px |"
                        + "%n|---|---:|---:|---:|%n", upsampler.config().lowResSize(), upsampler.config().imageSize(),
                upsampler.config().samplingSteps(), samplerName(upsampler.config().samplerKind()),
                upsampler.config().lowResSize(), upsampler.config().imageSize()));
        long start = System.nanoTime();
        int upsampled = 0;
        for (CascadeNames split : List.of(heldIn, heldOut)) {
            List<BufferedImage> base = split.base() != null ? split.base()
                    : dalle2.generate(split.names(), seed, prior, decoder);
            List<BufferedImage> finals = upsampleAll(upsampler, base, seed, manager);
            upsampled += finals.size();
            section.append(String.format(Locale.ROOT, "| %s | %d | %.1f%% | %.1f%% |%n",
                    split == heldIn ? "held-in" : "held-out", split.names().size(),
                    100 * retrieval.promptRetrievalTop1Of10(split.names(), base, seed),
                    100 * retrieval.promptRetrievalTop1Of10(split.names(), finals, seed)));
        }
        section.append(String.format(Locale.ROOT, "%nCascade wall time: %.1f s for %d prompts, upsampling (and "
                + "generation unless the emoji section drew them).%n%n", (System.nanoTime() - start) / 1e9, upsampled));
        if (cascadeSheet != null) {
            List<BufferedImage> base = dalle2.generate(SHEET_PROMPTS, seed, prior, decoder);
            ContactSheet.write(upsampleAll(upsampler, base, seed, manager), 4, cascadeSheet);
            section.append("Contact sheet of ").append(String.join(", ", SHEET_PROMPTS)).append(" at ")
                    .append(upsampler.config().imageSize()).append(" px: ").append(cascadeSheet.getFileName())
                    .append("\n\n");
        }
        return section.toString();
    }

    /** Fixed prompts of the cascade's contact sheet: emoji names and garments, seen and never seen. */
    static final List<String> SHEET_PROMPTS = List.of("honeybee", "ambulance", "crayon", "red apple", "sun with face",
            "rocket", "a photo of a sneaker", "a photo of a bag");

    @Option(names = "--cascade-sheet", description = "write the cascade's contact sheet of fixed prompts here (PNG)")
    Path cascadeSheet;

    /** Image k upsampled with {@code NoiseStreams.seedFor(seed, k, "upsampler")}, as a worker draws image k of a job. */
    static List<BufferedImage> upsampleAll(Upsampler upsampler, List<BufferedImage> base, long seed, NDManager manager) {
        List<BufferedImage> out = new ArrayList<>(base.size());
        int low = upsampler.config().lowResSize();
        for (int from = 0; from < base.size(); from += UPSAMPLE_BATCH) {
            List<BufferedImage> chunk = base.subList(from, Math.min(base.size(), from + UPSAMPLE_BATCH));
            long[] seeds = new long[chunk.size()];
            for (int i = 0; i < seeds.length; i++) {
                seeds[i] = NoiseStreams.seedFor(seed, from + i, UpsampleTask.STAGE);
            }
            try (NDManager scope = manager.newSubManager()) {
                out.addAll(ImageTensors.toImages(upsampler.upsample(ImageTensors.toTensor(scope, chunk, 3, low),
                        seeds, Sampler.Progress.NONE)));
            }
        }
        return out;
    }

    static final int UPSAMPLE_BATCH = 8;

    private static String samplerName(SamplerKind kind) {
        return kind == SamplerKind.DDIM ? "DDIM" : "DPM-Solver++(2M)";
    }

    private Upsampler withSamplingOption(Upsampler upsampler) {
        Upsampler chosen = upsamplerSampler == null ? upsampler : upsampler.sampledWith(upsamplerSampler);
        if (upsamplerSampling == null) {
            return chosen;
        }
        if (upsamplerSampling.size() != 3) {
            throw new IllegalArgumentException("--upsampler-sampling takes AUG,STEPS,START, got " + upsamplerSampling);
        }
        return chosen.sampledWith(upsamplerSampling.get(0), upsamplerSampling.get(1), upsamplerSampling.get(2));
    }

    /** Wall time spent generating (prior and decoder, not judging), with the load that shared the CPU. */
    static final class GenerationClock {
        private long nanos;
        private int images;
        private double loadSum;
        private int loadSamples;

        List<BufferedImage> time(Supplier<List<BufferedImage>> generation) {
            long start = System.nanoTime();
            List<BufferedImage> generated = generation.get();
            nanos += System.nanoTime() - start;
            images += generated.size();
            double load = dalle2.cli.bench.Measurements.loadAverage();
            if (load >= 0) {
                loadSum += load;
                loadSamples++;
            }
            return generated;
        }

        String summary() {
            double seconds = nanos / 1e9;
            return String.format(Locale.ROOT, "Generation wall time: %.1f s for %d images (%.3f images/s, %d CPU "
                            + "threads); 1-minute load average during it %s.", seconds, images, images / seconds,
                    Runtime.getRuntime().availableProcessors(),
                    loadSamples == 0 ? "unknown" : String.format(Locale.ROOT, "%.2f", loadSum / loadSamples));
        }
    }
}
