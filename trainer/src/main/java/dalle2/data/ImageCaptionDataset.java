package dalle2.data;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Predicate;

/**
 * An image–caption dataset: an ordered list of items whose images decode lazily at one square size, and the
 * report of the items it skipped. Subsets (shuffled, held out, filtered) and mixtures are datasets too.
 *
 * <p>Readers: {@link EmojiDataset}, {@link FashionMnistDataset}, {@link CaptionsJsonlDataset},
 * {@link WebDatasetShards}; {@link DatasetSpec} opens a mixture from a command-line string.
 */
public interface ImageCaptionDataset {

    /** E.g. "emoji-google", "fashion-mnist-train", "emoji-google+emoji-twitter". */
    String name();

    /** Side of the square RGB images the items deliver. */
    int imageSize();

    /** Unmodifiable; the images are not decoded yet. */
    List<ImageCaptionItem> items();

    /** The items skipped so far, at indexing time and at load time. */
    DatasetReport report();

    default int size() {
        return items().size();
    }

    default ImageCaptionItem get(int index) {
        return items().get(index);
    }

    /** The same items in an order fixed by the seed (Fisher–Yates with {@link SplittableRandom}). */
    default ImageCaptionDataset shuffled(long seed) {
        List<ImageCaptionItem> copy = new ArrayList<>(items());
        SplittableRandom random = new SplittableRandom(seed);
        for (int i = copy.size() - 1; i > 0; i--) {
            Collections.swap(copy, i, random.nextInt(i + 1));
        }
        return of(name(), imageSize(), copy, report());
    }

    /** Every item never trained on: a held-out name, or the held-out vendor (for evaluation). */
    default ImageCaptionDataset heldOut(HeldOutSplit split) {
        return filter(name() + "[held-out]", split::isHeldOut);
    }

    /** The items the split keeps for training: neither a held-out name nor a held-out vendor. */
    default ImageCaptionDataset heldIn(HeldOutSplit split) {
        return filter(name() + "[held-in]", item -> !split.isHeldOut(item));
    }

    /** Held-out names as the trained vendors draw them: generalisation to names never seen. */
    default ImageCaptionDataset heldOutNames(HeldOutSplit split) {
        return filter(name() + "[held-out names]", item -> split.isHeldOutName(item) && !split.isHeldOutSource(item));
    }

    /** Trained names as the held-out vendor draws them: a new style of known names, not a memorised picture. */
    default ImageCaptionDataset heldOutVendor(HeldOutSplit split) {
        return filter(name() + "[held-out vendor]", item -> split.isHeldOutSource(item) && !split.isHeldOutName(item));
    }

    default ImageCaptionDataset filter(String name, Predicate<ImageCaptionItem> keep) {
        return of(name, imageSize(), items().stream().filter(keep).toList(), report());
    }

    /** Item counts per {@link ImageCaptionItem#source()}, in order of first appearance. */
    default Map<String, Integer> countsBySource() {
        Map<String, Integer> counts = new LinkedHashMap<>();
        for (ImageCaptionItem item : items()) {
            counts.merge(item.source(), 1, Integer::sum);
        }
        return counts;
    }

    default long captionCount() {
        return items().stream().mapToLong(item -> item.captions().size()).sum();
    }

    /**
     * One epoch in the order the seed fixes, decoding each image when it is reached. Bad images are skipped and
     * counted (or, strict, stop with a {@link DatasetException} naming the item): the iteration itself never fails
     * half-way for one item.
     */
    default Iterator<LoadedItem> epoch(long seed) {
        return loading(shuffled(seed).items());
    }

    /** All items in order, images decoded (bad ones skipped and counted). Uses the common fork-join pool. */
    default List<LoadedItem> loadAll() {
        return items().parallelStream()
                .map(item -> item.loadImage().map(image -> new LoadedItem(item, image)))
                .flatMap(Optional::stream)
                .toList();
    }

    /** Decodes lazily while iterating over the given items, skipping the ones that fail. */
    static Iterator<LoadedItem> loading(List<ImageCaptionItem> items) {
        return new Iterator<>() {
            private int next;
            private LoadedItem ready;

            @Override
            public boolean hasNext() {
                while (ready == null && next < items.size()) {
                    ImageCaptionItem item = items.get(next++);
                    ready = item.loadImage().map(image -> new LoadedItem(item, image)).orElse(null);
                }
                return ready != null;
            }

            @Override
            public LoadedItem next() {
                if (!hasNext()) {
                    throw new NoSuchElementException();
                }
                LoadedItem out = ready;
                ready = null;
                return out;
            }
        };
    }

    /** A dataset over a fixed list of items. */
    static ImageCaptionDataset of(String name, int imageSize, List<ImageCaptionItem> items, DatasetReport report) {
        return new ListDataset(name, imageSize, items, report);
    }

    /**
     * A mixture: the items of each dataset, one after the other (shuffle it for training). All must share one
     * image size; item ids must be unique across them.
     */
    static ImageCaptionDataset concat(List<? extends ImageCaptionDataset> datasets) {
        if (datasets.isEmpty()) {
            throw new IllegalArgumentException("a mixture needs at least one dataset");
        }
        if (datasets.size() == 1) {
            return datasets.get(0);
        }
        int size = datasets.get(0).imageSize();
        List<ImageCaptionItem> items = new ArrayList<>();
        List<DatasetReport> reports = new ArrayList<>();
        List<String> names = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        for (ImageCaptionDataset d : datasets) {
            if (d.imageSize() != size) {
                throw new IllegalArgumentException("cannot mix " + d.name() + " (" + d.imageSize() + " px) with "
                        + datasets.get(0).name() + " (" + size + " px)");
            }
            for (ImageCaptionItem item : d.items()) {
                if (!ids.add(item.id())) {
                    throw new IllegalArgumentException("item id " + item.id() + " appears twice in the mixture (" + d.name() + ")");
                }
            }
            items.addAll(d.items());
            reports.add(d.report());
            names.add(d.name());
        }
        return of(String.join("+", names), size, items, DatasetReport.combined(reports));
    }

    /** The plain implementation behind {@link #of}. */
    record ListDataset(String name, int imageSize, List<ImageCaptionItem> items, DatasetReport report)
            implements ImageCaptionDataset {
        public ListDataset {
            Objects.requireNonNull(name, "name");
            items = List.copyOf(items);
            Objects.requireNonNull(report, "report");
            for (ImageCaptionItem item : items) {
                if (item.image().size() != imageSize) {
                    throw new IllegalArgumentException("item " + item.id() + " delivers " + item.image().size()
                            + " px images, dataset " + name + " is " + imageSize + " px");
                }
            }
        }

        @Override
        public String toString() {
            return name + " (" + items.size() + " items, " + imageSize + " px, " + report.summary() + ")";
        }
    }
}
