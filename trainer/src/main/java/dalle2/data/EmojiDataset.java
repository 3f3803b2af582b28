package dalle2.data;

import com.fasterxml.jackson.databind.JsonNode;
import dalle2.json.Json;
import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Emoji drawings with their names, from the npm packages {@code emoji-datasource-<vendor>@16.0.0} (iamcal's
 * emoji-data, MIT): 64x64 RGBA PNGs in {@code package/img/<vendor>/64/} described by {@code package/emoji.json}.
 * Every emoji and every skin-tone variant the vendor drew is one item, composited on white.
 *
 * <p>Captions, all lower case: the Unicode name ("red apple", "woman running"; country flags also as "flag of
 * france"), then the short names with separators as spaces ("apple", "woman running"); skin-tone variants carry the
 * tone as CLDR writes it ("woman running: medium skin tone", "woman: medium-dark skin tone, red hair", "kiss: woman,
 * man, light skin tone, dark skin tone"). Short names that are codes ("flag-fr", "clock9", "+1") are left out.
 *
 * <p>The held-out split key is the emoji's code point sequence (its successor's, for emoji the data marks obsolete
 * and redrawn as another): both vendors' drawings and all skin tones of one emoji fall on the same side.
 *
 * <p>Reads either an extracted package ({@code <dir>/emoji-datasource-<vendor>/package/}, {@code <dir>/package/},
 * or {@code <dir>} itself) or the npm tarball {@code <dir>/emoji-datasource-<vendor>-*.tgz} directly.
 */
public final class EmojiDataset {

    public static final String VERSION = "16.0.0";
    public static final int NATIVE_SIZE = 64;

    public enum Vendor {
        GOOGLE, TWITTER;

        public String id() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** The npm package name. */
        public String packageName() {
            return "emoji-datasource-" + id();
        }

        /** {@code emoji-google}, the items' source. */
        public String source() {
            return "emoji-" + id();
        }

        public static Vendor parse(String s) {
            for (Vendor v : values()) {
                if (v.id().equalsIgnoreCase(s.trim())) {
                    return v;
                }
            }
            throw new IllegalArgumentException("unknown emoji vendor '" + s + "'; valid: google, twitter");
        }
    }

    /** Fitzpatrick modifiers as CLDR names them. */
    public static final Map<String, String> SKIN_TONES = Map.of(
            "1F3FB", "light skin tone",
            "1F3FC", "medium-light skin tone",
            "1F3FD", "medium skin tone",
            "1F3FE", "medium-dark skin tone",
            "1F3FF", "dark skin tone");

    private EmojiDataset() {
    }

    /** Both vendors. */
    public static ImageCaptionDataset open(Path dir, DatasetOptions options) {
        return open(dir, List.of(Vendor.values()), options);
    }

    public static ImageCaptionDataset open(Path dir, List<Vendor> vendors, DatasetOptions options) {
        List<ImageCaptionItem> items = new ArrayList<>();
        List<String> names = new ArrayList<>();
        for (Vendor vendor : vendors) {
            items.addAll(read(locate(dir, vendor), vendor, options));
            names.add(vendor.source());
        }
        return ImageCaptionDataset.of(String.join("+", names), options.imageSize(), items, options.report());
    }

    /** True when {@link #open} can find the vendor's package in the directory. */
    public static boolean isPresent(Path dir, Vendor vendor) {
        try {
            locate(dir, vendor);
            return true;
        } catch (DatasetException e) {
            return false;
        }
    }

    // ---------------------------------------------------------------- captions

    /**
     * The captions of one emoji drawing (see the class comment).
     *
     * @param toneKey a key of {@code skin_variations} ("1F3FD", "1F3FB-1F3FF") or null for the base emoji
     */
    public static List<String> captions(String name, List<String> shortNames, String subcategory, String toneKey) {
        Set<String> plain = new LinkedHashSet<>();
        String base = Captions.clean(name);
        if (!base.isEmpty()) {
            plain.add(base);
            if (isFlag(subcategory) && base.endsWith(" flag") && !base.equals("flag")) {
                plain.add("flag of " + base.substring(0, base.length() - " flag".length()));
            }
        }
        boolean flag = isFlag(subcategory);
        for (String shortName : shortNames) {
            if (flag && shortName.length() == 2) {
                continue; // "fr", "us": country codes
            }
            String s = shortNameCaption(shortName);
            if (s != null) {
                plain.add(s);
            }
        }
        if (toneKey == null) {
            return List.copyOf(plain);
        }
        String tone = tonePhrase(toneKey);
        Set<String> toned = new LinkedHashSet<>();
        for (String c : plain) {
            toned.add(withTone(c, tone));
        }
        return List.copyOf(toned);
    }

    private static boolean isFlag(String subcategory) {
        return subcategory != null && subcategory.endsWith("-flag"); // country-flag, subdivision-flag
    }

    /** "smiley_cat" -> "smiley cat", "woman-running" -> "woman running", "x-ray" stays; codes give null. */
    static String shortNameCaption(String shortName) {
        String s = Captions.clean(shortName);
        if (s.isEmpty() || s.matches("flag-[a-z]{2}") || !s.matches("[a-z_\\-']+")) {
            return null; // "flag-fr", "clock9", "+1", "u7121", "skin-tone-2": codes, not words
        }
        List<String> words = new ArrayList<>();
        if (s.contains("_")) {
            words.add(s.replace('_', ' ')); // underscores separate words, hyphens are the word's own: "non-potable water"
        } else {
            for (String part : s.split("-")) {
                if (part.length() <= 2) {
                    words = List.of(s); // "x-ray", "yo-yo", "t-rex", "e-mail"
                    break;
                }
                words.add(part); // "woman-running", "star-struck"
            }
        }
        String out = String.join(" ", words).replaceAll("\\s+", " ").trim();
        return out.isEmpty() ? null : out;
    }

    /** "1F3FD" -> "medium skin tone"; "1F3FB-1F3FF" -> "light skin tone, dark skin tone"; "1F3FB-1F3FB" -> "light skin tone". */
    public static String tonePhrase(String toneKey) {
        Set<String> tones = new LinkedHashSet<>();
        for (String code : toneKey.toUpperCase(Locale.ROOT).split("-")) {
            String tone = SKIN_TONES.get(code);
            if (tone == null) {
                throw new IllegalArgumentException("unknown skin tone modifier " + code + " in " + toneKey);
            }
            tones.add(tone);
        }
        return String.join(", ", tones);
    }

    /** CLDR order: "woman running: medium skin tone", "woman: medium skin tone, red hair", "kiss: woman, man, dark skin tone". */
    static String withTone(String caption, String tone) {
        int colon = caption.indexOf(": ");
        if (colon < 0) {
            return caption + ": " + tone;
        }
        String head = caption.substring(0, colon);
        String rest = caption.substring(colon + 2);
        if (rest.contains(",") || tone.contains(",")) {
            return caption + ", " + tone; // several people: tones after the people
        }
        return head + ": " + tone + ", " + rest;
    }

    // ---------------------------------------------------------------- reading

    /** The code point sequence of the emoji, or of its successor when the data marks it obsolete. */
    static String splitKey(JsonNode emoji) {
        String unified = emoji.path("unified").asText("");
        return "emoji/" + (emoji.hasNonNull("obsoleted_by") ? emoji.get("obsoleted_by").asText() : unified).toLowerCase(Locale.ROOT);
    }

    private static List<ImageCaptionItem> read(EmojiPackage pkg, Vendor vendor, DatasetOptions options) {
        return read(pkg, vendor.id(), vendor.source(), options);
    }

    /**
     * Every drawing of one vendor in an extracted package folder ({@code img/<vendor>/64/}), as {@link #open}
     * reads google's and twitter's: the corpus indexes every bitmap vendor with it.
     */
    static List<ImageCaptionItem> readFolder(Path folder, String vendorId, DatasetOptions options) {
        return read(new FolderPackage(folder, vendorId), vendorId, "emoji-" + vendorId, options);
    }

    private static List<ImageCaptionItem> read(EmojiPackage pkg, String vendorId, String source, DatasetOptions options) {
        JsonNode root;
        try {
            root = Json.mapper().readTree(pkg.emojiJson());
        } catch (IOException e) {
            throw new DatasetException("cannot read emoji.json of " + pkg + ": " + e.getMessage(), e);
        }
        if (root == null || !root.isArray()) {
            throw new DatasetException("emoji.json of " + pkg + " is not a JSON array");
        }
        String hasImage = "has_img_" + vendorId;
        int size = options.imageSize();
        List<ImageCaptionItem> items = new ArrayList<>();
        Set<String> ids = new HashSet<>();
        for (JsonNode e : root) {
            String name = e.path("name").asText("");
            String unified = e.path("unified").asText("");
            String splitKey = splitKey(e);
            List<String> shortNames = new ArrayList<>();
            e.path("short_names").forEach(s -> shortNames.add(s.asText()));
            String category = e.path("category").asText("");
            String subcategory = e.path("subcategory").asText("");

            List<JsonNode> drawings = new ArrayList<>();
            List<String> toneKeys = new ArrayList<>();
            drawings.add(e);
            toneKeys.add(null);
            JsonNode variations = e.path("skin_variations");
            for (Iterator<Map.Entry<String, JsonNode>> it = variations.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> v = it.next();
                drawings.add(v.getValue());
                toneKeys.add(v.getKey());
            }
            for (int d = 0; d < drawings.size(); d++) {
                JsonNode drawing = drawings.get(d);
                String toneKey = toneKeys.get(d);
                if (!drawing.path(hasImage).asBoolean(false)) {
                    continue; // the vendor never drew it: not an item, not a bad one
                }
                String image = drawing.path("image").asText("");
                String id = source + "/" + (image.isEmpty() ? unified.toLowerCase(Locale.ROOT) : image.replaceFirst("\\.png$", ""));
                if (!ids.add(id)) {
                    continue;
                }
                List<String> captions;
                try {
                    captions = captions(name, shortNames, subcategory, toneKey);
                } catch (IllegalArgumentException ex) {
                    captions = List.of();
                }
                if (captions.isEmpty()) {
                    options.badItem(source, id, DatasetReport.Reason.EMPTY_CAPTION, "no name or short name");
                    continue;
                }
                if (image.isEmpty() || !pkg.hasImage(image)) {
                    options.badItem(source, id, DatasetReport.Reason.MISSING_FILE, pkg.imagePath(image));
                    continue;
                }
                Map<String, String> metadata = new LinkedHashMap<>();
                metadata.put("vendor", vendorId);
                metadata.put("name", name);
                metadata.put("unified", drawing.path("unified").asText(unified));
                metadata.put("category", category);
                metadata.put("subcategory", subcategory);
                if (toneKey != null) {
                    metadata.put("skin_tone", tonePhrase(toneKey));
                }
                metadata.put("image", image);
                EmojiVendor terms = EmojiVendor.parse(vendorId);
                metadata.put("resolution", String.valueOf(NATIVE_SIZE));
                metadata.put("licence", terms.licence());
                metadata.put("attribution", terms.attribution());
                ImageSource imageSource = () -> ImagePreprocessing.toSquareRgb(pkg.decode(image), size);
                items.add(new ImageCaptionItem(id, source, splitKey, captions, ImageCaptionItem.NO_LABEL, metadata,
                        new LazyImage(imageSource, source, options)));
            }
        }
        return items;
    }

    /** Finds the vendor's package under the directory (see the class comment for the layouts tried). */
    static EmojiPackage locate(Path dir, Vendor vendor) {
        List<Path> folders = List.of(dir.resolve(vendor.packageName()).resolve("package"), dir.resolve("package"), dir);
        for (Path folder : folders) {
            if (Files.isRegularFile(folder.resolve("emoji.json")) && Files.isDirectory(folder.resolve("img").resolve(vendor.id()))) {
                return new FolderPackage(folder, vendor.id());
            }
        }
        Path tarball = findTarball(dir, vendor);
        if (tarball != null) {
            return TarballPackage.read(tarball, vendor);
        }
        throw new DatasetException("no " + vendor.packageName() + " package in " + dir + " (looked for "
                + folders.get(0) + ", " + folders.get(1) + " and " + vendor.packageName() + "-*.tgz); get it with: dalle2 data fetch emoji --dir "
                + (dir.getFileName() != null && dir.getFileName().toString().equals("emoji") && dir.getParent() != null ? dir.getParent() : dir));
    }

    static Path findTarball(Path dir, Vendor vendor) {
        Path exact = dir.resolve(vendor.packageName() + "-" + VERSION + ".tgz");
        if (Files.isRegularFile(exact)) {
            return exact;
        }
        if (!Files.isDirectory(dir)) {
            return null;
        }
        try (DirectoryStream<Path> found = Files.newDirectoryStream(dir, vendor.packageName() + "-*.tgz")) {
            Path best = null;
            for (Path p : found) {
                if (best == null || p.getFileName().toString().compareTo(best.getFileName().toString()) > 0) {
                    best = p;
                }
            }
            return best;
        } catch (IOException e) {
            return null;
        }
    }

    /** One vendor's package: its emoji.json and its 64 px images. */
    interface EmojiPackage {
        byte[] emojiJson() throws IOException;

        boolean hasImage(String image);

        String imagePath(String image);

        java.awt.image.BufferedImage decode(String image) throws IOException;
    }

    private record FolderPackage(Path folder, String vendorId) implements EmojiPackage {
        @Override
        public byte[] emojiJson() throws IOException {
            return Files.readAllBytes(folder.resolve("emoji.json"));
        }

        private Path path(String image) {
            return folder.resolve("img").resolve(vendorId).resolve(String.valueOf(NATIVE_SIZE)).resolve(image);
        }

        @Override
        public boolean hasImage(String image) {
            return Files.isRegularFile(path(image));
        }

        @Override
        public String imagePath(String image) {
            return path(image).toString();
        }

        @Override
        public java.awt.image.BufferedImage decode(String image) throws IOException {
            return ImagePreprocessing.decode(path(image));
        }

        @Override
        public String toString() {
            return folder.toString();
        }
    }

    /** The npm tarball read once into memory (emoji.json and the 64 px PNGs, about 20 MB per vendor). */
    private record TarballPackage(Path tarball, Vendor vendor, byte[] json, Map<String, byte[]> images) implements EmojiPackage {

        static TarballPackage read(Path tarball, Vendor vendor) {
            String imagePrefix = "img/" + vendor.id() + "/" + NATIVE_SIZE + "/";
            byte[] json = null;
            Map<String, byte[]> images = new HashMap<>();
            try (InputStream in = new GZIPInputStream(new BufferedInputStream(Files.newInputStream(tarball), 1 << 16), 1 << 16);
                 TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
                TarArchiveEntry entry;
                while ((entry = tar.getNextEntry()) != null) {
                    if (!entry.isFile()) {
                        continue;
                    }
                    String name = entry.getName();
                    int slash = name.indexOf('/');
                    String inPackage = slash < 0 ? name : name.substring(slash + 1); // npm packs under "package/"
                    if (inPackage.equals("emoji.json")) {
                        json = tar.readAllBytes();
                    } else if (inPackage.startsWith(imagePrefix) && inPackage.indexOf('/', imagePrefix.length()) < 0) {
                        images.put(inPackage.substring(imagePrefix.length()), tar.readAllBytes());
                    }
                }
            } catch (IOException e) {
                throw new DatasetException("cannot read " + tarball + ": " + e.getMessage(), e);
            }
            if (json == null) {
                throw new DatasetException(tarball + " has no package/emoji.json");
            }
            return new TarballPackage(tarball, vendor, json, images);
        }

        @Override
        public byte[] emojiJson() {
            return json;
        }

        @Override
        public boolean hasImage(String image) {
            return images.containsKey(image);
        }

        @Override
        public String imagePath(String image) {
            return tarball.getFileName() + "!/package/img/" + vendor.id() + "/" + NATIVE_SIZE + "/" + image;
        }

        @Override
        public java.awt.image.BufferedImage decode(String image) throws IOException {
            byte[] bytes = images.get(image);
            if (bytes == null) {
                throw new NoSuchFileException(imagePath(image));
            }
            return ImagePreprocessing.decode(bytes, imagePath(image));
        }

        @Override
        public String toString() {
            return tarball.toString();
        }
    }
}
