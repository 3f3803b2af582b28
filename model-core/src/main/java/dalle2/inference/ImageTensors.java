package dalle2.inference;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;

/**
 * Converts between images and the networks' tensors: (B, C, H, W) float32 in [−1, 1], channels RGB (C = 3)
 * or grey (C = 1), as DDPM scales pixels.
 */
public final class ImageTensors {

    private ImageTensors() {
    }

    /** Images (resized to {@code size} when needed) to (B, C, size, size) in [−1, 1]. */
    public static NDArray toTensor(NDManager manager, List<BufferedImage> images, int channels, int size) {
        float[] values = new float[images.size() * channels * size * size];
        int plane = size * size;
        for (int b = 0; b < images.size(); b++) {
            BufferedImage image = resized(images.get(b), size);
            int offset = b * channels * plane;
            for (int y = 0; y < size; y++) {
                for (int x = 0; x < size; x++) {
                    int rgb = image.getRGB(x, y);
                    int r = (rgb >> 16) & 0xFF;
                    int g = (rgb >> 8) & 0xFF;
                    int bl = rgb & 0xFF;
                    int pixel = y * size + x;
                    if (channels == 1) {
                        values[offset + pixel] = toUnit((r * 299 + g * 587 + bl * 114) / 1000f);
                    } else {
                        values[offset + pixel] = toUnit(r);
                        values[offset + plane + pixel] = toUnit(g);
                        values[offset + 2 * plane + pixel] = toUnit(bl);
                    }
                }
            }
        }
        return manager.create(values, new Shape(images.size(), channels, size, size));
    }

    /** (B, C, H, W) in [−1, 1] (clamped) to RGB images. */
    public static List<BufferedImage> toImages(NDArray tensor) {
        Shape shape = tensor.getShape();
        int batch = (int) shape.get(0);
        int channels = (int) shape.get(1);
        int height = (int) shape.get(2);
        int width = (int) shape.get(3);
        float[] values = tensor.toType(DataType.FLOAT32, false).toFloatArray();
        int plane = height * width;
        List<BufferedImage> images = new ArrayList<>(batch);
        for (int b = 0; b < batch; b++) {
            BufferedImage image = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
            int offset = b * channels * plane;
            for (int y = 0; y < height; y++) {
                for (int x = 0; x < width; x++) {
                    int pixel = y * width + x;
                    int r = toByte(values[offset + pixel]);
                    int g = channels == 1 ? r : toByte(values[offset + plane + pixel]);
                    int bl = channels == 1 ? r : toByte(values[offset + 2 * plane + pixel]);
                    image.setRGB(x, y, (r << 16) | (g << 8) | bl);
                }
            }
            images.add(image);
        }
        return images;
    }

    /** An RGB image's pixels as {@code H × W × 3} bytes, row by row (the low-resolution topic's layout). */
    public static byte[] rgbBytes(BufferedImage image) {
        int width = image.getWidth();
        int height = image.getHeight();
        byte[] bytes = new byte[width * height * 3];
        for (int y = 0; y < height; y++) {
            for (int x = 0; x < width; x++) {
                int rgb = image.getRGB(x, y);
                int at = (y * width + x) * 3;
                bytes[at] = (byte) (rgb >> 16);
                bytes[at + 1] = (byte) (rgb >> 8);
                bytes[at + 2] = (byte) rgb;
            }
        }
        return bytes;
    }

    /** Square images given as {@code size × size × 3} RGB bytes each, to (B, 3, size, size) in [−1, 1]. */
    public static NDArray fromRgbBytes(NDManager manager, List<byte[]> images, int size) {
        int plane = size * size;
        float[] values = new float[images.size() * 3 * plane];
        for (int b = 0; b < images.size(); b++) {
            byte[] bytes = images.get(b);
            if (bytes.length != 3 * plane) {
                throw new IllegalArgumentException("image " + b + " has " + bytes.length + " bytes, expected "
                        + 3 * plane + " (" + size + "×" + size + " RGB)");
            }
            int offset = b * 3 * plane;
            for (int pixel = 0; pixel < plane; pixel++) {
                for (int c = 0; c < 3; c++) {
                    values[offset + c * plane + pixel] = toUnit(bytes[pixel * 3 + c] & 0xFF);
                }
            }
        }
        return manager.create(values, new Shape(images.size(), 3, size, size));
    }

    public static byte[] png(BufferedImage image) {
        try (ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            ImageIO.write(image, "png", out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A square image of the given size; smooth area-averaged scaling when the size differs. */
    public static BufferedImage resized(BufferedImage image, int size) {
        if (image.getWidth() == size && image.getHeight() == size) {
            return image;
        }
        BufferedImage out = new BufferedImage(size, size, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
            g.drawImage(image.getScaledInstance(size, size, java.awt.Image.SCALE_AREA_AVERAGING), 0, 0, null);
        } finally {
            g.dispose();
        }
        return out;
    }

    private static float toUnit(float byteValue) {
        return byteValue / 127.5f - 1f;
    }

    private static int toByte(float unit) {
        float clamped = Math.max(-1f, Math.min(1f, unit));
        return Math.round((clamped + 1f) * 127.5f);
    }
}
