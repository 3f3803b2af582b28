package dalle2.eval;

import java.awt.image.BufferedImage;
import java.util.List;

/**
 * The brightness of a set of images, to compare generated garments with real ones: the mean grey level and the
 * share of near-white pixels, both in [0, 1]. Classifier-free guidance that is too strong saturates images
 * towards white, which a classifier that looks at shapes does not punish; these two figures show it.
 *
 * @param mean        mean grey level, (R + G + B) / 3 / 255 per pixel
 * @param brightShare share of pixels whose grey level is above {@link #BRIGHT}
 */
public record PixelStatistics(double mean, double brightShare) {

    /** The grey level above which a pixel counts as near-white. */
    public static final double BRIGHT = 0.9;

    public static PixelStatistics of(List<BufferedImage> images) {
        double sum = 0;
        long bright = 0;
        long pixels = 0;
        for (BufferedImage image : images) {
            for (int y = 0; y < image.getHeight(); y++) {
                for (int x = 0; x < image.getWidth(); x++) {
                    int rgb = image.getRGB(x, y);
                    double grey = (((rgb >> 16) & 0xff) + ((rgb >> 8) & 0xff) + (rgb & 0xff)) / 3.0 / 255.0;
                    sum += grey;
                    bright += grey > BRIGHT ? 1 : 0;
                    pixels++;
                }
            }
        }
        return pixels == 0 ? new PixelStatistics(0, 0) : new PixelStatistics(sum / pixels, (double) bright / pixels);
    }
}
