package dalle2.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle2.json.Json;
import dalle2.models.DecoderConfig;
import dalle2.sampling.PredictionType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TrainRunConfigTest {

    private static final String FILE = "decoder-config.json";
    private static final DecoderConfig STARTED = DecoderConfig.of(32, 32, List.of(1, 2, 2), 1, List.of(8))
            .withConditionDim(256);

    @TempDir
    Path run;

    @Test
    void aResumedRunKeepsTheModelItWasStartedWithWhenTheFlagsAskForTheSameOne() {
        TrainCommand.runConfig(run, FILE, STARTED, DecoderConfig.class, false);
        assertEquals(STARTED, TrainCommand.runConfig(run, FILE, STARTED, DecoderConfig.class, true));
    }

    @Test
    void resumingWithFlagsForAnotherModelIsRefusedNamingEverySettingThatDiffers() {
        TrainCommand.runConfig(run, FILE, STARTED, DecoderConfig.class, false);
        DecoderConfig asked = STARTED.withConditioning(16, DecoderConfig.INJECTION_SCALE_SHIFT).withBaseChannels(48)
                .withPrediction(PredictionType.V);

        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> TrainCommand.runConfig(run, FILE, asked, DecoderConfig.class, true));

        assertTrue(e.getMessage().startsWith(run + " was started with other model settings ("), e.getMessage());
        assertTrue(e.getMessage().contains("base_channels 32 → 48"), e.getMessage());
        assertTrue(e.getMessage().contains("condition_scale 1.0 → 16.0"), e.getMessage());
        assertTrue(e.getMessage().contains("condition_injection add → scale_shift"), e.getMessage());
        assertTrue(e.getMessage().contains("prediction epsilon → v"), e.getMessage());
        assertTrue(e.getMessage().contains("new --out"), e.getMessage());
        assertEquals(STARTED, Json.readFile(run.resolve(FILE), DecoderConfig.class), "the run's config is untouched");
    }

    @Test
    void aConfigWrittenBeforeTheConditioningSettingsExistedMatchesTheirDefaults() throws Exception {
        String older = Json.write(STARTED).replaceAll(",\\s*\"condition_scale\"\\s*:\\s*1\\.0", "")
                .replaceAll(",\\s*\"condition_injection\"\\s*:\\s*\"add\"", "");
        assertFalse(older.contains("condition_scale") || older.contains("condition_injection"), older);
        Files.writeString(run.resolve(FILE), older);

        assertEquals(STARTED, TrainCommand.runConfig(run, FILE, STARTED, DecoderConfig.class, true));
    }

    @Test
    void withoutResumeTheFlagsStartANewRunConfig() {
        TrainCommand.runConfig(run, FILE, STARTED, DecoderConfig.class, false);
        DecoderConfig other = STARTED.withBaseChannels(64);
        assertEquals(other, TrainCommand.runConfig(run, FILE, other, DecoderConfig.class, false));
        assertEquals(other, Json.readFile(run.resolve(FILE), DecoderConfig.class));
    }
}
