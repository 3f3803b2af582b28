package dalle2.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SvgRendererTest {

    static byte[] resource(String name) throws IOException {
        try (InputStream in = SvgRendererTest.class.getResourceAsStream("/emoji-svg/" + name)) {
            if (in == null) {
                throw new IOException("no test resource emoji-svg/" + name);
            }
            return in.readAllBytes();
        }
    }

    private static int[] pixels(BufferedImage image) {
        return image.getRGB(0, 0, image.getWidth(), image.getHeight(), null, 0, image.getWidth());
    }

    @ParameterizedTest
    @ValueSource(strings = {"twemoji-1f34e.svg", "openmoji-1F600.svg", "fluent-flat-red-apple.svg"})
    void realIconsRenderAtTheRequestedSideNonBlankAndTheSameEveryTime(String icon) throws IOException {
        byte[] svg = resource(icon);

        BufferedImage first = SvgRenderer.render(svg, SvgRenderer.RENDER_SIZE, icon);
        BufferedImage second = SvgRenderer.render(svg, SvgRenderer.RENDER_SIZE, icon);

        assertEquals(256, first.getWidth());
        assertEquals(256, first.getHeight());
        int[] p = pixels(first);
        long opaque = java.util.Arrays.stream(p).filter(x -> (x >>> 24) == 255).count();
        long transparent = java.util.Arrays.stream(p).filter(x -> (x >>> 24) == 0).count();
        assertTrue(opaque > 256 * 256 / 10, icon + ": only " + opaque + " opaque pixels");
        assertTrue(transparent > 256 * 256 / 20, icon + ": the background should stay transparent, " + transparent);
        assertEquals(0, first.getRGB(0, 0) >>> 24, "the corner is background");
        assertArrayEquals(p, pixels(second), icon + " renders differently the second time");
    }

    @Test
    void theTwemojiAppleIsRedInTheMiddleAndWhiteInTheCornerOnceComposited() throws IOException {
        BufferedImage rgb = SvgRenderer.toSquareRgb(resource("twemoji-1f34e.svg"), 32, "apple");

        assertEquals(32, rgb.getWidth());
        assertEquals(BufferedImage.TYPE_INT_RGB, rgb.getType());
        assertEquals(0xFFFFFF, Fixtures.rgb(rgb, 0, 0), "transparency is composited on white");
        int centre = Fixtures.rgb(rgb, 16, 20);
        assertEquals(0xDD2E44, centre, String.format("the apple's fill #DD2E44, got %06X", centre));
    }

    @Test
    void aSimpleShapeLandsWhereItsViewBoxPutsIt() throws IOException {
        String svg = "<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 10 10'>"
                + "<rect x='0' y='0' width='5' height='10' fill='#0000ff'/></svg>";

        BufferedImage image = SvgRenderer.render(svg.getBytes(StandardCharsets.UTF_8), 64, "half");

        assertEquals(0xFF0000FF, image.getRGB(10, 32), "left half blue");
        assertEquals(0, image.getRGB(50, 32) >>> 24, "right half transparent");
    }

    @Test
    void bytesThatAreNoSvgAreAnIOException() {
        IOException e = assertThrows(IOException.class, () -> SvgRenderer.render("not svg".getBytes(StandardCharsets.UTF_8), 32, "junk"));
        assertTrue(e.getMessage().contains("junk"), e.getMessage());
    }
}
