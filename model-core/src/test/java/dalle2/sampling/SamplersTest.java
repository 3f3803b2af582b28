package dalle2.sampling;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle2.messages.SamplerKind;
import org.junit.jupiter.api.Test;

class SamplersTest {

    @Test
    void namesParseCaseInsensitivelyAndAnUnknownOneNamesTheChoices() {
        assertEquals(SamplerKind.DDIM, SamplerKind.fromConfigName("ddim"));
        assertEquals(SamplerKind.DPMPP_2M, SamplerKind.fromConfigName("DPMPP-2M"));
        assertEquals("ddim, dpmpp-2m", SamplerKind.names());
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class,
                () -> SamplerKind.fromConfigName("euler"));
        assertTrue(unknown.getMessage().contains("'euler'") && unknown.getMessage().contains("ddim, dpmpp-2m"),
                unknown.getMessage());
    }

    @Test
    void eachKindCreatesItsSamplerAndOnlyDdimTakesEta() {
        NoiseScheduler scheduler = NoiseScheduler.cosine(1000);
        assertInstanceOf(DdimSampler.class, Samplers.create(SamplerKind.DDIM, scheduler, PredictionType.EPSILON, 1f));
        assertInstanceOf(DpmSolverPlusPlus2MSampler.class,
                Samplers.create(SamplerKind.DPMPP_2M, scheduler, PredictionType.EPSILON, 1f));
        assertTrue(SamplerKind.DDIM.acceptsEta());
        assertTrue(!SamplerKind.DPMPP_2M.acceptsEta());
        assertEquals(SamplerKind.DDIM, SamplerKind.DEFAULT);
    }
}
