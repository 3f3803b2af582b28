package dalle2.trainer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.GraphicsEnvironment;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LossLogTest {

    @TempDir
    Path dir;

    @Test
    void theCsvKeepsItsFormatOneRowPerStep() throws Exception {
        LossLog log = new LossLog(dir.resolve("losses.csv"), dir.resolve("loss.png"), "decoder");
        log.record(1, 0.123456789f, 3e-4f, 1.5f, 0.72);
        log.record(2, 0.0987f, 2.5e-4f, 0.25f, 0.7049);
        log.flush();
        assertEquals(List.of("step,loss,lr,grad_norm,seconds", "1,0.123457,0.000300000,1.50000,0.7200",
                "2,0.0987000,0.000250000,0.250000,0.7049"), Files.readAllLines(dir.resolve("losses.csv")));
    }

    @Test
    void thePlotIsDrawnWithoutADisplayWithBothSeries() throws Exception {
        System.setProperty("java.awt.headless", "true");
        assertTrue(GraphicsEnvironment.isHeadless(), "this test proves the plot needs no display");
        LossLog log = new LossLog(dir.resolve("losses.csv"), dir.resolve("out/loss.png"), "prior");
        for (int step = 1; step <= 300; step++) {
            log.record(step, (float) (1.0 / Math.sqrt(step) * (1 + 0.3 * Math.sin(step))), 1e-4f, 1f, 0.1);
        }
        log.flush();
        log.plot();

        BufferedImage png = ImageIO.read(dir.resolve("out/loss.png").toFile());
        assertEquals(LossLog.WIDTH, png.getWidth());
        assertEquals(LossLog.HEIGHT, png.getHeight());
        assertTrue(hasPixel(png, LossLog.SMOOTHED_COLOR.getRGB()), "the moving average is drawn");
        assertTrue(hasPixel(png, LossLog.RAW_COLOR.getRGB()), "the raw loss is drawn");
    }

    @Test
    void aRunWithFewerThanTwoFiniteLossesDrawsNothing() throws Exception {
        LossLog log = new LossLog(dir.resolve("losses.csv"), dir.resolve("loss.png"), "clip");
        log.record(1, Float.NaN, 1e-4f, 1f, 0.1);
        log.record(2, 0.5f, 1e-4f, 1f, 0.1);
        log.flush();
        log.plot();
        assertFalse(Files.exists(dir.resolve("loss.png")));
    }

    @Test
    void theMovingAverageIsTheGeometricMeanOfTheTrailingWindow() {
        List<Double> smoothed = LossLog.geometricMovingAverage(List.of(1.0, 4.0, 16.0, 1.0), 2);
        assertEquals(1.0, smoothed.get(0), 1e-12);
        assertEquals(2.0, smoothed.get(1), 1e-12);
        assertEquals(8.0, smoothed.get(2), 1e-12);
        assertEquals(4.0, smoothed.get(3), 1e-12);
    }

    private static boolean hasPixel(BufferedImage image, int rgb) {
        for (int y = 0; y < image.getHeight(); y++) {
            for (int x = 0; x < image.getWidth(); x++) {
                if ((image.getRGB(x, y) & 0xffffff) == (rgb & 0xffffff)) {
                    return true;
                }
            }
        }
        return false;
    }
}
