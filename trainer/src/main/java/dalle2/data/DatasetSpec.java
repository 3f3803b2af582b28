package dalle2.data;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * The {@code --data} option of the trainers: a comma-separated mixture of {@code kind[:location]}.
 *
 * <pre>
 *   emoji[:DIR]              both vendors' drawings (DIR default: &lt;data dir&gt;/emoji)
 *   emoji-google[:DIR]       one vendor
 *   emoji-twitter[:DIR]
 *   fashion-mnist[:DIR]      the official training split (DIR default: &lt;data dir&gt;/fashion-mnist, else the Debian path)
 *   fashion-mnist-test[:DIR] the official test split
 *   jsonl:DIR                a folder with captions.jsonl (or the .jsonl file)
 *   wds:DIR                  a folder of WebDataset .tar shards (or one .tar)
 * </pre>
 *
 * Example: {@code emoji,fashion-mnist,jsonl:my-pics}. The location is everything after the first colon; paths
 * with commas are not supported.
 */
public record DatasetSpec(List<Entry> entries) {

    public static final List<String> KINDS = List.of(
            "emoji", "emoji-google", "emoji-twitter", "fashion-mnist", "fashion-mnist-test", "jsonl", "wds");

    public static final String SYNTAX = "comma-separated kind[:location], kinds " + String.join(", ", KINDS)
            + " (jsonl and wds need a location), e.g. emoji,fashion-mnist,jsonl:my-pics";

    /** @param location null for the default place of the kind */
    public record Entry(String kind, Path location) {
        public Entry {
            Objects.requireNonNull(kind, "kind");
            if (!KINDS.contains(kind)) {
                throw new IllegalArgumentException("unknown dataset '" + kind + "'; valid: " + String.join(", ", KINDS));
            }
            if (location == null && (kind.equals("jsonl") || kind.equals("wds"))) {
                throw new IllegalArgumentException(kind + " needs a location: " + kind + ":DIR");
            }
        }

        @Override
        public String toString() {
            return location == null ? kind : kind + ":" + location;
        }
    }

    public DatasetSpec {
        if (entries == null || entries.isEmpty()) {
            throw new IllegalArgumentException("no dataset given; expected " + SYNTAX);
        }
        entries = List.copyOf(entries);
    }

    public static DatasetSpec parse(String spec) {
        if (spec == null || spec.isBlank()) {
            throw new IllegalArgumentException("no dataset given; expected " + SYNTAX);
        }
        List<Entry> entries = new ArrayList<>();
        for (String part : spec.split(",")) {
            String p = part.trim();
            if (p.isEmpty()) {
                continue;
            }
            int colon = p.indexOf(':');
            String kind = (colon < 0 ? p : p.substring(0, colon)).trim().toLowerCase(Locale.ROOT);
            String location = colon < 0 ? null : p.substring(colon + 1).trim();
            entries.add(new Entry(kind, location == null || location.isEmpty() ? null : Path.of(location)));
        }
        return new DatasetSpec(entries);
    }

    /** Opens every entry with the same options (one image size, one report) and mixes them. */
    public ImageCaptionDataset open(Path dataDir, DatasetOptions options) {
        List<ImageCaptionDataset> datasets = new ArrayList<>();
        for (Entry e : entries) {
            datasets.add(open(e, dataDir, options));
        }
        return ImageCaptionDataset.concat(datasets);
    }

    static ImageCaptionDataset open(Entry e, Path dataDir, DatasetOptions options) {
        Path emojiDir = e.location() != null ? e.location() : dataDir.resolve("emoji");
        return switch (e.kind()) {
            case "emoji" -> EmojiDataset.open(emojiDir, options);
            case "emoji-google" -> EmojiDataset.open(emojiDir, List.of(EmojiDataset.Vendor.GOOGLE), options);
            case "emoji-twitter" -> EmojiDataset.open(emojiDir, List.of(EmojiDataset.Vendor.TWITTER), options);
            case "fashion-mnist" -> FashionMnistDataset.open(fashionMnistDir(e, dataDir), FashionMnistDataset.Split.TRAIN, options);
            case "fashion-mnist-test" -> FashionMnistDataset.open(fashionMnistDir(e, dataDir), FashionMnistDataset.Split.TEST, options);
            case "jsonl" -> CaptionsJsonlDataset.open(e.location(), options);
            case "wds" -> WebDatasetShards.open(e.location(), options);
            default -> throw new IllegalStateException(e.kind());
        };
    }

    private static Path fashionMnistDir(Entry e, Path dataDir) {
        if (e.location() != null) {
            return e.location();
        }
        Path found = FashionMnistDataset.locate(dataDir);
        if (found == null) {
            throw new DatasetException("Fashion-MNIST is in neither " + dataDir.resolve("fashion-mnist") + " nor "
                    + FashionMnistDataset.DEBIAN_DIR + "; install it with: apt-get install dataset-fashion-mnist");
        }
        return found;
    }

    @Override
    public String toString() {
        return entries.stream().map(Entry::toString).collect(Collectors.joining(","));
    }
}
