package dalle2.data;

import com.fasterxml.jackson.databind.JsonNode;
import dalle2.json.Json;
import java.io.BufferedInputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Gets the real datasets with the ordinary package clients and checks them.
 *
 * <ul>
 *   <li>{@code emoji}: {@code npm pack} of each vendor's package ({@link EmojiVendor}: the emoji-datasource PNG
 *       sets, Fluent, OpenMoji, Twemoji SVGs) into {@code <dir>/emoji/}, extracted to
 *       {@code <dir>/emoji/<package>/package/} (without the sprite sheets and other files no reader uses); every
 *       PNG emoji.json names is checked to be there, and each vendor's {@link EmojiCorpusIndex} is written.</li>
 *   <li>{@code fashion-mnist}: the files of Debian's {@code dataset-fashion-mnist}
 *       ({@value #FASHION_MNIST_APT}); this class never runs apt, it says what to run.</li>
 * </ul>
 * Nothing is fetched twice: a tarball or extracted package already present is checked and kept.
 */
public final class DataFetcher {

    public static final List<String> DATASETS = List.of("emoji", "fashion-mnist");
    public static final Path DEFAULT_DIR = Path.of("data");
    public static final String FASHION_MNIST_APT = "apt-get install dataset-fashion-mnist";
    static final long NPM_TIMEOUT_MINUTES = 10;

    /** What a fetch left where. */
    public record FetchResult(String dataset, Path location, List<String> lines) {
        public FetchResult {
            lines = List.copyOf(lines);
        }
    }

    private final String npm;
    private final Path debianFashionMnist;
    private final Consumer<String> log;

    public DataFetcher(Consumer<String> log) {
        this("npm", FashionMnistDataset.DEBIAN_DIR, log);
    }

    /** @param npm the npm executable (a name looked up on PATH, or a path) */
    public DataFetcher(String npm, Path debianFashionMnist, Consumer<String> log) {
        this.npm = Objects.requireNonNull(npm);
        this.debianFashionMnist = Objects.requireNonNull(debianFashionMnist);
        this.log = Objects.requireNonNull(log);
    }

    /** Fetches the emoji vendors named (the defaults when null); the vendors do not apply to other datasets. */
    public FetchResult fetch(String dataset, Path dataDir, List<EmojiVendor> emojiVendors) {
        if (emojiVendors != null && "emoji".equals(dataset == null ? "" : dataset.trim())) {
            return fetchEmoji(dataDir.resolve("emoji"), emojiVendors);
        }
        return fetch(dataset, dataDir);
    }

    public FetchResult fetch(String dataset, Path dataDir) {
        return switch (dataset == null ? "" : dataset.trim()) {
            case "emoji" -> fetchEmoji(dataDir.resolve("emoji"));
            case "fashion-mnist" -> fetchFashionMnist(dataDir);
            default -> throw new DatasetException("unknown dataset '" + dataset + "'; valid: " + String.join(", ", DATASETS));
        };
    }

    // ---------------------------------------------------------------- emoji

    /** Fetches the default emoji vendors (see {@link EmojiVendor#defaults()}). */
    FetchResult fetchEmoji(Path dir) {
        return fetchEmoji(dir, EmojiVendor.defaults());
    }

    /**
     * Fetches the vendors' packages ({@code npm pack}, extracted without what no reader uses), checks them and
     * writes each vendor's {@link EmojiCorpusIndex}. SVG vendors need emoji.json for their names (from any
     * emoji-datasource package; google's is fetched when none is there) and Fluent also OpenMoji's CLDR names.
     * Whatever is already there (tarball, extracted folder, current index) is kept and not fetched again.
     */
    public FetchResult fetchEmoji(Path dir, List<EmojiVendor> vendors) {
        List<String> lines = new ArrayList<>();
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new DatasetException("cannot create " + dir + ": " + e.getMessage(), e);
        }
        Set<EmojiVendor> packages = new LinkedHashSet<>(vendors);
        boolean vectors = vendors.stream().anyMatch(v -> v.format() == EmojiVendor.Format.SVG);
        if (vectors && vendors.stream().noneMatch(v -> v.format() == EmojiVendor.Format.PNG)
                && Arrays.stream(EmojiVendor.values()).noneMatch(v -> v.format() == EmojiVendor.Format.PNG && isExtracted(dir, v))) {
            packages.add(EmojiVendor.GOOGLE); // only for emoji.json
        }
        if (vendors.contains(EmojiVendor.FLUENT) || vendors.contains(EmojiVendor.FLUENT_FLAT)) {
            packages.add(EmojiVendor.OPENMOJI); // only for openmoji.json's CLDR names
        }
        Set<String> done = new HashSet<>();
        for (EmojiVendor v : packages) {
            if (done.add(v.folderName())) {
                ensureExtracted(dir, v);
            }
        }
        EmojiNames names = null;
        for (EmojiVendor v : vendors) {
            Path packageDir = dir.resolve(v.folderName()).resolve("package");
            if (v.format() == EmojiVendor.Format.PNG) {
                lines.add(checkEmoji(packageDir, v));
                log.accept(lines.get(lines.size() - 1));
            }
            Optional<EmojiCorpusIndex.VendorIndex> current = EmojiCorpusIndex.read(dir, v);
            EmojiCorpusIndex.VendorIndex index;
            if (current.isPresent()) {
                index = current.get();
                log.accept("index of " + v.id() + " is current: " + EmojiCorpusIndex.file(dir, v));
            } else {
                long t0 = System.nanoTime();
                if (v.format() == EmojiVendor.Format.SVG && names == null) {
                    names = names(dir);
                }
                index = buildIndex(dir, v, names);
                EmojiCorpusIndex.write(dir, index);
                log.accept(String.format(java.util.Locale.ROOT, "indexed %s in %.1f s: %s", v.id(), (System.nanoTime() - t0) / 1e9,
                        EmojiCorpusIndex.file(dir, v)));
            }
            lines.add(v.id() + " (" + v.packageSpec() + ", " + v.licence() + "): " + index.items().size() + " drawings at "
                    + v.resolution() + " px, " + index.skippedTotal() + " skipped");
            log.accept(lines.get(lines.size() - 1));
        }
        return new FetchResult("emoji", dir, lines);
    }

    /** Tarball (kept, else {@code npm pack}) extracted into {@code <dir>/<folder>/package/}, unless it already is. */
    private void ensureExtracted(Path dir, EmojiVendor v) {
        Path packageDir = dir.resolve(v.folderName()).resolve("package");
        if (isExtracted(dir, v)) {
            log.accept(packageDir + " is already extracted");
            return;
        }
        Path tarball = dir.resolve(v.tarballName());
        if (Files.isRegularFile(tarball)) {
            log.accept(tarball + " is already here");
        } else {
            long t0 = System.nanoTime();
            tarball = npmPack(v.packageSpec(), dir);
            log.accept(String.format(java.util.Locale.ROOT, "npm pack %s took %.1f s (%.1f MB)", v.packageSpec(),
                    (System.nanoTime() - t0) / 1e9, size(tarball) / 1e6));
        }
        log.accept("extracting " + tarball.getFileName() + " to " + packageDir.getParent());
        extract(tarball, packageDir.getParent(), DataFetcher::isUsed);
        try {
            Files.writeString(packageDir.resolve(EXTRACTED_MARK), v.packageSpec() + "\n");
        } catch (IOException e) {
            throw new DatasetException("cannot write " + packageDir.resolve(EXTRACTED_MARK) + ": " + e.getMessage(), e);
        }
    }

    /** Written last by an extraction, so a half-extracted folder is extracted again. */
    static final String EXTRACTED_MARK = ".extracted";

    static boolean isExtracted(Path dir, EmojiVendor v) {
        Path packageDir = dir.resolve(v.folderName()).resolve("package");
        if (v.format() == EmojiVendor.Format.PNG && Files.isRegularFile(packageDir.resolve("emoji.json"))) {
            return true; // what earlier fetches left, before the mark
        }
        return Files.isRegularFile(packageDir.resolve(EXTRACTED_MARK));
    }

    private static long size(Path file) {
        try {
            return Files.size(file);
        } catch (IOException e) {
            return -1;
        }
    }

    /**
     * What the readers use of a package: not the sprite sheets, Fluent's high-contrast icons, OpenMoji's black
     * outlines, sources, fonts and helpers.
     */
    static boolean isUsed(String entry) {
        if (entry.contains("/sheets")) {
            return false;
        }
        if (entry.startsWith("package/icons/")) {
            return !entry.startsWith("package/icons/high-contrast/");
        }
        if (entry.startsWith("package/color/") || entry.startsWith("package/black/") || entry.startsWith("package/src/")
                || entry.startsWith("package/data/") || entry.startsWith("package/guidelines/") || entry.startsWith("package/font/")
                || entry.startsWith("package/helpers/") || entry.startsWith("package/test/")) {
            return entry.startsWith("package/color/svg/") || entry.equals("package/data/openmoji.json");
        }
        return true;
    }

    /** The names index: emoji.json of the first extracted emoji-datasource package, OpenMoji's names when there. */
    static EmojiNames names(Path dir) {
        byte[] emojiJson = null;
        for (EmojiVendor v : EmojiVendor.values()) {
            Path json = dir.resolve(v.folderName()).resolve("package").resolve("emoji.json");
            if (v.format() == EmojiVendor.Format.PNG && Files.isRegularFile(json)) {
                emojiJson = readBytes(json);
                break;
            }
        }
        if (emojiJson == null) {
            throw new DatasetException("no emoji-datasource package in " + dir + " for the emoji names; fetch with --vendors google");
        }
        Path openmoji = dir.resolve(EmojiVendor.OPENMOJI.folderName()).resolve("package/data/openmoji.json");
        return EmojiNames.of(emojiJson, Files.isRegularFile(openmoji) ? readBytes(openmoji) : null);
    }

    static EmojiCorpusIndex.VendorIndex buildIndex(Path dir, EmojiVendor v, EmojiNames names) {
        String relative = v.folderName() + "/package";
        Path packageDir = dir.resolve(relative);
        String imageDir = v.imageDir().isEmpty() ? relative : relative + "/" + v.imageDir();
        return switch (v) {
            case GOOGLE, TWITTER, FACEBOOK, APPLE -> EmojiCorpusIndex.fromBitmaps(v, packageDir, relative);
            case FLUENT, FLUENT_FLAT -> EmojiCorpusIndex.fromFluent(v, EmojiCorpusIndex.svgFiles(dir.resolve(imageDir)), imageDir, names);
            case TWEMOJI -> EmojiCorpusIndex.fromTwemoji(v, EmojiCorpusIndex.svgFiles(dir.resolve(imageDir)), imageDir, names);
            case OPENMOJI -> EmojiCorpusIndex.fromOpenMoji(v, readBytes(packageDir.resolve("data/openmoji.json")),
                    EmojiCorpusIndex.svgFiles(dir.resolve(imageDir)), imageDir, names);
        };
    }

    private static byte[] readBytes(Path file) {
        try {
            return Files.readAllBytes(file);
        } catch (IOException e) {
            throw new DatasetException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /** Runs {@code npm pack <spec>} in the directory; returns the tarball it wrote. */
    Path npmPack(String spec, Path dir) {
        String executable = findExecutable(npm);
        if (executable == null) {
            throw new DatasetException("npm is not on the PATH (needed to fetch " + spec + "): install Node.js and npm"
                    + " (Debian: apt-get install npm), then run the fetch again");
        }
        log.accept("npm pack " + spec + " (in " + dir + ")");
        Path output = dir.resolve(".npm-pack.log");
        try {
            Process process = new ProcessBuilder(executable, "pack", spec, "--silent")
                    .directory(dir.toFile())
                    .redirectErrorStream(true)
                    .redirectOutput(output.toFile())
                    .start();
            if (!process.waitFor(NPM_TIMEOUT_MINUTES, TimeUnit.MINUTES)) {
                process.destroyForcibly();
                throw new DatasetException("npm pack " + spec + " did not finish in " + NPM_TIMEOUT_MINUTES + " minutes");
            }
            String out = Files.readString(output, StandardCharsets.UTF_8).trim();
            if (process.exitValue() != 0) {
                throw new DatasetException("npm pack " + spec + " failed (exit " + process.exitValue() + "): " + tail(out));
            }
            String[] outLines = out.split("\\R");
            String fileName = outLines[outLines.length - 1].trim();
            Path tarball = dir.resolve(fileName);
            if (fileName.isEmpty() || !Files.isRegularFile(tarball)) {
                throw new DatasetException("npm pack " + spec + " did not leave a tarball in " + dir + ": " + tail(out));
            }
            return tarball;
        } catch (IOException e) {
            throw new DatasetException("cannot run npm (" + executable + "): " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new DatasetException("interrupted while running npm pack " + spec, e);
        } finally {
            try {
                Files.deleteIfExists(output);
            } catch (IOException ignored) {
                // a leftover log file is harmless
            }
        }
    }

    private static String tail(String s) {
        return s.length() <= 600 ? s : "..." + s.substring(s.length() - 600);
    }

    /** A path as given if it is executable, else the first executable of that name on PATH, else null. */
    static String findExecutable(String name) {
        if (name.contains(File.separator)) {
            return Files.isExecutable(Path.of(name)) ? name : null;
        }
        String path = System.getenv("PATH");
        if (path == null) {
            return null;
        }
        for (String dir : path.split(File.pathSeparator)) {
            if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, name)) && !Files.isDirectory(Path.of(dir, name))) {
                return Path.of(dir, name).toString();
            }
        }
        return null;
    }

    /** Extracts a .tgz into the directory (npm's "package/" root kept), skipping sprite sheets and links. */
    static void extract(Path tarball, Path into) {
        extract(tarball, into, entry -> !entry.contains("/sheets"));
    }

    /** Extracts the entries {@code keep} accepts (by their name in the tarball), skipping links. */
    static void extract(Path tarball, Path into, java.util.function.Predicate<String> keep) {
        Path root = into.toAbsolutePath().normalize();
        try (InputStream in = new GZIPInputStream(new BufferedInputStream(Files.newInputStream(tarball), 1 << 16), 1 << 16);
             TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
            Files.createDirectories(root);
            TarArchiveEntry entry;
            while ((entry = tar.getNextEntry()) != null) {
                if (!entry.isFile() || !keep.test(entry.getName())) {
                    continue; // links, and what no reader uses (the sprite sheets are large)
                }
                Path target = root.resolve(entry.getName()).normalize();
                if (!target.startsWith(root)) {
                    throw new DatasetException(tarball + " holds an entry outside its folder: " + entry.getName());
                }
                Files.createDirectories(target.getParent());
                Files.copy(tar, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new DatasetException("cannot extract " + tarball + ": " + e.getMessage(), e);
        }
    }

    /** Every image emoji.json says the vendor drew must be in img/<vendor>/64/. */
    static String checkEmoji(Path packageDir, EmojiVendor vendor) {
        JsonNode root;
        try {
            root = Json.mapper().readTree(packageDir.resolve("emoji.json").toFile());
        } catch (IOException e) {
            throw new DatasetException("cannot read " + packageDir.resolve("emoji.json") + ": " + e.getMessage(), e);
        }
        Path images = packageDir.resolve("img").resolve(vendor.id()).resolve(String.valueOf(EmojiDataset.NATIVE_SIZE));
        String hasImage = "has_img_" + vendor.id();
        int expected = 0;
        List<String> missing = new ArrayList<>();
        for (JsonNode e : root) {
            List<JsonNode> drawings = new ArrayList<>();
            drawings.add(e);
            e.path("skin_variations").forEach(drawings::add);
            for (JsonNode d : drawings) {
                if (d.path(hasImage).asBoolean(false)) {
                    expected++;
                    if (!Files.isRegularFile(images.resolve(d.path("image").asText("?")))) {
                        missing.add(d.path("image").asText("?"));
                    }
                }
            }
        }
        if (expected == 0) {
            throw new DatasetException(packageDir + "/emoji.json names no " + vendor.id() + " images");
        }
        if (!missing.isEmpty()) {
            throw new DatasetException(missing.size() + " of " + expected + " " + vendor.id() + " images are missing in "
                    + images + ", e.g. " + missing.subList(0, Math.min(5, missing.size())) + "; delete "
                    + packageDir.getParent() + " and fetch again");
        }
        return vendor.packageSpec() + ": " + root.size() + " emoji, " + expected
                + " images in " + images;
    }

    // ---------------------------------------------------------------- Fashion-MNIST

    FetchResult fetchFashionMnist(Path dataDir) {
        Path own = dataDir.resolve("fashion-mnist");
        Path dir = FashionMnistDataset.isPresent(own) ? own : FashionMnistDataset.isPresent(debianFashionMnist) ? debianFashionMnist : null;
        if (dir == null) {
            throw new DatasetException("Fashion-MNIST is not installed: run `" + FASHION_MNIST_APT + "` as root (it puts the"
                    + " IDX files in " + debianFashionMnist + "), or copy train-/t10k-images-idx3-ubyte.gz and"
                    + " -labels-idx1-ubyte.gz into " + own + ", then fetch again");
        }
        List<String> lines = new ArrayList<>();
        for (FashionMnistDataset.Split split : FashionMnistDataset.Split.values()) {
            DatasetOptions options = DatasetOptions.of(FashionMnistDataset.PADDED_SIDE).strict();
            ImageCaptionDataset d = FashionMnistDataset.open(dir, split, options);
            lines.add("Fashion-MNIST " + split.label() + ": " + d.size() + " images in " + dir);
            log.accept(lines.get(lines.size() - 1));
        }
        return new FetchResult("fashion-mnist", dir, lines);
    }
}
