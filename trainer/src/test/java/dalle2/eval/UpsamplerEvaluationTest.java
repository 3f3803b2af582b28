package dalle2.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.util.List;
import org.junit.jupiter.api.Test;

class UpsamplerEvaluationTest {

    @Test
    void psnrIsInfinitelyGoodForIdenticalImagesAndFallsWithTheError() {
        BufferedImage white = filled(Color.WHITE);
        BufferedImage grey = filled(new Color(230, 230, 230));
        BufferedImage darker = filled(new Color(200, 200, 200));
        assertEquals(100, UpsamplerEvaluation.psnr(List.of(white), List.of(white)));
        double close = UpsamplerEvaluation.psnr(List.of(white), List.of(grey));
        double far = UpsamplerEvaluation.psnr(List.of(white), List.of(darker));
        // an error of 25/255 everywhere is 20·log10(255/25) dB
        assertEquals(20 * Math.log10(255.0 / 25), close, 1e-9);
        assertTrue(far < close);
    }

    @Test
    void sharpnessSeesEdgesAndNotFlatImages() {
        assertEquals(0, UpsamplerEvaluation.sharpness(filled(Color.WHITE)));
        BufferedImage hard = filled(Color.WHITE);
        Graphics2D g = hard.createGraphics();
        g.setColor(Color.BLACK);
        g.fillRect(0, 0, 32, 64);
        g.dispose();
        BufferedImage soft = filled(Color.WHITE);
        for (int x = 0; x < 64; x++) {
            int v = Math.max(0, Math.min(255, (x - 16) * 8));
            for (int y = 0; y < 64; y++) {
                soft.setRGB(x, y, new Color(v, v, v).getRGB());
            }
        }
        // both climb 255 levels once a row, the hard edge in one step: same total variation, more gradient energy
        assertTrue(UpsamplerEvaluation.sharpness(hard) > 4 * UpsamplerEvaluation.sharpness(soft));
    }

    @Test
    void onlyTilesWithContentInTheOriginalAreCompared() {
        BufferedImage image = filled(Color.WHITE);
        Graphics2D g = image.createGraphics();
        g.setColor(Color.RED);
        g.fillOval(40, 40, 10, 10);   // inside tile (32, 32)
        g.dispose();
        List<int[]> tiles = UpsamplerEvaluation.contentTiles(List.of(image));
        assertEquals(1, tiles.size());
        assertEquals(List.of(0, 32, 32), List.of(tiles.get(0)[0], tiles.get(0)[1], tiles.get(0)[2]));
    }

    private static BufferedImage filled(Color color) {
        BufferedImage image = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setColor(color);
        g.fillRect(0, 0, 64, 64);
        g.dispose();
        return image;
    }
}
