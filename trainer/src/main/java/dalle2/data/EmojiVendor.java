package dalle2.data;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The emoji sets of the corpus: which npm package holds each, where its drawings lie in it, how large they are
 * drawn, and under which terms, as each package's LICENSE, package.json and README state them.
 *
 * <p>Only sets whose images carry a licence that allows training on them and publishing the weights are
 * {@linkplain #isDefault() default}. Apple's and Facebook's drawings are fetched and read only when named: the
 * emoji-data README says Apple's are "Copyright © Apple Inc., are not licensed for commercial usage" and
 * Facebook's "© Facebook, Inc., have no clear licensing" (the packages' own MIT licence covers Cal Henderson's
 * data and code, not the drawings).
 */
public enum EmojiVendor {

    GOOGLE("google", Format.PNG, "emoji-datasource-google", "16.0.0", "img/google/64", 64, "Apache-2.0",
            "Noto Emoji (v2.048) © Google LLC, Apache License 2.0; images and emoji.json via iamcal/emoji-data (MIT, © Cal Henderson)",
            true),
    TWITTER("twitter", Format.PNG, "emoji-datasource-twitter", "16.0.0", "img/twitter/64", 64, "CC-BY-4.0",
            "Twemoji (jdecked fork v16.0.1) © Twitter, Inc and other contributors, CC BY 4.0; via iamcal/emoji-data (MIT, © Cal Henderson)",
            true),
    FACEBOOK("facebook", Format.PNG, "emoji-datasource-facebook", "16.0.0", "img/facebook/64", 64, "LicenseRef-no-clear-licence",
            "© Facebook, Inc. (v9, fetched 2024-02-05 by iamcal/emoji-data): \"have no clear licensing\"; opt-in only",
            false),
    APPLE("apple", Format.PNG, "emoji-datasource-apple", "16.0.0", "img/apple/64", 64, "LicenseRef-Apple-proprietary",
            "Copyright © Apple Inc. (macOS 15.5): \"not licensed for commercial usage\" (iamcal/emoji-data README); opt-in only",
            false),
    FLUENT("fluent", Format.SVG, "fluentui-emoji", "1.3.0", "icons/modern", SvgRenderer.RENDER_SIZE, "MIT",
            "Fluent Emoji (color) © Microsoft Corporation, MIT; npm repackaging fluentui-emoji © 2022 Mohammad Abu Mattar, MIT",
            true),
    FLUENT_FLAT("fluent-flat", Format.SVG, "fluentui-emoji", "1.3.0", "icons/flat", SvgRenderer.RENDER_SIZE, "MIT",
            "Fluent Emoji (flat) © Microsoft Corporation, MIT; npm repackaging fluentui-emoji © 2022 Mohammad Abu Mattar, MIT",
            true),
    OPENMOJI("openmoji", Format.SVG, "openmoji", "17.0.0", "color/svg", SvgRenderer.RENDER_SIZE, "CC-BY-SA-4.0",
            "All emojis designed by OpenMoji – the open-source emoji and icon project (openmoji.org). License: CC BY-SA 4.0",
            true),
    TWEMOJI("twemoji", Format.SVG, "@twemoji/svg", "15.0.0", "", SvgRenderer.RENDER_SIZE, "CC-BY-4.0",
            "Twemoji graphics © Twitter, Inc and other contributors, CC BY 4.0 (jdecked/twemoji); npm package @twemoji/svg © 2023 Samuel Kopp, MIT",
            true);

    /** How the drawings are stored. */
    public enum Format { PNG, SVG }

    /**
     * The vendor never trained on by default: its drawings of trained names tell style generalisation from memory.
     * OpenMoji, because its outlined style differs most from the others, and because its share-alike licence then
     * never reaches the weights.
     */
    public static final EmojiVendor DEFAULT_HELD_OUT = OPENMOJI;

    private final String id;
    private final Format format;
    private final String packageName;
    private final String version;
    private final String imageDir;
    private final int resolution;
    private final String licence;
    private final String attribution;
    private final boolean isDefault;

    EmojiVendor(String id, Format format, String packageName, String version, String imageDir, int resolution,
                String licence, String attribution, boolean isDefault) {
        this.id = id;
        this.format = format;
        this.packageName = packageName;
        this.version = version;
        this.imageDir = imageDir;
        this.resolution = resolution;
        this.licence = licence;
        this.attribution = attribution;
        this.isDefault = isDefault;
    }

    /** "google", "fluent-flat". */
    public String id() {
        return id;
    }

    /** The items' source: "emoji-google", as {@link EmojiDataset} names it. */
    public String source() {
        return "emoji-" + id;
    }

    public Format format() {
        return format;
    }

    /** The npm package name, e.g. "@twemoji/svg". */
    public String packageName() {
        return packageName;
    }

    public String version() {
        return version;
    }

    /** What {@code npm pack} is given: "openmoji@17.0.0". */
    public String packageSpec() {
        return packageName + "@" + version;
    }

    /** The folder the package is extracted to, as npm names its tarball: "@twemoji/svg" -> "twemoji-svg". */
    public String folderName() {
        return packageName.replace("@", "").replace('/', '-');
    }

    /** The tarball {@code npm pack} writes. */
    public String tarballName() {
        return folderName() + "-" + version + ".tgz";
    }

    /** The drawings' folder inside the package ("" for its root). */
    public String imageDir() {
        return imageDir;
    }

    /** The side its drawings are read at: 64 for the PNG sets, the render size for the SVG sets. */
    public int resolution() {
        return resolution;
    }

    /** SPDX identifier, or a LicenseRef- naming why there is none. */
    public String licence() {
        return licence;
    }

    public String attribution() {
        return attribution;
    }

    /** Fetched and read when no vendors are named. */
    public boolean isDefault() {
        return isDefault;
    }

    public static List<EmojiVendor> defaults() {
        return Arrays.stream(values()).filter(EmojiVendor::isDefault).toList();
    }

    public static EmojiVendor parse(String s) {
        String wanted = s.trim().toLowerCase(Locale.ROOT);
        for (EmojiVendor v : values()) {
            if (v.id.equals(wanted)) {
                return v;
            }
        }
        throw new IllegalArgumentException("unknown emoji vendor '" + s + "'; valid: " + String.join(", ", ids(List.of(values())))
                + " (or default, all)");
    }

    /**
     * A list such as "google,fluent", "google+fluent", "default" or "all" (and mixtures: "default+apple"), in the
     * order given, each once.
     */
    public static List<EmojiVendor> parseList(String list) {
        Set<EmojiVendor> out = new LinkedHashSet<>();
        for (String part : list.split("[,+]")) {
            String p = part.trim().toLowerCase(Locale.ROOT);
            if (p.isEmpty()) {
                continue;
            }
            switch (p) {
                case "default" -> out.addAll(defaults());
                case "all" -> out.addAll(List.of(values()));
                default -> out.add(parse(p));
            }
        }
        if (out.isEmpty()) {
            throw new IllegalArgumentException("no emoji vendor in '" + list + "'");
        }
        return List.copyOf(out);
    }

    public static List<String> ids(List<EmojiVendor> vendors) {
        List<String> ids = new ArrayList<>();
        vendors.forEach(v -> ids.add(v.id));
        return ids;
    }
}
