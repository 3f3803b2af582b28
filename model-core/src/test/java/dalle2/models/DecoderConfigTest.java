package dalle2.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle2.json.Json;
import dalle2.sampling.NoiseScheduler;
import dalle2.sampling.PredictionType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DecoderConfigTest {

    @Test
    void isWrittenAsSnakeCaseJsonAndReadBackEqual(@TempDir Path dir) throws IOException {
        DecoderConfig config = DecoderConfig.seed();
        config.write(dir);

        String json = Files.readString(dir.resolve("config.json"));
        assertTrue(json.contains("\"model_type\" : \"decoder\""), json);
        assertTrue(json.contains("\"channel_multipliers\" : [ 1, 2, 4 ]"), json);
        assertTrue(json.contains("\"attention_resolutions\" : [ 16 ]"), json);
        assertTrue(json.contains("\"conditioning_dropout\" : 0.1"), json);
        assertEquals(config, DecoderConfig.read(dir));
    }

    @Test
    void seedAndTinyAreValidAndUseTheDefaults() {
        DecoderConfig seed = DecoderConfig.seed();
        assertEquals(64, seed.imageSize());
        assertEquals(List.of(64, 128, 256), List.of(seed.channelsAt(0), seed.channelsAt(1), seed.channelsAt(2)));
        assertEquals(3, seed.imageChannels());
        assertEquals(512, seed.conditionDim());
        assertEquals(256, seed.timeEmbedDim());
        assertEquals(1000, seed.timesteps());
        assertEquals(NoiseScheduler.Schedule.COSINE, seed.noiseSchedule());
        assertEquals(PredictionType.EPSILON, seed.predictionType());
        assertTrue(seed.attentionAt(2) && !seed.attentionAt(0));
        assertEquals(32, DecoderConfig.tiny().imageSize());
    }

    @Test
    void refusesBadFieldsNamingThem() {
        DecoderConfig ok = DecoderConfig.tiny();
        assertMessage("image_size", () -> DecoderConfig.of(48, 16, List.of(1, 2), 1, List.of()));
        assertMessage("attention_resolutions entry 12", () -> DecoderConfig.of(32, 16, List.of(1, 2), 1, List.of(12)));
        assertMessage("channel_multipliers", () -> DecoderConfig.of(32, 16, List.of(), 1, List.of()));
        assertMessage("too many", () -> DecoderConfig.of(32, 16, List.of(1, 1, 1, 1, 1, 1, 1), 1, List.of()));
        assertMessage("base_channels", () -> ok.withBaseChannels(0));
        assertMessage("attention_heads 4 must divide the 18 channels", () -> DecoderConfig.of(32, 9, List.of(1, 2), 1,
                List.of(16)));
        assertMessage("condition_dim", () -> ok.withConditionDim(-1));
        assertMessage("dropout", () -> ok.withDropout(1.5, 0.1));
        assertMessage("conditioning_dropout", () -> ok.withDropout(0, 1.0));
        assertMessage("noise schedule 'quadratic'", () -> ok.withDiffusion(1000, "quadratic", "epsilon"));
        assertMessage("prediction type 'x0'", () -> ok.withDiffusion(1000, "linear", "x0"));
        assertMessage("timesteps", () -> ok.withDiffusion(1, "linear", "epsilon"));
    }

    @Test
    void aFileOfAnotherModelTypeOrVersionIsRefused(@TempDir Path dir) throws IOException {
        String json = Json.write(DecoderConfig.tiny());
        Files.writeString(dir.resolve("config.json"), json.replace("\"model_type\":\"decoder\"", "\"model_type\":\"prior\""));
        assertMessage("model_type must be \"decoder\", got \"prior\"", () -> DecoderConfig.read(dir));

        Files.writeString(dir.resolve("config.json"), json.replace("\"format_version\":1", "\"format_version\":9"));
        assertMessage("format_version 9", () -> DecoderConfig.read(dir));
    }

    @Test
    void aFileWrittenBeforeTheConditioningFieldsReadsAsAPlainAddedEmbedding(@TempDir Path dir) throws IOException {
        DecoderConfig scaled = DecoderConfig.tiny().withConditioning(16, DecoderConfig.INJECTION_SCALE_SHIFT);
        scaled.write(dir);
        assertEquals(scaled, DecoderConfig.read(dir));
        String json = Json.write(DecoderConfig.tiny());
        assertTrue(json.contains(",\"condition_scale\":1.0,\"condition_injection\":\"add\""), json);
        Files.writeString(dir.resolve("config.json"),
                json.replace(",\"condition_scale\":1.0,\"condition_injection\":\"add\"", ""));
        DecoderConfig old = DecoderConfig.read(dir);
        assertEquals(1.0, old.conditionScale());
        assertEquals(DecoderConfig.INJECTION_ADD, old.conditionInjection());
        assertEquals(DecoderConfig.tiny(), old);
    }

    @Test
    void refusesAnUnknownInjectionOrANonPositiveScale() {
        assertMessage("condition_injection", () -> DecoderConfig.tiny().withConditioning(1, "film"));
        assertMessage("condition_scale", () -> DecoderConfig.tiny().withConditioning(0, DecoderConfig.INJECTION_ADD));
    }

    @Test
    void aFileWithAMissingFieldIsRefused(@TempDir Path dir) throws IOException {
        String json = Json.write(DecoderConfig.tiny());
        Files.writeString(dir.resolve("config.json"), json.replace("\"base_channels\":16,", ""));
        assertMessage("base_channels", () -> DecoderConfig.read(dir));
    }

    private static void assertMessage(String expected, org.junit.jupiter.api.function.Executable action) {
        RuntimeException error = assertThrows(RuntimeException.class, action);
        assertTrue(error.getMessage().contains(expected), "expected '" + expected + "' in: " + error.getMessage());
    }
}
