package dalle2.data;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.DataBufferByte;
import java.awt.image.DataBufferInt;
import java.awt.image.PixelInterleavedSampleModel;
import java.awt.image.Raster;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/**
 * Decoding and the one preprocessing every dataset shares: any image (RGBA, grey, grey+alpha, palette, 16 bit)
 * becomes opaque 8-bit RGB composited on a background, is padded to a square (centred) and resized to the target
 * size: area averaging when shrinking (each output pixel is the mean of the source area it covers, so 64 -> 32
 * is an exact 2x2 box filter with no aliasing), bilinear when enlarging. The resampler is ours, not Java2D's, so
 * results are identical on every JVM and no colour-management step touches the values.
 */
public final class ImagePreprocessing {

    public static final int WHITE = 0xFFFFFF;
    public static final int BLACK = 0x000000;

    static {
        ImageIO.setUseCache(false); // decode in memory, no temp files
    }

    private ImagePreprocessing() {
    }

    /** Decodes PNG / JPEG / GIF / BMP bytes; throws IOException when they are not a readable image. */
    public static BufferedImage decode(byte[] bytes, String what) throws IOException {
        BufferedImage image = ImageIO.read(new ByteArrayInputStream(bytes));
        if (image == null) {
            throw new IOException(what + " is not a readable image (" + bytes.length + " bytes)");
        }
        return image;
    }

    /** Decodes an image file; a missing file gives {@link NoSuchFileException}. */
    public static BufferedImage decode(Path file) throws IOException {
        return decode(Files.readAllBytes(file), file.getFileName().toString());
    }

    /** Decode, composite on white, pad to a square, resize: what the emoji and own-data readers deliver. */
    public static BufferedImage toSquareRgb(BufferedImage source, int size) {
        return toSquareRgb(source, size, WHITE);
    }

    public static BufferedImage toSquareRgb(BufferedImage source, int size, int background) {
        BufferedImage rgb = toRgb(source, background);
        BufferedImage square = padToSquare(rgb, background);
        return resize(square, size, size);
    }

