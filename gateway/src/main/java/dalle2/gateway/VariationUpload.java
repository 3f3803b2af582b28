package dalle2.gateway;

import dalle2.messages.GenerationRequest;
import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Iterator;
import java.util.Locale;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * The image of {@code POST /v1/variations}, made into what a variations job carries: an RGB PNG, the upload's
 * centre square area-averaged down to at most {@value GenerationRequest#MAX_SOURCE_IMAGE_SIDE} px (CLIP sees
 * less: 32 px for the shipped one). Decoded safely: the format must be what the Content-Type says and its
 * signature shows, the declared size is checked before any pixel is decoded (a few KiB of PNG can declare
 * gigapixels), and any colour mode the JDK's readers know (grey, palette, 16-bit, alpha, which is composited
 * on white as the training images were) comes out as 8-bit RGB. Runs on a worker thread, never an event loop.
 */
final class VariationUpload {

    /** Largest upload accepted, in bytes. */
    static final int MAX_BYTES = 8 * 1024 * 1024;
    /** Largest image side, and pixel count, decoded. */
    static final int MAX_SIDE = 4096;
    static final long MAX_PIXELS = 16L * 1024 * 1024;
    static final String PNG = "image/png";
    static final String JPEG = "image/jpeg";

    private VariationUpload() {
    }

    /** The media type a Content-Type header names, lower case, without parameters; null if none. */
    static String mediaType(String contentType) {
        if (contentType == null) {
            return null;
        }
        int semicolon = contentType.indexOf(';');
        return (semicolon < 0 ? contentType : contentType.substring(0, semicolon)).strip().toLowerCase(Locale.ROOT);
    }

    /**
     * The normalised PNG of an upload.
     *
     * @throws ApiError 400 {@code invalid_image} (field {@code image}) naming what is wrong with it
     */
    static byte[] normalise(byte[] upload, String mediaType) {
        if (upload.length == 0) {
            throw invalid("the body is empty: send the image's bytes");
        }
        String format = mediaType.equals(PNG) ? "png" : "jpeg";
        boolean looksPng = upload.length >= 8 && (upload[0] & 0xff) == 0x89 && upload[1] == 'P' && upload[2] == 'N'
                && upload[3] == 'G';
        boolean looksJpeg = upload.length >= 3 && (upload[0] & 0xff) == 0xFF && (upload[1] & 0xff) == 0xD8
                && (upload[2] & 0xff) == 0xFF;
        if (format.equals("png") ? !looksPng : !looksJpeg) {
            throw invalid("the body is not a " + format.toUpperCase(Locale.ROOT) + " image (Content-Type " + mediaType
                    + "; its first bytes say " + (looksPng ? "PNG" : looksJpeg ? "JPEG" : "neither PNG nor JPEG") + ")");
        }
        BufferedImage decoded = decode(upload, format);
        return encodePng(shrink(centreSquareOnWhite(decoded), GenerationRequest.MAX_SOURCE_IMAGE_SIDE));
    }

    private static BufferedImage decode(byte[] upload, String format) {
        try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(upload))) {
            Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName(format);
            ImageReader reader = readers.next();
            try {
                reader.setInput(in, true, true);
                int w = reader.getWidth(0);
                int h = reader.getHeight(0);
                if (w < 1 || h < 1 || w > MAX_SIDE || h > MAX_SIDE || (long) w * h > MAX_PIXELS) {
                    throw invalid("the image is " + w + " x " + h + " px; at most " + MAX_SIDE + " px a side and "
                            + MAX_PIXELS / (1024 * 1024) + " Mpx are accepted");
                }
                return reader.read(0);
            } finally {
                reader.dispose();
            }
        } catch (ApiError e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            if (why.contains("Unsupported Image Type")) {
                why = "its colour model is not supported (a CMYK or YCCK JPEG?); save it as RGB or greyscale";
            }
            throw invalid("the image cannot be decoded: " + why);
        }
    }

    /** The centre square, alpha composited on white, as 8-bit RGB (whatever the source's colour model). */
    static BufferedImage centreSquareOnWhite(BufferedImage image) {
        int side = Math.min(image.getWidth(), image.getHeight());
        int x0 = (image.getWidth() - side) / 2;
        int y0 = (image.getHeight() - side) / 2;
        BufferedImage rgb = new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = rgb.createGraphics();
        try {
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, side, side);
            g.drawImage(image, -x0, -y0, null);
        } finally {
            g.dispose();
        }
        return rgb;
    }

    /** Area averaging down to at most {@code max} px a side: every source pixel counts, as in the data pipeline. */
    static BufferedImage shrink(BufferedImage square, int max) {
        int side = square.getWidth();
        if (side <= max) {
            return square;
        }
        BufferedImage out = new BufferedImage(max, max, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < max; y++) {
            int sy0 = (int) ((long) y * side / max);
            int sy1 = (int) ((long) (y + 1) * side / max);
            for (int x = 0; x < max; x++) {
                int sx0 = (int) ((long) x * side / max);
                int sx1 = (int) ((long) (x + 1) * side / max);
                long r = 0;
                long gr = 0;
                long b = 0;
                for (int sy = sy0; sy < sy1; sy++) {
                    for (int sx = sx0; sx < sx1; sx++) {
                        int p = square.getRGB(sx, sy);
                        r += (p >> 16) & 0xff;
                        gr += (p >> 8) & 0xff;
                        b += p & 0xff;
                    }
                }
                long count = (long) (sy1 - sy0) * (sx1 - sx0);
                out.setRGB(x, y, (int) ((r + count / 2) / count) << 16 | (int) ((gr + count / 2) / count) << 8
                        | (int) ((b + count / 2) / count));
            }
        }
        return out;
    }

    private static byte[] encodePng(BufferedImage image) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try {
            ImageIO.write(image, "png", out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static ApiError invalid(String message) {
        return ApiError.badRequest("invalid_image", message, "image");
    }
}
