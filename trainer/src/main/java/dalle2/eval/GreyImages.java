package dalle2.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dalle2.data.ImageCaptionDataset;
import dalle2.data.ImageCaptionItem;
import java.awt.image.BufferedImage;
import java.util.Arrays;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.stream.IntStream;

/**
 * Labelled grey images held in memory as bytes (60,000 Fashion-MNIST images at 32×32 are 61 MB), so that training
 * epochs do not decode images again, with the batch augmentation the classifier trains with.
 *
 * @param pixels row-major grey bytes, {@code side·side} per image
 * @param labels one class index per image
 */
public record GreyImages(byte[] pixels, int[] labels, int side) {

    /**
     * Largest shift of {@link #batch} augmentation, in pixels. One pixel: the test images are all centred, and in a
     * few epochs a stronger augmentation costs more fit than it buys; no mirroring, since Fashion-MNIST's shoes all
     * point the same way.
     */
    public static final int MAX_SHIFT = 1;

    public GreyImages {
        if (side < 1 || pixels.length != labels.length * side * side) {
            throw new IllegalArgumentException(pixels.length + " bytes do not hold " + labels.length + " images of "
                    + side + "x" + side);
        }
    }

    /** Decodes every labelled item (in parallel, in dataset order) at the dataset's size; unlabelled items are refused. */
    public static GreyImages of(ImageCaptionDataset dataset) {
        int side = dataset.imageSize();
        int plane = side * side;
        int n = dataset.size();
        byte[] pixels = new byte[n * plane];
        int[] labels = new int[n];
        boolean[] loaded = new boolean[n];
        IntStream.range(0, n).parallel().forEach(i -> {
            ImageCaptionItem item = dataset.get(i);
            if (!item.hasLabel()) {
                throw new IllegalArgumentException("item " + item.id() + " has no label");
            }
            Optional<BufferedImage> image = item.loadImage();
            if (image.isPresent()) {
                int[] rgb = image.get().getRGB(0, 0, side, side, null, 0, side);
                for (int p = 0; p < plane; p++) {
                    int c = rgb[p];
                    pixels[i * plane + p] = (byte) ((((c >> 16) & 0xFF) * 299 + ((c >> 8) & 0xFF) * 587 + (c & 0xFF) * 114) / 1000);
                }
                labels[i] = item.label();
                loaded[i] = true;
            }
        });
        int kept = 0;
        for (int i = 0; i < n; i++) {
            if (loaded[i]) {
                System.arraycopy(pixels, i * plane, pixels, kept * plane, plane);
                labels[kept++] = labels[i];
            }
        }
        return new GreyImages(Arrays.copyOf(pixels, kept * plane), Arrays.copyOf(labels, kept), side);
    }

    public int size() {
        return labels.length;
    }

    public int label(int index) {
        return labels[index];
    }

    /** The first {@code n} images. */
    public GreyImages first(int n) {
        int count = Math.min(n, size());
        return new GreyImages(Arrays.copyOf(pixels, count * side * side), Arrays.copyOf(labels, count), side);
    }

    /**
     * Images {@code indices} as (b, 1, side, side) in [−1, 1]. With {@code augment}, each image is shifted by up to
     * {@link #MAX_SHIFT} pixels each way, black filling in; the draws come from {@code augment} alone, so a seeded
     * generator gives the same batch every time.
     */
    public NDArray batch(NDManager manager, int[] indices, SplittableRandom augment) {
        int plane = side * side;
        float[] values = new float[indices.length * plane];
        Arrays.fill(values, -1f);
        for (int b = 0; b < indices.length; b++) {
            int source = indices[b] * plane;
            int dx = augment == null ? 0 : augment.nextInt(-MAX_SHIFT, MAX_SHIFT + 1);
            int dy = augment == null ? 0 : augment.nextInt(-MAX_SHIFT, MAX_SHIFT + 1);
            for (int y = 0; y < side; y++) {
                int sy = y - dy;
                if (sy < 0 || sy >= side) {
                    continue;
                }
                for (int x = 0; x < side; x++) {
                    int sx = x - dx;
                    if (sx < 0 || sx >= side) {
                        continue;
                    }
                    values[b * plane + y * side + x] = (pixels[source + sy * side + sx] & 0xFF) / 127.5f - 1f;
                }
            }
        }
        return manager.create(values, new Shape(indices.length, 1, side, side));
    }

    /** Labels of {@code indices}, int64 (b). */
    public NDArray batchLabels(NDManager manager, int[] indices) {
        long[] values = new long[indices.length];
        for (int b = 0; b < indices.length; b++) {
            values[b] = labels[indices[b]];
        }
        return manager.create(values);
    }
}
