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
import dalle2.inference.DallE2;
import dalle2.models.ClipEncoder;
import dalle2.inference.SamplingParams;
import dalle2.messages.GenerationRequest;
import dalle2.sampling.SamplerKind;
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

    @Option(names = "--models", defaultValue = "trained_models", description = "models folder (default: ${DEFAULT-VALUE})")
    Path models;
    @Option(names = "--classifier", defaultValue = "trained_models/eval/fashion-classifier") Path classifier;
    @Option(names = "--data-dir", defaultValue = "data") Path dataDir;
    @Option(names = "--per-class", defaultValue = "50", description = "generated images per Fashion-MNIST class")
    int perClass;
    @Option(names = "--emoji-prompts", defaultValue = "100", description = "held-in emoji names to generate")
    int emojiPrompts;
    // the API's defaults, so that what is evaluated is what a request without these fields gets
    @Option(names = "--prior-steps", defaultValue = "" + GenerationRequest.DEFAULT_PRIOR_STEPS,
            description = "(default: ${DEFAULT-VALUE}, the API's)") int priorSteps;
    @Option(names = "--decoder-steps", defaultValue = "" + GenerationRequest.DEFAULT_DECODER_STEPS,
            description = "(default: ${DEFAULT-VALUE}, the API's)") int decoderSteps;
    @Option(names = "--prior-guidance", defaultValue = "" + GenerationRequest.DEFAULT_PRIOR_GUIDANCE,
            description = "(default: ${DEFAULT-VALUE}, the API's)") float priorGuidance;
    @Option(names = "--decoder-guidance", defaultValue = "" + GenerationRequest.DEFAULT_DECODER_GUIDANCE,
            description = "(default: ${DEFAULT-VALUE}, the API's)") float decoderGuidance;
    @Option(names = "--sampler", defaultValue = "ddim", converter = SamplerOption.class,
            description = SamplerOption.DESCRIPTION + " (default: ${DEFAULT-VALUE})")
    SamplerKind sampler;
    @Option(names = "--prior-sampler", converter = SamplerOption.class,
            description = "the prior's sampler, to measure one stage's sampler alone (default: --sampler)")
    SamplerKind priorSampler;
    @Option(names = "--decoder-sampler", converter = SamplerOption.class,
            description = "the decoder's sampler (default: --sampler)")
    SamplerKind decoderSampler;
    @Option(names = "--seed", defaultValue = "1", description = "job seed of every generation; another seed "
            + "measures the run-to-run noise of the figures (default: ${DEFAULT-VALUE})") long seed;
    @Option(names = "--out", description = "also write the report (Markdown) here") Path out;
    @Option(names = "--clip-only", description = "only the CLIP figures (no prior or decoder needed)") boolean clipOnly;
    @Option(names = "--stage-per-class", defaultValue = "20", description = "images per class for the per-stage "
            + "diagnostics (prior alone, decoder alone); 0 skips them (default: ${DEFAULT-VALUE})") int stagePerClass;

    /** Parts of the report; each can be run alone (e.g. to compare sampler settings on the stages only). */
    enum Section { clip, emoji, fashion, stages }

    @Option(names = "--sections", split = ",", defaultValue = "clip,emoji,fashion,stages",
            description = "which parts to run, of ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE})")
    Set<Section> sections;

    @Override
    public Integer call() throws Exception {
        DjlRuntime.configure();
        sections = clipOnly ? EnumSet.of(Section.clip)
                : sections.isEmpty() ? EnumSet.noneOf(Section.class) : EnumSet.copyOf(sections);
        if (stagePerClass <= 0) {
            sections.remove(Section.stages);
        }
        boolean generates = sections.stream().anyMatch(s -> s != Section.clip);
        StringBuilder report = new StringBuilder();
        SamplingParams prior = new SamplingParams(priorSteps, 0f, priorGuidance,
                priorSampler != null ? priorSampler : sampler);
        SamplingParams decoder = new SamplingParams(decoderSteps, 0f, decoderGuidance,
                decoderSampler != null ? decoderSampler : sampler);
        report.append(String.format(Locale.ROOT, "Settings: prior %s %d steps (guidance %.1f), decoder %s %d steps "
                        + "(guidance %.1f), eta 0, seed %d.%n%n", prior.sampler().configName(), priorSteps, priorGuidance,
                decoder.sampler().configName(), decoderSteps, decoderGuidance, seed));
        try (NDManager manager = DjlRuntime.newManager()) {
            DallE2 dalle2 = generates ? DallE2.load(ModelFactory.resolve(models)) : null;
            ClipEncoder clip = generates ? dalle2.clip()
                    : ClipEncoder.load(ModelFactory.resolve(models).resolve(DallE2.CLIP_DIR), manager);
            RetrievalEvaluation retrieval = new RetrievalEvaluation(
                    texts -> DallE2.encodeText(clip, manager, texts),
                    images -> DallE2.encodeImages(clip, manager, images));
            int size = clip.config().imageSize();
            ImageCaptionDataset fashionTest = DatasetSpec.parse("fashion-mnist-test").open(dataDir, DatasetOptions.of(size));
            // only the sections that use emoji need its data
            boolean usesEmoji = sections.contains(Section.clip) || sections.contains(Section.emoji);
            ImageCaptionDataset emoji = usesEmoji
                    ? DatasetSpec.parse("emoji-google").open(dataDir, DatasetOptions.of(size)) : null;
            List<LoadedItem> heldOut = usesEmoji ? emoji.heldOut(HeldOutSplit.DEFAULT).loadAll() : List.of();
            List<String> heldOutNames = heldOut.stream().map(item -> item.item().caption()).toList();
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
            if (sections.contains(Section.emoji)) {
                List<ImageCaptionItem> heldIn = new ArrayList<>(emoji.heldIn(HeldOutSplit.DEFAULT).shuffled(seed).items());
                List<String> heldInNames = heldIn.subList(0, Math.min(emojiPrompts, heldIn.size())).stream()
                        .map(ImageCaptionItem::caption).toList();
                double heldInTop1 = retrieval.promptRetrievalTop1Of10(heldInNames,
                        dalle2.generate(heldInNames, seed, prior, decoder), seed);
                double heldOutTop1 = retrieval.promptRetrievalTop1Of10(heldOutNames,
                        dalle2.generate(heldOutNames, seed, prior, decoder), seed);
                report.append(String.format(Locale.ROOT, "Emoji generations, top-1-of-10 retrieval of the prompt with "
                                + "the project's CLIP (chance 10%%): held-in %.1f%% (%d names), held-out %.1f%% (%d names)%n%n",
                        100 * heldInTop1, heldInNames.size(), 100 * heldOutTop1, heldOutNames.size()));
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
            if (dalle2 != null) {
                dalle2.close();
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
