package dalle2.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle2.json.Json;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClipConfigTest {

    @TempDir
    Path dir;

    @Test
    void roundTripsThroughSnakeCaseConfigJson() throws Exception {
        Path file = dir.resolve("config.json");
        ClipConfig.small().write(file);
        String json = Files.readString(file);
        for (String key : List.of("\"model_type\" : \"clip\"", "\"format_version\" : 1", "\"embedding_dim\" : 256",
                "\"context_length\"", "\"vocab_size\"", "\"text_width\"", "\"image_widths\"", "\"init_temperature\" : 0.07")) {
            assertTrue(json.contains(key), key + " in " + json);
        }
        assertEquals(ClipConfig.small(), ClipConfig.read(file));
    }

    @Test
    void theLogitScaleStartsAtTheInverseTemperature() {
        assertEquals(Math.log(1 / 0.07), ClipConfig.tiny().initLogLogitScale(), 1e-12);
    }

    @Test
    void inconsistentArchitecturesAreRefusedWithTheReason() {
        ClipConfig t = ClipConfig.tiny();
        IllegalArgumentException heads = assertThrows(IllegalArgumentException.class, () -> new ClipConfig("clip", 1,
                32, 8, 64, 30, 1, 4, 16, 3, List.of(8, 16), 1, 0.07));
        assertTrue(heads.getMessage().contains("text_width 30 is not divisible by text_heads 4"), heads.getMessage());
        IllegalArgumentException size = assertThrows(IllegalArgumentException.class, () -> new ClipConfig("clip", 1,
                32, 8, 64, 32, 1, 2, 18, 3, List.of(8, 16, 32), 1, 0.07));
        assertTrue(size.getMessage().contains("image_size 18 must be a multiple of 4"), size.getMessage());
        IllegalArgumentException temperature = assertThrows(IllegalArgumentException.class, () -> new ClipConfig(
                "clip", 1, 32, 8, 64, 32, 1, 2, 16, 3, List.of(8, 16), 1, 0.001));
        assertTrue(temperature.getMessage().contains("init_temperature"), temperature.getMessage());
        assertThrows(IllegalArgumentException.class, () -> t.withVocabSize(4));
    }

    @Test
    void anotherModelsConfigIsNotReadAsClip() throws Exception {
        Path file = dir.resolve("config.json");
        Files.writeString(file, Json.write(ClipConfig.tiny()).replace("\"clip\"", "\"prior\""));
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> ClipConfig.read(file));
        assertTrue(e.getMessage().contains("model_type must be \"clip\", got prior"), e.getMessage());
    }
}
