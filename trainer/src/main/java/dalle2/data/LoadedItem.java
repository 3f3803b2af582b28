package dalle2.data;

import java.awt.image.BufferedImage;
import java.util.Objects;

/** An item with its decoded RGB image (square, at the dataset's size). */
public record LoadedItem(ImageCaptionItem item, BufferedImage image) {
    public LoadedItem {
        Objects.requireNonNull(item, "item");
        Objects.requireNonNull(image, "image");
    }
}
