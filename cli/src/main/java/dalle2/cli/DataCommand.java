package dalle2.cli;

import dalle2.data.DataFetcher;
import dalle2.data.EmojiCorpusIndex;
import dalle2.data.EmojiVendor;
import dalle2.data.DatasetException;
import dalle2.data.DatasetOptions;
import dalle2.data.DatasetReport;
import dalle2.data.DatasetSpec;
import dalle2.data.HeldOutSplit;
import dalle2.data.ImageCaptionDataset;
import dalle2.data.ImageCaptionItem;
import dalle2.data.LoadedItem;
import dalle2.data.SvgRenderer;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code dalle2 data fetch emoji|fashion-mnist [--dir D]} and {@code dalle2 data info <datasets> [--dir D]}. */
@Command(name = "data", mixinStandardHelpOptions = true,
        description = "Get the real training data (npm, Debian) and inspect datasets.",
        subcommands = {DataCommand.Fetch.class, DataCommand.Info.class, DataCommand.BenchSvg.class})
public final class DataCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "fetch", mixinStandardHelpOptions = true,
            description = {"Fetch a dataset with its ordinary package client and check it.",
                    "emoji: npm pack each vendor's package into DIR/emoji, extracted, checked and indexed (DIR/emoji/index/).",
                    "  vendors: google, twitter (emoji-datasource-*@16.0.0, 64 px PNG), fluent, fluent-flat (fluentui-emoji@1.3.0),",
                    "  openmoji (openmoji@17.0.0), twemoji (@twemoji/svg@15.0.0) (SVG, drawn at 256 px); opt-in: facebook, apple",
                    "  (their drawings have no licence that allows training).",
                    "fashion-mnist: checks the files of Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist)."})
    static final class Fetch implements Callable<Integer> {

        @Parameters(index = "0", paramLabel = "DATASET", description = "emoji or fashion-mnist")
        String dataset;

        @Option(names = "--dir", paramLabel = "DIR", defaultValue = "data", description = "data folder (default: ${DEFAULT-VALUE})")
        Path dir;

        @Option(names = "--vendors", paramLabel = "V,V", description = "emoji vendors to fetch (default: the default ones:"
                + " google, twitter, fluent, fluent-flat, openmoji, twemoji; also 'all', 'default,apple')")
        String vendors;

        @Override
        public Integer call() {
            try {
                List<EmojiVendor> emojiVendors = vendors == null ? null : EmojiVendor.parseList(vendors);
                long t0 = System.nanoTime();
                DataFetcher.FetchResult result = new DataFetcher(System.out::println).fetch(dataset, dir, emojiVendors);
                System.out.printf(Locale.ROOT, "fetch took %.1f s (load average %s)%n", (System.nanoTime() - t0) / 1e9, dalle2.cli.bench.Measurements.loadAverages());
                System.out.println(result.dataset() + " ready in " + result.location());
                return 0;
            } catch (IllegalArgumentException | DatasetException e) {
                System.err.println("dalle2 data fetch: " + e.getMessage());
                return 1;
            }
        }
    }

    @Command(name = "info", mixinStandardHelpOptions = true,
            description = "Open datasets and print item and caption counts, the held-out split, skipped items and examples.")
    static final class Info implements Callable<Integer> {

        @Parameters(index = "0", paramLabel = "DATASETS",
                description = "kind[;option=value][:location],... with kinds emoji, emoji-google, emoji-twitter, fashion-mnist, "
                        + "fashion-mnist-test, jsonl:DIR, wds:DIR (e.g. emoji,fashion-mnist; the emoji corpus: "
                        + "emoji;vendors=default;resolution=256)")
        String datasets;

        @Option(names = "--dir", paramLabel = "DIR", defaultValue = "data", description = "data folder (default: ${DEFAULT-VALUE})")
        Path dir;

        @Option(names = "--size", defaultValue = "32", description = "image size in pixels (default: ${DEFAULT-VALUE})")
        int size;

        @Option(names = "--examples", defaultValue = "5", description = "how many items to show (default: ${DEFAULT-VALUE})")
        int examples;

        @Option(names = "--held-out", defaultValue = "0.05", description = "held-out fraction (default: ${DEFAULT-VALUE})")
        double heldOut;

        @Option(names = "--held-out-vendor", defaultValue = "openmoji",
                description = "emoji vendor never trained on, or none (default: ${DEFAULT-VALUE})")
        String heldOutVendor;

        @Option(names = "--load", description = "decode every image (finds corrupt files; prints the time it takes)")
        boolean load;

        @Option(names = "--strict", description = "stop at the first bad item instead of skipping it")
        boolean strict;

        @Override
        public Integer call() {
            try {
                DatasetSpec parsed = DatasetSpec.parse(datasets);
                DatasetOptions options = DatasetOptions.of(size);
                if (strict) {
                    options = options.strict();
                }
                long t0 = System.nanoTime();
                ImageCaptionDataset d = parsed.open(dir, options);
                System.out.printf("%s: %d items, %d captions, %d x %d RGB (indexed in %.1f s)%n", d.name(), d.size(),
                        d.captionCount(), d.imageSize(), d.imageSize(), (System.nanoTime() - t0) / 1e9);
                for (Map.Entry<String, Integer> e : d.countsBySource().entrySet()) {
                    System.out.printf("  %-24s %7d items%n", e.getKey(), e.getValue());
                }
                HeldOutSplit split = new HeldOutSplit(heldOut).withHeldOutVendor(heldOutVendor);
                ImageCaptionDataset out = d.heldOut(split);
                System.out.printf("held out (%.1f%% of split keys): %d items, %d keys%n", heldOut * 100, out.size(),
                        out.items().stream().map(ImageCaptionItem::splitKey).distinct().count());
                if (!split.heldOutSources().isEmpty()) {
                    System.out.printf("  of which held-out names of trained vendors %d, trained names of the held-out vendor %s %d;"
                                    + " training keeps %d items%n", d.heldOutNames(split).size(), split.heldOutSources(),
                            d.heldOutVendor(split).size(), d.heldIn(split).size());
                }
                if (load) {
                    long t1 = System.nanoTime();
                    List<LoadedItem> loaded = d.loadAll();
                    System.out.printf("decoded %d images in %.1f s%n", loaded.size(), (System.nanoTime() - t1) / 1e9);
                }
                List<ImageCaptionItem> shown = d.shuffled(0).items();
                System.out.println("examples:");
                for (ImageCaptionItem item : shown.subList(0, Math.min(examples, shown.size()))) {
                    System.out.println("  " + item.id() + " " + item.captions() + (item.hasLabel() ? " label " + item.label() : "")
                            + " " + item.metadata());
                }
                if (parsed.entries().stream().anyMatch(e -> e.kind().startsWith("emoji"))) {
                    printCorpusIndex(parsed.entries().stream().filter(e -> e.kind().startsWith("emoji") && e.location() != null)
                            .map(DatasetSpec.Entry::location).findFirst().orElse(dir.resolve("emoji")));
                }
                DatasetReport report = d.report();
                System.out.println("skipped: " + report.summary());
                for (DatasetReport.Skip skip : report.examples()) {
                    System.out.println("  " + skip);
                }
                return 0;
            } catch (IllegalArgumentException | DatasetException e) {
                System.err.println("dalle2 data info: " + e.getMessage());
                return 1;
            }
        }

        /** What the fetch indexed: drawings per vendor and per resolution, and what it left out, by reason. */
        static void printCorpusIndex(Path emojiDir) {
            Map<Integer, Integer> perResolution = new TreeMap<>();
            boolean any = false;
            for (EmojiVendor v : EmojiVendor.values()) {
                Optional<EmojiCorpusIndex.VendorIndex> index = EmojiCorpusIndex.read(emojiDir, v);
                if (index.isEmpty()) {
                    continue;
                }
                if (!any) {
                    System.out.println("emoji corpus indexed in " + emojiDir.resolve(EmojiCorpusIndex.FOLDER) + ":");
                    any = true;
                }
                EmojiCorpusIndex.VendorIndex i = index.get();
                System.out.printf(Locale.ROOT, "  %-12s %-32s %-30s %4d px %s %6d drawings, %5d skipped %s%n", v.id(), i.packageSpec(),
                        i.licence(), i.resolution(), i.isDefault() ? "default" : "opt-in ", i.items().size(), i.skippedTotal(),
                        i.skippedCounts().isEmpty() ? "" : i.skippedCounts());
                perResolution.merge(i.resolution(), i.items().size(), Integer::sum);
                for (EmojiCorpusIndex.Skip skip : i.skipped().subList(0, Math.min(3, i.skipped().size()))) {
                    System.out.println("      e.g. " + skip.id() + ": " + skip.reason() + " (" + skip.detail() + ")");
                }
            }
            if (!any) {
                System.out.println("emoji corpus: no index in " + emojiDir.resolve(EmojiCorpusIndex.FOLDER)
                        + " (dalle2 data fetch emoji writes it)");
                return;
            }
            perResolution.forEach((r, n) -> System.out.printf(Locale.ROOT, "  drawn at %d px: %d drawings%n", r, n));
        }
}
    @Command(name = "bench-svg", mixinStandardHelpOptions = true,
            description = {"Render a sample of each fetched SVG emoji vendor with JSVG and print the time per icon, failures,",
                    "blank renders and whether a second render gives the same pixels (run twice on a quiet machine)."})
    static final class BenchSvg implements Callable<Integer> {

        @Option(names = "--dir", paramLabel = "DIR", defaultValue = "data", description = "data folder (default: ${DEFAULT-VALUE})")
        Path dir;

        @Option(names = "--vendors", defaultValue = "fluent,fluent-flat,openmoji,twemoji",
                description = "SVG vendors (default: ${DEFAULT-VALUE})")
        String vendors;

        @Option(names = "--limit", defaultValue = "100", description = "icons per vendor, spread over the set; 0: all (default: ${DEFAULT-VALUE})")
        int limit;

        @Option(names = "--size", defaultValue = "256", description = "render side in pixels (default: ${DEFAULT-VALUE})")
        int size;

        @Option(names = "--sheets", paramLabel = "DIR", description = "also write a 4 x 4 sheet of the first 16 sampled icons per vendor, composited on white")
        Path sheets;

        @Override
        public Integer call() {
            try {
                Path emojiDir = dir.resolve("emoji");
                System.out.println("load average before: " + dalle2.cli.bench.Measurements.loadAverages());
                for (EmojiVendor v : EmojiVendor.parseList(vendors)) {
                    if (v.format() != EmojiVendor.Format.SVG) {
                        continue;
                    }
                    EmojiCorpusIndex.VendorIndex index = EmojiCorpusIndex.read(emojiDir, v).orElseThrow(() -> new DatasetException(
                            "no index of " + v.id() + "; run: dalle2 data fetch emoji --vendors " + v.id()));
                    List<EmojiCorpusIndex.Entry> items = index.items();
                    int n = limit <= 0 ? items.size() : Math.min(limit, items.size());
                    int failures = 0;
                    int blank = 0;
                    int unstable = 0;
                    long nanos = 0;
                    List<String> failed = new java.util.ArrayList<>();
                    java.awt.image.BufferedImage sheet = null;
                    for (int k = 0; k < n; k++) {
                        EmojiCorpusIndex.Entry e = items.get((int) ((long) k * items.size() / n));
                        try {
                            byte[] svg = java.nio.file.Files.readAllBytes(emojiDir.resolve(e.file()));
                            long t0 = System.nanoTime();
                            java.awt.image.BufferedImage image = SvgRenderer.render(svg, size, e.file());
                            nanos += System.nanoTime() - t0;
                            int[] pixels = image.getRGB(0, 0, size, size, null, 0, size);
                            if (java.util.Arrays.stream(pixels).allMatch(p -> (p >>> 24) == 0)) {
                                blank++;
                            }
                            if (sheets != null && k < 16) {
                                if (sheet == null) {
                                    sheet = new java.awt.image.BufferedImage(4 * size, 4 * size, java.awt.image.BufferedImage.TYPE_INT_RGB);
                                }
                                sheet.getGraphics().drawImage(dalle2.data.ImagePreprocessing.toSquareRgb(image, size),
                                        (k % 4) * size, (k / 4) * size, null);
                            }
                            if (k < 10 && !java.util.Arrays.equals(pixels, SvgRenderer.render(svg, size, e.file()).getRGB(0, 0, size, size, null, 0, size))) {
                                unstable++;
                            }
                        } catch (java.io.IOException ex) {
                            failures++;
                            if (failed.size() < 3) {
                                failed.add(e.id() + ": " + ex.getMessage());
                            }
                        }
                    }
                    int rendered = n - failures;
                    System.out.printf(Locale.ROOT, "%-12s %5d of %5d icons at %d px: %.1f ms per icon, %d failed, %d blank,"
                                    + " %d of the first 10 differ on a second render%n", v.id(), n, items.size(), size,
                            rendered == 0 ? 0 : nanos / 1e6 / rendered, failures, blank, unstable);
                    failed.forEach(f -> System.out.println("    " + f));
                    if (sheet != null) {
                        java.nio.file.Files.createDirectories(sheets);
                        javax.imageio.ImageIO.write(sheet, "png", sheets.resolve(v.id() + ".png").toFile());
                        System.out.println("    sheet: " + sheets.resolve(v.id() + ".png"));
                    }
                }
                System.out.println("load average after: " + dalle2.cli.bench.Measurements.loadAverages());
                return 0;
            } catch (IllegalArgumentException | DatasetException | java.io.IOException e) {
                System.err.println("dalle2 data bench-svg: " + e.getMessage());
                return 1;
            }
        }
    }
}
