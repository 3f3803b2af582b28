package dalle2.eval;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import dalle2.inference.ImageTensors;
import dalle2.inference.UpsampleTask;
import dalle2.models.Upsampler;
import dalle2.sampling.NoiseStreams;
import dalle2.sampling.Sampler;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.Function;

/**
 * Judges a super-resolution stage alone: real full-size images are area-averaged to the stage's input size,
 * brought back to full size by the stage and by plain bicubic interpolation, and both are compared with the
 * originals.
 *
 * <ul>
 *   <li>PSNR against the original (dB, pixels in [0, 1]). It rewards the blurry mean of all plausible images, so
 *       bicubic scores well on it by construction; it is reported to show the stage stays faithful to its input.</li>
 *   <li>A Fréchet distance between patch features: every image is cut into {@value #PATCH}×{@value #PATCH} tiles
 *       at full resolution, the tiles where the original has content (not flat background) are embedded with the
 *       project's CLIP image tower, and the distance is taken between the tile sets of the originals and of each
 *       method. At full resolution a tile is a close-up, so the distance sees sharpness and texture that a
 *       downsampled whole image would not. The tiles are paired (the same places of the same images), so a perfect
 *       method scores 0.</li>
 *   <li>Sharpness: the root mean square difference between neighbouring pixels (gradient energy; a blurred edge
 *       climbs as far as a sharp one but in smaller steps, so it scores lower), as a share of the originals'.</li>
 * </ul>
 */
public final class UpsamplerEvaluation {

    public static final int PATCH = 32;
    /** A tile whose pixels vary less than this (standard deviation, [0, 1] scale) in the original is background. */
    static final double FLAT_TILE_STD = 0.02;
    static final int BATCH = 8;

    private final Upsampler upsampler;
    private final Function<List<BufferedImage>, List<float[]>> tileEncoder;

    public UpsamplerEvaluation(Upsampler upsampler, Function<List<BufferedImage>, List<float[]>> tileEncoder) {
        this.upsampler = upsampler;
        this.tileEncoder = tileEncoder;
    }

    /** What one method did on a set of images. */
    public record MethodResult(String method, double psnr, double frechetDistance, double sharpness) {
    }

    public record Result(String set, int images, int tiles, MethodResult bicubic, MethodResult upsampler,
                         double seconds) {

        public String toMarkdownRows() {
            return row(bicubic) + row(upsampler);
        }

        private String row(MethodResult m) {
            return String.format(Locale.ROOT, "| %s | %s | %d | %d | %.2f | %.4f | %.2f |%n", set, m.method(), images,
                    tiles, m.psnr(), m.frechetDistance(), m.sharpness());
        }

        public static String header() {
            return "| held-out images | method | images | tiles | PSNR (dB) | tile Fréchet distance | sharpness "
                    + "(share of real) |\n|---|---|---:|---:|---:|---:|---:|\n";
        }
    }