    /**
     * Opaque 8-bit RGB, alpha composited on {@code background} (0xRRGGBB). Grey images are copied sample by sample
     * (Java2D treats their colour space as linear and would brighten them when converting to sRGB).
     */
    public static BufferedImage toRgb(BufferedImage source, int background) {
        int w = source.getWidth();
        int h = source.getHeight();
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        int bgR = (background >> 16) & 0xFF;
        int bgG = (background >> 8) & 0xFF;
        int bgB = background & 0xFF;
        int[] dst = pixels(out);
        ColorModel cm = source.getColorModel();
        if (cm.getColorSpace().getType() == ColorSpace.TYPE_GRAY && !(cm instanceof java.awt.image.IndexColorModel)) {
            Raster raster = source.getRaster();
            int greyMax = (1 << cm.getComponentSize(0)) - 1;
            boolean alpha = cm.hasAlpha() && raster.getNumBands() > 1;
            int alphaMax = alpha ? (1 << cm.getComponentSize(1)) - 1 : 1;
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    int v = scale(raster.getSample(x, y, 0), greyMax);
                    int a = alpha ? scale(raster.getSample(x, y, 1), alphaMax) : 255;
                    dst[y * w + x] = (over(v, a, bgR) << 16) | (over(v, a, bgG) << 8) | over(v, a, bgB);
                }
            }
            return out;
        }
        if (source.getType() == BufferedImage.TYPE_4BYTE_ABGR && source.getRaster().getDataBuffer() instanceof DataBufferByte buffer
                && buffer.getNumBanks() == 1 && source.getRaster().getSampleModel() instanceof PixelInterleavedSampleModel sm
                && sm.getScanlineStride() == 4 * w && source.getRaster().getSampleModelTranslateX() == 0
                && source.getRaster().getSampleModelTranslateY() == 0) {
            // what ImageIO decodes RGBA PNGs to (the emoji): read the bytes directly, getRGB converts pixel by pixel
            byte[] abgr = buffer.getData();
            for (int i = 0, j = 0; i < w * h; i++, j += 4) {
                int a = abgr[j] & 0xFF;
                dst[i] = (over(abgr[j + 3] & 0xFF, a, bgR) << 16) | (over(abgr[j + 2] & 0xFF, a, bgG) << 8) | over(abgr[j + 1] & 0xFF, a, bgB);
            }
            return out;
        }
        int[] row = new int[w];
        for (int y = 0; y < h; y++) {
            source.getRGB(0, y, w, 1, row, 0, w); // non-premultiplied sRGB ARGB
            for (int x = 0; x < w; x++) {
                int p = row[x];
                int a = p >>> 24;
                dst[y * w + x] = (over((p >> 16) & 0xFF, a, bgR) << 16) | (over((p >> 8) & 0xFF, a, bgG) << 8) | over(p & 0xFF, a, bgB);
            }
        }
        return out;
    }

    private static int scale(int sample, int max) {
        return max == 255 ? sample : (int) Math.round(sample * 255.0 / max);
    }

    /** "Over" compositing of one channel on an opaque background: c*a + bg*(1-a), with a in [0, 255]. */
    private static int over(int c, int a, int bg) {
        return (c * a + bg * (255 - a) + 127) / 255;
    }

    /** Centres a non-square RGB image on a square of the background colour (side = the longer side). */
    public static BufferedImage padToSquare(BufferedImage rgb, int background) {
        int w = rgb.getWidth();
        int h = rgb.getHeight();
        if (w == h) {
            return rgb;
        }
        return pad(rgb, Math.max(w, h), background);
    }

    /** Centres an RGB image on a {@code side} x {@code side} canvas of the background colour (side >= w, h). */
    public static BufferedImage pad(BufferedImage rgb, int side, int background) {
        int w = rgb.getWidth();
        int h = rgb.getHeight();
        if (side < w || side < h) {
            throw new IllegalArgumentException("cannot pad " + w + "x" + h + " to " + side);
        }
        BufferedImage out = new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB);
        int[] fill = new int[side];
        java.util.Arrays.fill(fill, background & 0xFFFFFF);
        for (int y = 0; y < side; y++) {
            out.setRGB(0, y, side, 1, fill, 0, side);
        }
        int[] pixels = rgb.getRGB(0, 0, w, h, null, 0, w);
        out.setRGB((side - w) / 2, (side - h) / 2, w, h, pixels, 0, w);
        return out;
    }

    /** Separable resize of an RGB image: area averaging along an axis that shrinks, bilinear along one that grows. */
    public static BufferedImage resize(BufferedImage rgb, int outW, int outH) {
        int w = rgb.getWidth();
        int h = rgb.getHeight();
        if (w == outW && h == outH && rgb.getType() == BufferedImage.TYPE_INT_RGB) {
            return rgb;
        }
        int[] pixels = rgb.getType() == BufferedImage.TYPE_INT_RGB ? pixels(rgb) : rgb.getRGB(0, 0, w, h, null, 0, w);
        float[] planes = new float[3 * w * h]; // channel-major: R plane, G plane, B plane, each h x w
        for (int i = 0; i < w * h; i++) {
            int p = pixels[i];
            planes[i] = (p >> 16) & 0xFF;
            planes[w * h + i] = (p >> 8) & 0xFF;
            planes[2 * w * h + i] = p & 0xFF;
        }
        Kernel kx = Kernel.of(w, outW);
        Kernel ky = Kernel.of(h, outH);
        float[] tmp = new float[3 * outW * h];
        for (int c = 0; c < 3; c++) {
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < outW; x++) {
                    float sum = 0;
                    int base = c * w * h + y * w;
                    for (int k = 0; k < kx.index[x].length; k++) {
                        sum += kx.weight[x][k] * planes[base + kx.index[x][k]];
                    }
                    tmp[c * outW * h + y * outW + x] = sum;
                }
            }
        }
        BufferedImage out = new BufferedImage(outW, outH, BufferedImage.TYPE_INT_RGB);
        int[] outPixels = pixels(out);
        for (int y = 0; y < outH; y++) {
            for (int x = 0; x < outW; x++) {
                int p = 0;
                for (int c = 0; c < 3; c++) {
                    float sum = 0;
                    for (int k = 0; k < ky.index[y].length; k++) {
                        sum += ky.weight[y][k] * tmp[c * outW * h + ky.index[y][k] * outW + x];
                    }
                    int v = Math.max(0, Math.min(255, Math.round(sum)));
                    p = (p << 8) | v;
                }
                outPixels[y * outW + x] = p;
            }
        }
        return out;
    }

    /** The backing array of a TYPE_INT_RGB image, row-major 0xRRGGBB (the image stays valid; Java2D just stops caching it). */
    static int[] pixels(BufferedImage rgb) {
        if (rgb.getType() != BufferedImage.TYPE_INT_RGB) {
            throw new IllegalArgumentException("not TYPE_INT_RGB: " + rgb.getType());
        }
        return ((DataBufferInt) rgb.getRaster().getDataBuffer()).getData();
    }

    /** For each output index along one axis: the source indices it reads and their weights (summing to 1). */
    private record Kernel(int[][] index, float[][] weight) {

        static Kernel of(int in, int out) {
            int[][] index = new int[out][];
            float[][] weight = new float[out][];
            if (out <= in) {
                // area averaging: output pixel i covers source interval [i*s, (i+1)*s), weighted by overlap
                double s = (double) in / out;
                for (int i = 0; i < out; i++) {
                    double lo = i * s;
                    double hi = (i + 1) * s;
                    int first = (int) Math.floor(lo);
                    int last = Math.min(in - 1, (int) Math.ceil(hi) - 1);
                    int n = last - first + 1;
                    index[i] = new int[n];
                    weight[i] = new float[n];
                    for (int k = 0; k < n; k++) {
                        int j = first + k;
                        double overlap = Math.min(hi, j + 1) - Math.max(lo, j);
                        index[i][k] = j;
                        weight[i][k] = (float) (overlap / s);
                    }
                }
            } else {
                // bilinear with pixel centres aligned: source x = (i + 0.5) * in / out - 0.5, clamped at the edges
                double s = (double) in / out;
                for (int i = 0; i < out; i++) {
                    double x = Math.max(0, Math.min(in - 1, (i + 0.5) * s - 0.5));
                    int x0 = (int) Math.floor(x);
                    int x1 = Math.min(in - 1, x0 + 1);
                    float t = (float) (x - x0);
                    index[i] = new int[] {x0, x1};
                    weight[i] = new float[] {1 - t, t};
                }
            }
            return new Kernel(index, weight);
        }
    }
}
