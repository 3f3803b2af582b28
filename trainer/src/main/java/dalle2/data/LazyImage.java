package dalle2.data;

import java.awt.image.BufferedImage;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.file.NoSuchFileException;
import java.util.Objects;
import java.util.Optional;

/**
 * An item's image, decoded on demand. A failure at load time (the file vanished, the bytes are not an image) is
 * handled by the options' {@link BadItemPolicy}: counted and skipped, or stopped with the item's name. Nothing is
 * cached: a trainer that wants the pixels in memory keeps the result.
 */
public final class LazyImage {

    private final ImageSource source;
    private final String sourceName;
    private final DatasetOptions options;

    public LazyImage(ImageSource source, String sourceName, DatasetOptions options) {
        this.source = Objects.requireNonNull(source, "source");
        this.sourceName = Objects.requireNonNull(sourceName, "sourceName");
        this.options = Objects.requireNonNull(options, "options");
    }

    public int size() {
        return options.imageSize();
    }

    /** The RGB image at the target size, or empty when it could not be read (already counted in the report). */
    public Optional<BufferedImage> load(String itemId) {
        BufferedImage image;
        try {
            image = source.load();
            if (image == null) {
                throw new IOException("no image decoded");
            }
        } catch (NoSuchFileException | FileNotFoundException e) {
            options.badItem(sourceName, itemId, DatasetReport.Reason.MISSING_FILE, e.getMessage());
            return Optional.empty();
        } catch (DatasetException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            // ImageIO throws unchecked exceptions (index out of bounds, illegal argument) on some corrupt files
            options.badItem(sourceName, itemId, DatasetReport.Reason.CORRUPT_IMAGE, String.valueOf(e.getMessage()));
            return Optional.empty();
        }
        if (image.getWidth() != options.imageSize() || image.getHeight() != options.imageSize()) {
            throw new IllegalStateException("the reader of " + itemId + " delivered " + image.getWidth() + "x"
                    + image.getHeight() + ", expected " + options.imageSize() + "x" + options.imageSize());
        }
        return Optional.of(image);
    }
}
