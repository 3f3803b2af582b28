package dalle2.data;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * The {@code --data} option of the trainers: a comma-separated mixture of {@code kind[:location]}.
 *
 * <pre>
 *   emoji[:DIR]              google's and twitter's 64 px drawings, read from their packages: what the shipped
 *                            models were trained on (DIR default: &lt;data dir&gt;/emoji)
 *   emoji;vendors=V+V[;resolution=N][:DIR]
 *                            the emoji corpus of the fetched vendors (google, twitter, fluent, fluent-flat, openmoji,
 *                            twemoji, and opt-in facebook, apple; "default", "all"), from the fetch's index; with
 *                            resolution=N only the vendors drawn at N px or more (256: the SVG sets)
 *   emoji;resolution=N[:DIR] the same over the default vendors
 *   emoji-google[:DIR]       one vendor
 *   emoji-twitter[:DIR]
 *   fashion-mnist[:DIR]      the official training split (DIR default: &lt;data dir&gt;/fashion-mnist, else the Debian path)
 *   fashion-mnist-test[:DIR] the official test split
 *   jsonl:DIR                a folder with captions.jsonl (or the .jsonl file)
 *   wds:DIR                  a folder of WebDataset .tar shards (or one .tar)
 * </pre>
 *
 * Example: {@code emoji,fashion-mnist,jsonl:my-pics} or {@code emoji;vendors=default;resolution=256,fashion-mnist}.
 * Options follow the kind after semicolons, lists inside them are joined by {@code +}; the location is everything
 * after the first colon; paths with commas are not supported.
 */
public record DatasetSpec(List<Entry> entries) {

    public static final List<String> KINDS = List.of(
            "emoji", "emoji-google", "emoji-twitter", "fashion-mnist", "fashion-mnist-test", "jsonl", "wds");

    public static final String SYNTAX = "comma-separated kind[;option=value...][:location], kinds " + String.join(", ", KINDS)
            + " (jsonl and wds need a location; emoji takes vendors=V+V and resolution=N), e.g. emoji,fashion-mnist,jsonl:my-pics";

    /** The options the emoji kind takes. */
    public static final List<String> EMOJI_OPTIONS = List.of("vendors", "resolution");

    /**
     * @param location null for the default place of the kind
     * @param options  kind-specific, in the order given (only emoji has any)
     */
    public record Entry(String kind, Path location, Map<String, String> options) {
        public Entry {
            Objects.requireNonNull(kind, "kind");
            if (!KINDS.contains(kind)) {
                throw new IllegalArgumentException("unknown dataset '" + kind + "'; valid: " + String.join(", ", KINDS));
            }
            if (location == null && (kind.equals("jsonl") || kind.equals("wds"))) {
                throw new IllegalArgumentException(kind + " needs a location: " + kind + ":DIR");
            }
            options = Collections.unmodifiableMap(new LinkedHashMap<>(options));
            for (Map.Entry<String, String> o : options.entrySet()) {
                if (!kind.equals("emoji") || !EMOJI_OPTIONS.contains(o.getKey())) {
                    throw new IllegalArgumentException(kind + " takes no option '" + o.getKey() + "'"
                            + (kind.equals("emoji") ? "; valid: " + String.join(", ", EMOJI_OPTIONS) : ""));
                }
            }
            if (options.containsKey("vendors")) {
                EmojiVendor.parseList(options.get("vendors")); // fails here, naming the valid ones
            }
            if (options.containsKey("resolution")) {
                resolution(options);
            }
        }

        public Entry(String kind, Path location) {
            this(kind, location, Map.of());
        }

        /** The emoji vendors an emoji entry with options reads. */
        public List<EmojiVendor> vendors() {
            return EmojiVendor.parseList(options.getOrDefault("vendors", "default"));
        }

        /** The least resolution an emoji entry keeps; 0 when not given. */
        public int resolution() {
            return options.containsKey("resolution") ? resolution(options) : 0;
        }

        private static int resolution(Map<String, String> options) {
            try {
                int r = Integer.parseInt(options.get("resolution").trim());
                if (r < 1) {
                    throw new NumberFormatException();
                }
                return r;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("resolution must be a positive number of pixels, got '" + options.get("resolution") + "'");
            }
        }

        @Override
        public String toString() {
            StringBuilder sb = new StringBuilder(kind);
            options.forEach((k, v) -> sb.append(';').append(k).append('=').append(v));
            return location == null ? sb.toString() : sb + ":" + location;
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
            String[] head = (colon < 0 ? p : p.substring(0, colon)).split(";");
            String kind = head[0].trim().toLowerCase(Locale.ROOT);
            Map<String, String> options = new LinkedHashMap<>();
            for (int i = 1; i < head.length; i++) {
                String option = head[i].trim();
                int eq = option.indexOf('=');
                if (option.isEmpty()) {
                    continue;
                }
                if (eq <= 0) {
                    throw new IllegalArgumentException("option '" + option + "' of " + kind + " needs a value: name=value");
                }
                options.put(option.substring(0, eq).trim().toLowerCase(Locale.ROOT), option.substring(eq + 1).trim());
            }
            String location = colon < 0 ? null : p.substring(colon + 1).trim();
            entries.add(new Entry(kind, location == null || location.isEmpty() ? null : Path.of(location), options));
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
            case "emoji" -> e.options().isEmpty()
                    ? EmojiDataset.open(emojiDir, options)
                    : EmojiCorpus.open(emojiDir, e.vendors(), e.resolution(), options);
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
