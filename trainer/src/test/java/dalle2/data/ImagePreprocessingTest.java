package dalle2.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import org.junit.jupiter.api.Test;

class ImagePreprocessingTest {

    @Test
    void aTransparentPixelBecomesWhiteAndAnOpaqueOneKeepsItsColour() throws IOException {
        BufferedImage rgba = ImagePreprocessing.decode(Fixtures.png(2, 1, (x, y) -> x == 0 ? 0x00123456 : 0xFF204080), "fixture");

        BufferedImage rgb = ImagePreprocessing.toRgb(rgba, ImagePreprocessing.WHITE);

        assertEquals(BufferedImage.TYPE_INT_RGB, rgb.getType());
        assertEquals(0xFFFFFF, Fixtures.rgb(rgb, 0, 0));
        assertEquals(0x204080, Fixtures.rgb(rgb, 1, 0));
    }

    @Test
    void halfTransparentRedIsBlendedWithWhite() throws IOException {
        BufferedImage rgba = ImagePreprocessing.decode(Fixtures.png(1, 1, (x, y) -> 0x80FF0000), "fixture");

        int p = Fixtures.rgb(ImagePreprocessing.toRgb(rgba, ImagePreprocessing.WHITE), 0, 0);

        assertEquals(0xFF, p >> 16);
        assertEquals(127, (p >> 8) & 0xFF, 1);
        assertEquals(127, p & 0xFF, 1);
    }

    @Test
    void theDirectPathForDecodedRgbaPngsAgreesWithTheGeneralOne() throws IOException {
        java.util.function.IntBinaryOperator pattern = (x, y) -> ((x * 37 + y * 11) & 0xFF) << 24 | (x * 4) << 16 | (y * 4) << 8 | 0x5A;
        BufferedImage decoded = ImagePreprocessing.decode(Fixtures.png(64, 64, pattern), "fixture");
        BufferedImage argb = new BufferedImage(64, 64, BufferedImage.TYPE_INT_ARGB);
        for (int y = 0; y < 64; y++) {
            for (int x = 0; x < 64; x++) {
                argb.setRGB(x, y, pattern.applyAsInt(x, y));
            }
        }

        BufferedImage fast = ImagePreprocessing.toRgb(decoded, ImagePreprocessing.WHITE);
        BufferedImage general = ImagePreprocessing.toRgb(argb, ImagePreprocessing.WHITE);

        assertEquals(BufferedImage.TYPE_4BYTE_ABGR, decoded.getType());
        for (int y = 0; y < 64; y++) {
            for (int x = 0; x < 64; x++) {
                assertEquals(Fixtures.rgb(general, x, y), Fixtures.rgb(fast, x, y), "pixel " + x + "," + y);
            }
        }
    }

    @Test
    void greyImagesKeepTheirValuesAsRgb() {
        BufferedImage grey = new BufferedImage(2, 1, BufferedImage.TYPE_BYTE_GRAY);
        grey.getRaster().setSample(0, 0, 0, 128);
        grey.getRaster().setSample(1, 0, 0, 7);

        BufferedImage rgb = ImagePreprocessing.toRgb(grey, ImagePreprocessing.WHITE);

        // Java2D's own conversion would treat the grey as linear light and brighten 128 to about 196
        assertEquals(0x808080, Fixtures.rgb(rgb, 0, 0));
        assertEquals(0x070707, Fixtures.rgb(rgb, 1, 0));
    }

    @Test
    void halvingAveragesEachTwoByTwoBlock() {
        BufferedImage checker = new BufferedImage(4, 4, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 4; x++) {
                checker.setRGB(x, y, (x + y) % 2 == 0 ? 0xFFFFFF : 0x000000);
            }
        }
        checker.setRGB(3, 3, 0xFF0000); // block (1,1) holds red, black, black, white... (x+y even) -> white except this

        BufferedImage half = ImagePreprocessing.resize(checker, 2, 2);

        assertEquals(0x808080, Fixtures.rgb(half, 0, 0)); // two white, two black: 127.5 rounds to 128
        int p = Fixtures.rgb(half, 1, 1); // white (2,2), black (3,2), black (2,3), red (3,3)
        assertEquals(0x80, p >> 16);
        assertEquals(0x40, (p >> 8) & 0xFF);
        assertEquals(0x40, p & 0xFF);
    }

    @Test
    void aNonSquareImageIsCentredOnWhiteThenResized() throws IOException {
        BufferedImage wide = ImagePreprocessing.decode(Fixtures.png(8, 4, (x, y) -> 0xFF0000FF), "fixture");

        BufferedImage out = ImagePreprocessing.toSquareRgb(wide, 8);

        assertEquals(8, out.getWidth());
        assertEquals(8, out.getHeight());
        assertEquals(0xFFFFFF, Fixtures.rgb(out, 4, 0)); // top band is padding
        assertEquals(0xFFFFFF, Fixtures.rgb(out, 4, 7)); // bottom band too
        assertEquals(0x0000FF, Fixtures.rgb(out, 4, 3));
        assertEquals(0x0000FF, Fixtures.rgb(out, 0, 4));
    }

    @Test
    void enlargingAConstantImageKeepsItConstant() {
        BufferedImage small = new BufferedImage(3, 3, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 3; y++) {
            for (int x = 0; x < 3; x++) {
                small.setRGB(x, y, 0x336699);
            }
        }

        BufferedImage big = ImagePreprocessing.resize(small, 7, 7);

        for (int y = 0; y < 7; y++) {
            for (int x = 0; x < 7; x++) {
                assertEquals(0x336699, Fixtures.rgb(big, x, y));
            }
        }
    }

    @Test
    void bytesThatAreNotAnImageGiveAnIoExceptionNamingThem() {
        IOException e = assertThrows(IOException.class, () -> ImagePreprocessing.decode("not a png".getBytes(), "x.png"));
        assertTrue(e.getMessage().contains("x.png"), e.getMessage());
    }
}
