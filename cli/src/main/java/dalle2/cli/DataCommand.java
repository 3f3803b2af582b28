package dalle2.cli;

import dalle2.data.DataFetcher;
import dalle2.data.DatasetException;
import dalle2.data.DatasetOptions;
import dalle2.data.DatasetReport;
import dalle2.data.DatasetSpec;
import dalle2.data.HeldOutSplit;
import dalle2.data.ImageCaptionDataset;
import dalle2.data.ImageCaptionItem;
import dalle2.data.LoadedItem;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code dalle2 data fetch emoji|fashion-mnist [--dir D]} and {@code dalle2 data info <datasets> [--dir D]}. */
@Command(name = "data", mixinStandardHelpOptions = true,
        description = "Get the real training data (npm, Debian) and inspect datasets.",
        subcommands = {DataCommand.Fetch.class, DataCommand.Info.class})
public final class DataCommand implements Runnable {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(System.out);
    }

    @Command(name = "fetch", mixinStandardHelpOptions = true,
            description = {"Fetch a dataset with its ordinary package client and check it.",
                    "emoji: npm pack emoji-datasource-google@16.0.0 and emoji-datasource-twitter@16.0.0 into DIR/emoji, extracted.",
                    "fashion-mnist: checks the files of Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist)."})
    static final class Fetch implements Callable<Integer> {

        @Parameters(index = "0", paramLabel = "DATASET", description = "emoji or fashion-mnist")
        String dataset;

        @Option(names = "--dir", paramLabel = "DIR", defaultValue = "data", description = "data folder (default: ${DEFAULT-VALUE})")
        Path dir;

        @Override
        public Integer call() {
            try {
                DataFetcher.FetchResult result = new DataFetcher(System.out::println).fetch(dataset, dir);
                System.out.println(result.dataset() + " ready in " + result.location());
                return 0;
            } catch (DatasetException e) {
                System.err.println("dalle2 data fetch: " + e.getMessage());
                return 1;
            }
        }
    }

    @Command(name = "info", mixinStandardHelpOptions = true,
            description = "Open datasets and print item and caption counts, the held-out split, skipped items and examples.")
    static final class Info implements Callable<Integer> {

        @Parameters(index = "0", paramLabel = "DATASETS",
                description = "kind[:location],... with kinds emoji, emoji-google, emoji-twitter, fashion-mnist, "
                        + "fashion-mnist-test, jsonl:DIR, wds:DIR (e.g. emoji,fashion-mnist)")
        String datasets;

        @Option(names = "--dir", paramLabel = "DIR", defaultValue = "data", description = "data folder (default: ${DEFAULT-VALUE})")
        Path dir;

        @Option(names = "--size", defaultValue = "32", description = "image size in pixels (default: ${DEFAULT-VALUE})")
        int size;

        @Option(names = "--examples", defaultValue = "5", description = "how many items to show (default: ${DEFAULT-VALUE})")
        int examples;

        @Option(names = "--held-out", defaultValue = "0.05", description = "held-out fraction (default: ${DEFAULT-VALUE})")
        double heldOut;

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
                HeldOutSplit split = new HeldOutSplit(heldOut);
                ImageCaptionDataset out = d.heldOut(split);
                System.out.printf("held out (%.1f%% of split keys): %d items, %d keys%n", heldOut * 100, out.size(),
                        out.items().stream().map(ImageCaptionItem::splitKey).distinct().count());
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
    }
}
