package dalle2.data;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import dalle2.json.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * The index {@code dalle2 data fetch emoji} writes for each vendor ({@code <emoji dir>/index/<vendor>.json}):
 * every drawing with its file, captions, split key and metadata (vendor, licence and attribution included), and
 * every drawing left out with the reason. {@link EmojiCorpus} reads it, so opening the corpus parses no package
 * data, and {@code dalle2 data info emoji} reports from it.
 *
 * <p>The parsers ({@link #fromBitmaps}, {@link #fromFluent}, {@link #fromOpenMoji}, {@link #fromTwemoji}) take
 * what a package holds (file names, its JSON) and {@link EmojiNames}, so tests give them small fixtures.
 */
public final class EmojiCorpusIndex {

    /** Bumped when what the parsers produce changes: an index of another format is rebuilt. */
    public static final int FORMAT = 2;
    public static final String FOLDER = "index";

    /** One drawing. {@code file} is relative to the emoji folder. */
    public record Entry(@JsonProperty("id") String id, @JsonProperty("file") String file,
                        @JsonProperty("split_key") String splitKey, @JsonProperty("captions") List<String> captions,
                        @JsonProperty("metadata") Map<String, String> metadata) {
    }

    /** One drawing left out, with a {@link DatasetReport.Reason} name. */
    public record Skip(@JsonProperty("id") String id, @JsonProperty("reason") String reason,
                       @JsonProperty("detail") String detail) {
    }

    /** A vendor's index, as written to disk. */
    public record VendorIndex(@JsonProperty("format") int format, @JsonProperty("vendor") String vendor,
                              @JsonProperty("package") String packageSpec, @JsonProperty("licence") String licence,
                              @JsonProperty("attribution") String attribution, @JsonProperty("default") boolean isDefault,
                              @JsonProperty("resolution") int resolution, @JsonProperty("image_format") String imageFormat,
                              @JsonProperty("items") List<Entry> items,
                              @JsonProperty("skipped_counts") Map<String, Long> skippedCounts,
                              @JsonProperty("skipped") List<Skip> skipped) {

        public VendorIndex {
            items = List.copyOf(items);
            skippedCounts = new TreeMap<>(skippedCounts);
            skipped = List.copyOf(skipped);
        }

        static VendorIndex of(EmojiVendor v, List<Entry> items, Map<String, Long> skippedCounts, List<Skip> skipped) {
            return new VendorIndex(FORMAT, v.id(), v.packageSpec(), v.licence(), v.attribution(), v.isDefault(),
                    v.resolution(), v.format().name().toLowerCase(java.util.Locale.ROOT), items, skippedCounts, skipped);
        }

        static VendorIndex of(EmojiVendor v, List<Entry> items, List<Skip> skipped) {
            Map<String, Long> counts = new TreeMap<>();
            skipped.forEach(s -> counts.merge(s.reason(), 1L, Long::sum));
            return of(v, items, counts, skipped);
        }

        public long skippedTotal() {
            return skippedCounts.values().stream().mapToLong(Long::longValue).sum();
        }

        /** True when this index was written by this code for this vendor's pinned package. */
        public boolean isCurrent(EmojiVendor v) {
            return format == FORMAT && vendor.equals(v.id()) && packageSpec.equals(v.packageSpec());
        }
    }

    private EmojiCorpusIndex() {
    }

    public static Path file(Path emojiDir, EmojiVendor v) {
        return emojiDir.resolve(FOLDER).resolve(v.id() + ".json");
    }

    /** The vendor's index if one of the current format is there. */
    public static Optional<VendorIndex> read(Path emojiDir, EmojiVendor v) {
        Path file = file(emojiDir, v);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            VendorIndex index = Json.read(Files.readAllBytes(file), VendorIndex.class);
            return index.isCurrent(v) ? Optional.of(index) : Optional.empty();
        } catch (IOException e) {
            return Optional.empty(); // unreadable: the fetch writes it again
        }
    }

    public static void write(Path emojiDir, VendorIndex index) {
        Json.writeFile(emojiDir.resolve(FOLDER).resolve(index.vendor() + ".json"), index);
    }

    // ---------------------------------------------------------------- parsers

    /** The common metadata of a drawing; {@code extra} (tags, author) follows. */
    static Map<String, String> metadata(EmojiVendor v, EmojiNames.Match m, String name, String file, Map<String, String> extra) {
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("vendor", v.id());
        meta.put("name", m != null ? m.name() : name);
        if (m != null) {
            meta.put("unified", m.unified());
            meta.put("category", m.category());
            meta.put("subcategory", m.subcategory());
            if (m.toneKey() != null) {
                meta.put("skin_tone", m.tonePhrase());
            }
        }
        meta.putAll(extra);
        meta.put("image", file);
        meta.put("resolution", String.valueOf(v.resolution()));
        meta.put("licence", v.licence());
        meta.put("attribution", v.attribution());
        meta.put("package", v.packageSpec());
        return meta;
    }

    /**
     * A PNG vendor (google, twitter, facebook, apple) as {@link EmojiDataset} reads it, so its ids, captions and
     * split keys are the ones the shipped models were trained with.
     *
     * @param packageFolder the extracted {@code .../package/} folder
     * @param relative      how the index names that folder (relative to the emoji folder)
     */
    public static VendorIndex fromBitmaps(EmojiVendor v, Path packageFolder, String relative) {
        DatasetOptions options = DatasetOptions.of(EmojiDataset.NATIVE_SIZE);
        List<ImageCaptionItem> items = EmojiDataset.readFolder(packageFolder, v.id(), options);
        List<Entry> entries = new ArrayList<>();
        for (ImageCaptionItem item : items) {
            Map<String, String> meta = new LinkedHashMap<>(item.metadata());
            meta.put("package", v.packageSpec());
            entries.add(new Entry(item.id(), relative + "/" + v.imageDir() + "/" + meta.get("image"), item.splitKey(),
                    item.captions(), meta));
        }
        Map<String, Long> counts = new TreeMap<>();
        options.report().counts().forEach((reason, n) -> counts.put(reason.name(), n));
        List<Skip> skipped = options.report().examples().stream()
                .map(s -> new Skip(s.itemId(), s.reason().name(), s.detail())).toList();
        return VendorIndex.of(v, entries, counts, skipped);
    }

    /** Twemoji: files named by code points ("1f600.svg", "30-20e3.svg"), names from emoji.json. */
    public static VendorIndex fromTwemoji(EmojiVendor v, Collection<String> svgFiles, String imageDir, EmojiNames names) {
        List<Entry> entries = new ArrayList<>();
        List<Skip> skipped = new ArrayList<>();
        for (String file : sorted(svgFiles)) {
            String stem = stem(file);
            String id = v.source() + "/" + stem;
            Optional<EmojiNames.Match> m = names.byCode(stem);
            if (m.isEmpty()) {
                skipped.add(new Skip(id, DatasetReport.Reason.UNKNOWN_EMOJI.name(), "emoji.json has no " + stem));
                continue;
            }
            entries.add(new Entry(id, join(imageDir, file), m.get().splitKey(), m.get().captions(),
                    metadata(v, m.get(), null, file, Map.of())));
        }
        return VendorIndex.of(v, entries, skipped);
    }

    /** Fluent's tone suffixes, longest first, and the modifier each stands for. */
    private static final List<Map.Entry<String, String>> FLUENT_TONES = List.of(
            Map.entry("-medium-light", "1F3FC"), Map.entry("-medium-dark", "1F3FE"), Map.entry("-light", "1F3FB"),
            Map.entry("-medium", "1F3FD"), Map.entry("-dark", "1F3FF"));

    /**
     * Fluent: files named by CLDR name ("crying-cat.svg"); an emoji with skin tones has "-default", "-light", ...
     * "-dark" files and no plain one. Names resolve through {@link EmojiNames#byName}; the file's own name is kept
     * as a caption when emoji.json words it otherwise ("crying cat" beside "crying cat face").
     */
    public static VendorIndex fromFluent(EmojiVendor v, Collection<String> svgFiles, String imageDir, EmojiNames names) {
        Set<String> stems = new HashSet<>();
        svgFiles.forEach(f -> stems.add(stem(f)));
        List<Entry> entries = new ArrayList<>();
        List<Skip> skipped = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        for (String file : sorted(svgFiles)) {
            String stem = stem(file);
            String base = stem;
            String tone = null;
            if (stem.endsWith("-default")) {
                base = stem.substring(0, stem.length() - "-default".length());
            } else {
                for (Map.Entry<String, String> t : FLUENT_TONES) {
                    String b = stem.substring(0, Math.max(0, stem.length() - t.getKey().length()));
                    if (stem.endsWith(t.getKey()) && stems.contains(b + "-default")) {
                        base = b;
                        tone = t.getValue();
                        break;
                    }
                }
            }
            String id = v.source() + "/" + stem;
            Optional<JsonNode> emoji = names.byName(base);
            if (emoji.isEmpty()) {
                skipped.add(new Skip(id, DatasetReport.Reason.UNKNOWN_EMOJI.name(), "no emoji named '" + base.replace('-', ' ') + "'"));
                continue;
            }
            String toneKey = tone == null ? null : toneKey(emoji.get(), tone);
            if (tone != null && toneKey == null) {
                skipped.add(new Skip(id, DatasetReport.Reason.UNKNOWN_EMOJI.name(), base + " has no skin tone " + tone));
                continue;
            }
            EmojiNames.Match m = new EmojiNames.Match(emoji.get(), toneKey);
            if (!ids.add(m.unified())) {
                skipped.add(new Skip(id, DatasetReport.Reason.DUPLICATE.name(), "another file already drew " + m.unified()));
                continue;
            }
            Set<String> captions = new LinkedHashSet<>(m.captions());
            String own = Captions.clean(base.replace('-', ' '));
            if (!own.isEmpty()) {
                captions.add(m.toneKey() == null ? own : EmojiDataset.withTone(own, m.tonePhrase()));
            }
            entries.add(new Entry(id, join(imageDir, file), m.splitKey(), List.copyOf(captions),
                    metadata(v, m, null, file, Map.of("file_name", base.replace('-', ' ')))));
        }
        return VendorIndex.of(v, entries, skipped);
    }

    /** The skin variation drawn in one tone for every person: "1F3FB", else "1F3FB-1F3FB"; null when none. */
    static String toneKey(JsonNode emoji, String modifier) {
        JsonNode variations = emoji.path("skin_variations");
        if (variations.has(modifier)) {
            return modifier;
        }
        String twice = modifier + "-" + modifier;
        return variations.has(twice) ? twice : null;
    }

    /**
     * OpenMoji: {@code openmoji.json} lists every drawing (hexcode, CLDR annotation, tags, openmoji_tags, group,
     * subgroups, author) and {@code color/svg/<hexcode>.svg} holds it. Emoji that emoji.json knows get its captions
     * (then the annotation when it words them otherwise); OpenMoji's own extras keep the annotation alone. The
     * tags become one more caption: "grinning face, cheerful, cheery, face, grin".
     */
    public static VendorIndex fromOpenMoji(EmojiVendor v, byte[] openmojiJson, Collection<String> svgFiles, String imageDir,
                                           EmojiNames names) {
        Set<String> files = new HashSet<>(svgFiles);
        JsonNode root;
        try {
            root = Json.mapper().readTree(openmojiJson);
        } catch (IOException e) {
            throw new DatasetException("cannot read openmoji.json: " + e.getMessage(), e);
        }
        if (root == null || !root.isArray()) {
            throw new DatasetException("openmoji.json is not a JSON array");
        }
        List<Entry> entries = new ArrayList<>();
        List<Skip> skipped = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        for (JsonNode o : root) {
            String hexcode = o.path("hexcode").asText("");
            String id = v.source() + "/" + hexcode.toLowerCase(java.util.Locale.ROOT);
            if (hexcode.isEmpty() || !ids.add(id)) {
                continue;
            }
            String file = hexcode + ".svg";
            String annotation = Captions.clean(o.path("annotation").asText(""));
            if (annotation.isEmpty()) {
                skipped.add(new Skip(id, DatasetReport.Reason.EMPTY_CAPTION.name(), "no annotation"));
                continue;
            }
            if (!files.contains(file)) {
                skipped.add(new Skip(id, DatasetReport.Reason.MISSING_FILE.name(), join(imageDir, file)));
                continue;
            }
            Optional<EmojiNames.Match> m = names.byCode(hexcode);
            Set<String> captions = new LinkedHashSet<>();
            m.ifPresent(match -> captions.addAll(match.captions()));
            captions.add(annotation);
            List<String> tags = tags(o, annotation);
            if (!tags.isEmpty()) {
                captions.add(annotation + ", " + String.join(", ", tags));
            }
            Map<String, String> extra = new LinkedHashMap<>();
            extra.put("annotation", annotation);
            extra.put("group", o.path("group").asText(""));
            extra.put("subgroups", o.path("subgroups").asText(""));
            extra.put("tags", String.join(", ", tags));
            extra.put("author", o.path("openmoji_author").asText(""));
            // emoji.json's key when it knows the emoji; else the base emoji's code points, so all tones of one side
            String base = o.path("skintone_base_hexcode").asText("").isEmpty() ? hexcode : o.path("skintone_base_hexcode").asText();
            String splitKey = m.map(EmojiNames.Match::splitKey).orElseGet(() -> names.byCode(base).map(EmojiNames.Match::splitKey)
                    .orElse("openmoji/" + base.toLowerCase(java.util.Locale.ROOT)));
            Map<String, String> meta = metadata(v, m.orElse(null), annotation, file, extra);
            if (m.isEmpty()) {
                meta.put("category", o.path("group").asText(""));
                meta.put("subcategory", o.path("subgroups").asText(""));
            }
            entries.add(new Entry(id, join(imageDir, file), splitKey, List.copyOf(captions), meta));
        }
        return VendorIndex.of(v, entries, skipped);
    }

    /** CLDR tags then OpenMoji's own, cleaned, each once, without the annotation itself. */
    static List<String> tags(JsonNode openmoji, String annotation) {
        Set<String> tags = new LinkedHashSet<>();
        for (String field : List.of("tags", "openmoji_tags")) {
            for (String t : openmoji.path(field).asText("").split(",")) {
                String c = Captions.clean(t);
                if (!c.isEmpty() && !c.equals(annotation)) {
                    tags.add(c);
                }
            }
        }
        return List.copyOf(tags);
    }

    private static String stem(String file) {
        String name = file.substring(file.lastIndexOf('/') + 1);
        return name.endsWith(".svg") ? name.substring(0, name.length() - 4) : name;
    }

    private static String join(String dir, String file) {
        return dir.isEmpty() ? file : dir + "/" + file;
    }

    private static List<String> sorted(Collection<String> files) {
        return files.stream().filter(f -> f.endsWith(".svg")).sorted().toList();
    }

    /** The .svg files directly in a folder, by name. */
    public static List<String> svgFiles(Path folder) {
        try (Stream<Path> s = Files.list(folder)) {
            return s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".svg")).sorted().toList();
        } catch (IOException e) {
            throw new DatasetException("cannot list " + folder + ": " + e.getMessage(), e);
        }
    }
}
