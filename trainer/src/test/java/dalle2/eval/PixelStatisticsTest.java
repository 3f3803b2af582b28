package dalle2.eval;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.util.List;
import org.junit.jupiter.api.Test;

class PixelStatisticsTest {

    @Test
    void meanGreyAndNearWhiteShareOfAHalfWhiteHalfGreyImage() {
        BufferedImage image = new BufferedImage(4, 4, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        g.setColor(new Color(102, 102, 102));          // grey level 0.4
        g.fillRect(0, 0, 4, 4);
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, 4, 2);
        g.dispose();
        PixelStatistics stats = PixelStatistics.of(List.of(image, image));
        assertEquals(0.7, stats.mean(), 1e-9);
        assertEquals(0.5, stats.brightShare(), 1e-9);
    }

    @Test
    void aColourCountsByItsMeanOfChannels() {
        BufferedImage image = new BufferedImage(1, 1, BufferedImage.TYPE_INT_RGB);
        image.setRGB(0, 0, 0xff0000);
        assertEquals(1.0 / 3, PixelStatistics.of(List.of(image)).mean(), 1e-9);
        assertEquals(0, PixelStatistics.of(List.of()).mean());
    }
}