    /**
     * @param originals full-size RGB images of the stage's output size, never trained on
     * @param seed      job seed: image i upsamples with {@code NoiseStreams.seedFor(seed, i, "upsampler")}
     */
    public Result evaluate(String setName, List<BufferedImage> originals, long seed, NDManager manager) {
        int size = upsampler.config().imageSize();
        int low = upsampler.config().lowResSize();
        List<BufferedImage> bicubic = new ArrayList<>();
        List<BufferedImage> upsampled = new ArrayList<>();
        long start = System.nanoTime();
        for (int from = 0; from < originals.size(); from += BATCH) {
            List<BufferedImage> chunk = originals.subList(from, Math.min(originals.size(), from + BATCH));
            try (NDManager scope = manager.newSubManager()) {
                NDArray real = ImageTensors.toTensor(scope, chunk, 3, size);
                NDArray lowRes = Upsampler.downsample(real, low);
                bicubic.addAll(ImageTensors.toImages(Upsampler.bicubic(lowRes, size).clip(-1f, 1f)));
                long[] seeds = new long[chunk.size()];
                for (int i = 0; i < seeds.length; i++) {
                    seeds[i] = NoiseStreams.seedFor(seed, from + i, UpsampleTask.STAGE);
                }
                upsampled.addAll(ImageTensors.toImages(upsampler.upsample(lowRes, seeds, Sampler.Progress.NONE)));
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;

        List<int[]> tiles = contentTiles(originals);
        double[][] realFeatures = features(originals, tiles);
        double realSharpness = meanSharpness(originals);
        MethodResult bicubicResult = new MethodResult("bicubic", psnr(originals, bicubic),
                FrechetDistance.between(realFeatures, features(bicubic, tiles)), meanSharpness(bicubic) / realSharpness);
        MethodResult upsamplerResult = new MethodResult("upsampler", psnr(originals, upsampled),
                FrechetDistance.between(realFeatures, features(upsampled, tiles)), meanSharpness(upsampled) / realSharpness);
        return new Result(setName, originals.size(), tiles.size(), bicubicResult, upsamplerResult, seconds);
    }

    /** (image, x, y) of every tile of the originals that is not flat background. */
    static List<int[]> contentTiles(List<BufferedImage> originals) {
        List<int[]> tiles = new ArrayList<>();
        for (int i = 0; i < originals.size(); i++) {
            BufferedImage image = originals.get(i);
            for (int y = 0; y + PATCH <= image.getHeight(); y += PATCH) {
                for (int x = 0; x + PATCH <= image.getWidth(); x += PATCH) {
                    if (tileStd(image, x, y) >= FLAT_TILE_STD) {
                        tiles.add(new int[] {i, x, y});
                    }
                }
            }
        }
        return tiles;
    }

    private double[][] features(List<BufferedImage> images, List<int[]> tiles) {
        List<BufferedImage> crops = new ArrayList<>(tiles.size());
        for (int[] tile : tiles) {
            crops.add(images.get(tile[0]).getSubimage(tile[1], tile[2], PATCH, PATCH));
        }
        List<float[]> embedded = tileEncoder.apply(crops);
        double[][] rows = new double[embedded.size()][];
        for (int i = 0; i < rows.length; i++) {
            float[] e = embedded.get(i);
            rows[i] = new double[e.length];
            for (int j = 0; j < e.length; j++) {
                rows[i][j] = e[j];
            }
        }
        return rows;
    }

    /** Mean PSNR over image pairs, pixels in [0, 1]. */
    static double psnr(List<BufferedImage> reference, List<BufferedImage> test) {
        double sum = 0;
        for (int i = 0; i < reference.size(); i++) {
            double mse = 0;
            BufferedImage a = reference.get(i);
            BufferedImage b = test.get(i);
            int n = 0;
            for (int y = 0; y < a.getHeight(); y++) {
                for (int x = 0; x < a.getWidth(); x++) {
                    int p = a.getRGB(x, y);
                    int q = b.getRGB(x, y);
                    for (int shift = 0; shift <= 16; shift += 8) {
                        double d = (((p >> shift) & 0xFF) - ((q >> shift) & 0xFF)) / 255.0;
                        mse += d * d;
                        n++;
                    }
                }
            }
            mse /= n;
            sum += mse == 0 ? 100 : 10 * Math.log10(1 / mse);
        }
        return sum / reference.size();
    }

    /** Root mean square difference of horizontally and vertically neighbouring channel values, [0, 1] scale. */
    static double sharpness(BufferedImage image) {
        double sum = 0;
        long n = 0;
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                int p = image.getRGB(x, y);
                if (x + 1 < image.getWidth()) {
                    sum += channelDifference(p, image.getRGB(x + 1, y));
                    n += 3;
                }
                if (y + 1 < image.getHeight()) {
                    sum += channelDifference(p, image.getRGB(x, y + 1));
                    n += 3;
                }
            }
        }
        return Math.sqrt(sum / n) / 255.0;
    }

    private static double meanSharpness(List<BufferedImage> images) {
        return images.stream().mapToDouble(UpsamplerEvaluation::sharpness).average().orElse(0);
    }

    private static double channelDifference(int p, int q) {
        double sum = 0;
        for (int shift = 0; shift <= 16; shift += 8) {
            double d = ((p >> shift) & 0xFF) - ((q >> shift) & 0xFF);
            sum += d * d;
        }
        return sum;
    }

    private static double tileStd(BufferedImage image, int x0, int y0) {
        double sum = 0;
        double sumSquares = 0;
        int n = 0;
        for (int y = y0; y < y0 + PATCH; y++) {
            for (int x = x0; x < x0 + PATCH; x++) {
                int p = image.getRGB(x, y);
                for (int shift = 0; shift <= 16; shift += 8) {
                    double v = ((p >> shift) & 0xFF) / 255.0;
                    sum += v;
                    sumSquares += v * v;
                    n++;
                }
            }
        }
        double mean = sum / n;
        return Math.sqrt(Math.max(0, sumSquares / n - mean * mean));
    }
}
