package dalle2.data;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Fashion-MNIST (Xiao, Rasul, Vollgraf 2017) from the IDX files of Debian's {@code dataset-fashion-mnist}, with
 * the official split: 60,000 training and 10,000 test images, 28x28 grey, white garments on black.
 *
 * <p>Images are padded with black to 32x32 (as LeNet did for MNIST) and then resized to the target size, as RGB.
 * Captions come from the class name; the first is {@link #prompt(int)}, the form evaluation uses.
 */
public final class FashionMnistDataset {

    /** Where {@code apt-get install dataset-fashion-mnist} puts the files. */
    public static final Path DEBIAN_DIR = Path.of("/usr/share/datasets/fashion-mnist");

    /** The ten classes in label order (0 = t-shirt ... 9 = ankle boot). */
    public static final List<String> CLASSES = List.of(
            "t-shirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "ankle boot");

    public static final int SIDE = 28;
    /** The canvas the 28x28 digits-style images are centred on before resizing. */
    public static final int PADDED_SIDE = 32;
    public static final String SOURCE = "fashion-mnist";

    /** The official split. */
    public enum Split {
        TRAIN("train"), TEST("t10k");

        private final String filePrefix;

        Split(String filePrefix) {
            this.filePrefix = filePrefix;
        }

        public String filePrefix() {
            return filePrefix;
        }

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private FashionMnistDataset() {
    }

    /** The evaluation prompt: "a photo of a t-shirt", ..., "a photo of an ankle boot". */
    public static String prompt(int label) {
        return prompt(CLASSES.get(label));
    }

    public static String prompt(String className) {
        return "a photo of " + Captions.withArticle(className);
    }

    /**
     * All captions for a class, the prompt first: "a photo of a <class>" (also verbatim "a photo of a ankle boot", the
     * template a user may type), "a <class>", "<class>", "a picture of a <class>", "an image of a <class>",
     * with "a"/"an" chosen by {@link Captions#article}.
     */
    public static List<String> captions(int label) {
        String c = CLASSES.get(label);
        String withArticle = Captions.withArticle(c);
        Set<String> captions = new LinkedHashSet<>();
        captions.add(prompt(c));
        captions.add("a photo of a " + c);
        captions.add(withArticle);
        captions.add(c);
        captions.add("a picture of " + withArticle);
        captions.add("an image of " + withArticle);
        return List.copyOf(captions);
    }

    /**
     * The first {@code perClass} images of each class in the dataset's order (index = label), fewer where the
     * dataset has fewer or an image does not load; items labelled outside the ten classes are ignored. Loads only
     * what it keeps.
     */
    public static List<List<BufferedImage>> firstImagesOfEachClass(ImageCaptionDataset labelled, int perClass) {
        List<List<BufferedImage>> byClass = new ArrayList<>();
        for (int c = 0; c < CLASSES.size(); c++) {
            byClass.add(new ArrayList<>());
        }
        for (ImageCaptionItem item : labelled.items()) {
            int c = item.label();
            if (c >= 0 && c < CLASSES.size() && byClass.get(c).size() < perClass) {
                item.loadImage().ifPresent(byClass.get(c)::add);
            }
        }
        return byClass;
    }

    /** The label of a class name ("ankle boot" -> 9), or -1. */
    public static int labelOf(String className) {
        return CLASSES.indexOf(className.trim().toLowerCase(Locale.ROOT));
    }

    /** The image and label files of a split in a directory (gzip or plain); null when absent. */
    public static Path[] files(Path dir, Split split) {
        Path images = firstExisting(dir, split.filePrefix() + "-images-idx3-ubyte");
        Path labels = firstExisting(dir, split.filePrefix() + "-labels-idx1-ubyte");
        return images == null || labels == null ? null : new Path[] {images, labels};
    }

    private static Path firstExisting(Path dir, String base) {
        for (String name : List.of(base + ".gz", base)) {
            Path p = dir.resolve(name);
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        return null;
    }

    /** True when both splits are in the directory. */
    public static boolean isPresent(Path dir) {
        return files(dir, Split.TRAIN) != null && files(dir, Split.TEST) != null;
    }

    /**
     * Where to read from: {@code dataDir/fashion-mnist} if it holds the files, else the Debian path; null when
     * neither does.
     */
    public static Path locate(Path dataDir) {
        for (Path candidate : List.of(dataDir.resolve("fashion-mnist"), dataDir, DEBIAN_DIR)) {
            if (isPresent(candidate)) {
                return candidate;
            }
        }
        return null;
    }

    public static ImageCaptionDataset open(Path dir, Split split, DatasetOptions options) {
        Path[] files = files(dir, split);
        if (files == null) {
            throw new DatasetException("no Fashion-MNIST " + split.label() + " files (" + split.filePrefix()
                    + "-images-idx3-ubyte[.gz], " + split.filePrefix() + "-labels-idx1-ubyte[.gz]) in " + dir
                    + "; install them with: apt-get install dataset-fashion-mnist");
        }
        IdxFile images;
        IdxFile labels;
        try {
            images = IdxFile.read(files[0]);
            labels = IdxFile.read(files[1]);
        } catch (IOException e) {
            throw new DatasetException("cannot read Fashion-MNIST " + split.label() + ": " + e.getMessage(), e);
        }
        if (images.dims().length != 3 || images.dims()[1] != SIDE || images.dims()[2] != SIDE) {
            throw new DatasetException(files[0] + " does not hold 28x28 images: dims " + java.util.Arrays.toString(images.dims()));
        }
        if (labels.dims().length != 1 || labels.count() != images.count()) {
            throw new DatasetException(files[1] + " has " + labels.count() + " labels for " + images.count() + " images");
        }
        String source = SOURCE;
        List<ImageCaptionItem> items = new ArrayList<>(images.count());
        int digits = String.valueOf(Math.max(1, images.count() - 1)).length();
        byte[] pixels = images.data();
        for (int i = 0; i < images.count(); i++) {
            String id = SOURCE + "/" + split.label() + "/" + String.format("%0" + digits + "d", i);
            int label = labels.data()[i] & 0xFF;
            if (label >= CLASSES.size()) {
                options.badItem(source, id, DatasetReport.Reason.BAD_LABEL, "label " + label);
                continue;
            }
            int offset = i * SIDE * SIDE;
            int size = options.imageSize();
            ImageSource image = () -> render(pixels, offset, size);
            Map<String, String> metadata = new LinkedHashMap<>();
            metadata.put("split", split.label());
            metadata.put("class", CLASSES.get(label));
            metadata.put("index", Integer.toString(i));
            items.add(new ImageCaptionItem(id, source, id, captions(label), label, metadata,
                    new LazyImage(image, source, options)));
        }
        return ImageCaptionDataset.of(SOURCE + "-" + split.label(), options.imageSize(), items, options.report());
    }

    /** One 28x28 grey record as RGB, centred on a black 32x32 canvas, resized to {@code size}. */
    static BufferedImage render(byte[] pixels, int offset, int size) {
        BufferedImage grey = new BufferedImage(SIDE, SIDE, BufferedImage.TYPE_INT_RGB);
        int[] rgb = ImagePreprocessing.pixels(grey);
        for (int i = 0; i < rgb.length; i++) {
            int v = pixels[offset + i] & 0xFF;
            rgb[i] = (v << 16) | (v << 8) | v;
        }
        BufferedImage padded = ImagePreprocessing.pad(grey, PADDED_SIDE, ImagePreprocessing.BLACK);
        return ImagePreprocessing.resize(padded, size, size);
    }
}
