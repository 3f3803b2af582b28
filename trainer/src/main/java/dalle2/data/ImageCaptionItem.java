package dalle2.data;

import java.awt.image.BufferedImage;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * One image with one or more captions.
 *
 * @param id       stable across runs, unique within a dataset (e.g. {@code emoji-google/1f34e},
 *                 {@code fashion-mnist/train/00042})
 * @param source   the dataset it came from (e.g. {@code emoji-google}, {@code fashion-mnist})
 * @param splitKey what the held-out split hashes: items that share it (an emoji in two vendors' drawings, its
 *                 skin tones) are held out together
 * @param captions at least one, none blank; the first is the canonical caption
 * @param label    class index for labelled data (Fashion-MNIST), {@link #NO_LABEL} otherwise
 * @param metadata free-form strings (category, subcategory, vendor, split, class ...), in insertion order
 * @param image    the image, decoded on demand at the dataset's target size
 */
public record ImageCaptionItem(String id, String source, String splitKey, List<String> captions, int label,
                               Map<String, String> metadata, LazyImage image) {

    public static final int NO_LABEL = -1;

    public ImageCaptionItem {
        requireText(id, "id");
        requireText(source, "source");
        requireText(splitKey, "splitKey");
        Objects.requireNonNull(captions, "captions");
        if (captions.isEmpty()) {
            throw new IllegalArgumentException("item " + id + " has no caption");
        }
        for (String c : captions) {
            if (c == null || c.isBlank()) {
                throw new IllegalArgumentException("item " + id + " has a blank caption");
            }
        }
        captions = List.copyOf(captions);
        if (label < NO_LABEL) {
            throw new IllegalArgumentException("item " + id + " has label " + label);
        }
        metadata = Collections.unmodifiableMap(new LinkedHashMap<>(Objects.requireNonNull(metadata, "metadata")));
        Objects.requireNonNull(image, "image");
    }

    private static void requireText(String s, String what) {
        if (s == null || s.isBlank()) {
            throw new IllegalArgumentException(what + " must not be blank");
        }
    }

    /** The canonical caption (the first). */
    public String caption() {
        return captions.get(0);
    }

    public boolean hasLabel() {
        return label != NO_LABEL;
    }

    /** The RGB image at the dataset's size, or empty if it could not be read (counted in the dataset's report). */
    public Optional<BufferedImage> loadImage() {
        return image.load(id);
    }

    @Override
    public String toString() {
        return id + " " + captions;
    }
}
