package dalle2.inference;

import dalle2.messages.GenerationRequest;
import dalle2.messages.InvalidMessageException;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * A variations job's source image as the requests topic carries it: an RGB PNG at most
 * {@value GenerationRequest#MAX_SOURCE_IMAGE_SIDE} px a side. Read with its size checked before its pixels are
 * decoded, since a record produced by anyone may declare a huge image in a few bytes.
 */
public final class SourceImages {

    private SourceImages() {
    }

    /**
     * The job's source image.
     *
     * @throws InvalidMessageException (field {@code image}) when it is not a PNG of the allowed size
     */
    public static BufferedImage read(GenerationRequest request) {
        byte[] png = request.imagePng().orElseThrow(() -> new InvalidMessageException("image",
                "a variations job needs its image"));
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(png))) {
            Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName("png");
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                int w = reader.getWidth(0);
                int h = reader.getHeight(0);
                int max = GenerationRequest.MAX_SOURCE_IMAGE_SIDE;
                if (w < 1 || h < 1 || w > max || h > max) {
                    throw new InvalidMessageException("image", "image must be a PNG of at most " + max + " x " + max
                            + " px, got " + w + " x " + h);
                }
                BufferedImage image = reader.read(0);
                BufferedImage rgb = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
                rgb.createGraphics().drawImage(image, 0, 0, java.awt.Color.WHITE, null);
                return rgb;
            } finally {
                reader.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof InvalidMessageException invalid) {
                throw invalid;
            }
            throw new InvalidMessageException("image", "image is not a readable PNG: " + e.getMessage());
        }
    }
}
