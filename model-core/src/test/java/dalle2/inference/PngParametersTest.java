package dalle2.inference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle2.json.Json;
import dalle2.messages.GenerationRequest;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;

/** The parameters a PNG carries in its iTXt chunks, read back by the JDK's PNG reader. */
class PngParametersTest {

    private static BufferedImage image() {
        BufferedImage image = new BufferedImage(4, 4, BufferedImage.TYPE_INT_RGB);
        image.setRGB(1, 2, 0x123456);
        return image;
    }

    @Test
    void aPngCarriesThePromptAndEveryParameterAndModelVersionAsUtf8Text() throws Exception {
        GenerationRequest r = GenerationRequest.of("j", "a café ☕ at night", 2, 77L, 5, 6, 0.0, 2.5, 4.5, "dpmpp-2m",
                64, Instant.now(), null);
        byte[] png = PngParameters.png(image(), r, 1, Map.of("prior", "p-1", "decoder", "d-2", "upsampler", "u-3"));
        Map<String, String> text = PngParameters.read(png);
        assertEquals("a café ☕ at night", text.get(PngParameters.DESCRIPTION), "iTXt is UTF-8");
        var p = Json.mapper().readTree(text.get(PngParameters.PARAMETERS));
        assertEquals("generation", p.path("kind").asText());
        assertEquals(1, p.path("index").asInt());
        assertEquals(77L, p.path("seed").asLong());
        assertEquals(5, p.path("prior_steps").asInt());
        assertEquals(6, p.path("decoder_steps").asInt());
        assertEquals(2.5, p.path("prior_guidance").asDouble());
        assertEquals(4.5, p.path("decoder_guidance").asDouble());
        assertEquals("dpmpp-2m", p.path("sampler").asText());
        assertEquals(64, p.path("size").asInt());
        assertEquals("d-2", p.path("models").path("decoder").asText());
        assertEquals("u-3", p.path("models").path("upsampler").asText());

        BufferedImage back = ImageIO.read(new ByteArrayInputStream(png));
        assertEquals(0x123456, back.getRGB(1, 2) & 0xffffff, "the pixels are untouched");
        String raw = new String(png, StandardCharsets.ISO_8859_1);
        assertTrue(raw.contains("iTXt" + PngParameters.PARAMETERS), "an iTXt chunk named dalle2:parameters");
    }

    @Test
    void theSameParametersAndPixelsGiveTheSameBytesWhateverTheJobId() {
        GenerationRequest a = GenerationRequest.of("job-a", "same", 1, 3L, 2, 2, 0.0, 1.0, 1.0, Instant.now(), null);
        GenerationRequest b = a.withJobId("job-b").withSubmittedAt(Instant.now().plusSeconds(60));
        assertArrayEquals(PngParameters.png(image(), a, 0, Map.of("decoder", "d")),
                PngParameters.png(image(), b, 0, Map.of("decoder", "d")), "a redelivered job rewrites the same bytes");
    }

    @Test
    void aVariationNamesItsSourceImageByHash() throws Exception {
        GenerationRequest v = GenerationRequest.variation("v", "variations", 1, 1L, 2, null, null, null, null,
                new byte[] {1, 2, 3}, Instant.now(), null);
        var p = Json.mapper().readTree(PngParameters.read(PngParameters.png(image(), v, 0, Map.of()))
                .get(PngParameters.PARAMETERS));
        assertEquals("variation", p.path("kind").asText());
        assertEquals(v.imageSha256(), p.path("image_sha256").asText());
    }
}
