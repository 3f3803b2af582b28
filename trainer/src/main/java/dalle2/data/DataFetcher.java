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
import java.util.List;
import java.util.Objects;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;

/**
 * Gets the real datasets with the ordinary package clients and checks them.
 *
 * <ul>
 *   <li>{@code emoji}: {@code npm pack emoji-datasource-<vendor>@16.0.0} for google and twitter into
 *       {@code <dir>/emoji/}, extracted to {@code <dir>/emoji/emoji-datasource-<vendor>/package/} (without the
 *       sprite sheets), then every image emoji.json names is checked to be there.</li>
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

    public FetchResult fetch(String dataset, Path dataDir) {
        return switch (dataset == null ? "" : dataset.trim()) {
            case "emoji" -> fetchEmoji(dataDir.resolve("emoji"));
            case "fashion-mnist" -> fetchFashionMnist(dataDir);
            default -> throw new DatasetException("unknown dataset '" + dataset + "'; valid: " + String.join(", ", DATASETS));
        };
    }

    // ---------------------------------------------------------------- emoji

    FetchResult fetchEmoji(Path dir) {
        List<String> lines = new ArrayList<>();
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new DatasetException("cannot create " + dir + ": " + e.getMessage(), e);
        }
        for (EmojiDataset.Vendor vendor : EmojiDataset.Vendor.values()) {
            String spec = vendor.packageName() + "@" + EmojiDataset.VERSION;
            Path packageDir = dir.resolve(vendor.packageName()).resolve("package");
            if (!Files.isRegularFile(packageDir.resolve("emoji.json"))) {
                Path tarball = dir.resolve(vendor.packageName() + "-" + EmojiDataset.VERSION + ".tgz");
                if (Files.isRegularFile(tarball)) {
                    log.accept(tarball + " is already here");
                } else {
                    tarball = npmPack(spec, dir);
                }
                log.accept("extracting " + tarball.getFileName() + " to " + packageDir.getParent());
                extract(tarball, packageDir.getParent());
            }
            lines.add(checkEmoji(packageDir, vendor));
            log.accept(lines.get(lines.size() - 1));
        }
        return new FetchResult("emoji", dir, lines);
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
        Path root = into.toAbsolutePath().normalize();
        try (InputStream in = new GZIPInputStream(new BufferedInputStream(Files.newInputStream(tarball), 1 << 16), 1 << 16);
             TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
            Files.createDirectories(root);
            TarArchiveEntry entry;
            while ((entry = tar.getNextEntry()) != null) {
                if (!entry.isFile() || entry.getName().contains("/sheets")) {
                    continue; // the sprite sheets are large and unused
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
    static String checkEmoji(Path packageDir, EmojiDataset.Vendor vendor) {
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
        return vendor.packageName() + "@" + EmojiDataset.VERSION + ": " + root.size() + " emoji, " + expected
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
