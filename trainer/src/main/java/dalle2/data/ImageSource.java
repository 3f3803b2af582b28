package dalle2.data;

import java.awt.image.BufferedImage;
import java.io.IOException;

/**
 * Reads one item's image and brings it to the dataset's square RGB target size. Called lazily, on every load: a
 * missing file or an undecodable image surfaces here, as an exception the item's {@link LazyImage} turns into a
 * counted skip (or a strict stop).
 */
@FunctionalInterface
public interface ImageSource {
    BufferedImage load() throws IOException;
}
