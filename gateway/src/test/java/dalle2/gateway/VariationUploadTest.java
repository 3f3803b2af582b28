package dalle2.gateway;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** What {@link VariationUpload} makes of uploads: any colour mode in, an RGB PNG of at most 128 px out. */
class VariationUploadTest {

    private static byte[] encode(BufferedImage image, String format) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        assertTrue(ImageIO.write(image, format, out), "the JDK writes " + format);
        return out.toByteArray();
    }

    private static BufferedImage read(byte[] png) throws Exception {
        return ImageIO.read(new ByteArrayInputStream(png));
    }

    private static BufferedImage painted(int type, int w, int h) {
        BufferedImage image = new BufferedImage(w, h, type);
        Graphics2D g = image.createGraphics();
        g.setColor(Color.RED);
        g.fillRect(0, 0, w / 2, h);
        g.setColor(Color.BLUE);
        g.fillRect(w / 2, 0, w - w / 2, h);
        g.dispose();
        return image;
    }

    @ParameterizedTest
    @ValueSource(ints = {BufferedImage.TYPE_INT_RGB, BufferedImage.TYPE_INT_ARGB, BufferedImage.TYPE_BYTE_GRAY,
            BufferedImage.TYPE_USHORT_GRAY, BufferedImage.TYPE_BYTE_INDEXED, BufferedImage.TYPE_3BYTE_BGR})
    void everyColourModeOfAPngBecomesAnRgbPngOfTheCentreSquareAtMost128Px(int type) throws Exception {
        byte[] out = VariationUpload.normalise(encode(painted(type, 400, 300), "png"), VariationUpload.PNG);
        BufferedImage image = read(out);
        assertEquals(128, image.getWidth());
        assertEquals(128, image.getHeight());
        assertEquals(3, image.getColorModel().getNumComponents(), "RGB, no alpha");
        assertEquals(8, image.getColorModel().getComponentSize(0));
    }

    @Test
    void jpegsInColourAndGreyAreRead() throws Exception {
        for (int type : new int[] {BufferedImage.TYPE_INT_RGB, BufferedImage.TYPE_BYTE_GRAY}) {
            BufferedImage image = read(VariationUpload.normalise(encode(painted(type, 64, 64), "jpeg"),
                    VariationUpload.JPEG));
            assertEquals(64, image.getWidth(), "a small image keeps its size");
        }
    }

    @Test
    void transparencyIsCompositedOnWhiteAndTheCentreSquareIsAreaAveraged() throws Exception {
        BufferedImage clear = new BufferedImage(300, 256, BufferedImage.TYPE_INT_ARGB);   // all transparent
        Graphics2D g = clear.createGraphics();
        g.setColor(Color.BLACK);
        g.fillRect(22, 0, 128, 256);                                                       // left half of the square
        g.dispose();
        BufferedImage out = read(VariationUpload.normalise(encode(clear, "png"), VariationUpload.PNG));
        assertEquals(0x000000, out.getRGB(10, 64) & 0xffffff, "the square's left half is black");
        assertEquals(0xffffff, out.getRGB(100, 64) & 0xffffff, "transparent becomes white");
        assertEquals(128, out.getWidth(), "256 px averaged 2 x 2 into 128");
    }

    @Test
    void theSameUploadGivesTheSameBytes() throws Exception {
        byte[] png = encode(painted(BufferedImage.TYPE_INT_RGB, 200, 200), "png");
        assertArrayEquals(VariationUpload.normalise(png, VariationUpload.PNG),
                VariationUpload.normalise(png, VariationUpload.PNG), "so the job's image hash is stable");
    }

    @Test
    void aBodyThatIsNotTheDeclaredFormatOrNotAnImageIsInvalidImageNamingTheProblem() throws Exception {
        byte[] jpeg = encode(painted(BufferedImage.TYPE_INT_RGB, 16, 16), "jpeg");
        ApiError wrong = assertThrows(ApiError.class, () -> VariationUpload.normalise(jpeg, VariationUpload.PNG));
        assertEquals("invalid_image", wrong.code());
        assertEquals("image", wrong.field());
        assertTrue(wrong.getMessage().contains("its first bytes say JPEG"), wrong.getMessage());
        byte[] truncated = java.util.Arrays.copyOf(encode(painted(BufferedImage.TYPE_INT_RGB, 64, 64), "png"), 60);
        ApiError broken = assertThrows(ApiError.class, () -> VariationUpload.normalise(truncated, VariationUpload.PNG));
        assertTrue(broken.getMessage().startsWith("the image cannot be decoded"), broken.getMessage());
        assertEquals(400, assertThrows(ApiError.class,
                () -> VariationUpload.normalise(new byte[0], VariationUpload.PNG)).status());
    }

    @Test
    void aPngThatDeclaresHugeDimensionsIsRefusedBeforeItsPixelsAreDecoded() throws Exception {
        byte[] bomb = pngHeaderOnly(100_000, 100_000);
        ApiError e = assertThrows(ApiError.class, () -> VariationUpload.normalise(bomb, VariationUpload.PNG));
        assertTrue(e.getMessage().contains("100000 x 100000 px; at most 4096 px a side"), e.getMessage());
    }

    /** A PNG signature and a valid IHDR chunk (RGB, 8 bit) declaring w x h, and nothing else. */
    static byte[] pngHeaderOnly(int w, int h) {
        ByteBuffer ihdr = ByteBuffer.allocate(17);
        ihdr.put("IHDR".getBytes()).putInt(w).putInt(h).put((byte) 8).put((byte) 2).put((byte) 0).put((byte) 0)
                .put((byte) 0);
        CRC32 crc = new CRC32();
        crc.update(ihdr.array());
        ByteBuffer png = ByteBuffer.allocate(8 + 4 + 17 + 4);
        png.put(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'}).putInt(13).put(ihdr.array())
                .putInt((int) crc.getValue());
        return png.array();
    }
}
