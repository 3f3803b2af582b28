package dalle2.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle2.messages.GenerationRequest;
import dalle2.messages.ImageEmbeddings;
import dalle2.messages.SamplerKind;
import dalle2.messages.SamplingParams;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class SamplingParamsTest {

    @Test
    void aJobsSamplerReachesThePriorsSettingsAndSettingsDifferBySampler() {
        GenerationRequest dpm = GenerationRequest.of("j", "p", 1, 1L, 20, 15, 0.0, 2.0, 5.0, "dpmpp-2m",
                Instant.parse("2026-12-01T00:00:00Z"), null);
        SamplingParams prior = EmbedTask.params(dpm);
        assertEquals(new SamplingParams(20, 0f, 2f, SamplerKind.DPMPP_2M), prior);
        // workers batch only equal settings: the same steps with another sampler is another batch
        assertNotEquals(new SamplingParams(20, 0f, 2f), prior);
        assertEquals(SamplerKind.DDIM, new SamplingParams(20, 0f, 2f).sampler());
    }

    @Test
    void eachStageGetsItsOwnSamplerAndEtaReachesOnlyTheDdimOne() {
        GenerationRequest split = GenerationRequest.of("j", "p", 1, 1L, null, 50, 0.5, 2.0, 5.0, "ddim", "dpmpp-2m",
                null, Instant.parse("2026-12-01T00:00:00Z"), null);
        assertEquals(new SamplingParams(20, 0f, 2f, SamplerKind.DPMPP_2M), EmbedTask.params(split));
        ImageEmbeddings embeddings = ImageEmbeddings.of(split, "prior@test", java.util.List.of(new float[] {0f}),
                Instant.now(), Instant.now());
        assertEquals(new SamplingParams(50, 0.5f, 5f, SamplerKind.DDIM), DecodeTask.params(embeddings));
    }

    @Test
    void etaAboveZeroIsOnlyForDdim() {
        assertEquals(0.5f, new SamplingParams(10, 0.5f, 1f, SamplerKind.DDIM).eta());
        IllegalArgumentException refused = assertThrows(IllegalArgumentException.class,
                () -> new SamplingParams(10, 0.5f, 1f, SamplerKind.DPMPP_2M));
        assertTrue(refused.getMessage().contains("eta must be 0 with the dpmpp-2m sampler"), refused.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new SamplingParams(10, 0f, 1f, null));
    }
}
