package dalle2.trainer.worker;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle2.messages.InvalidMessageException;
import dalle2.sampling.PredictionType;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TrainingSettingsTest {

    @Test
    void aDecoderJobPredictsEpsilonUnlessItAsksForAnotherPrediction() {
        assertEquals(PredictionType.EPSILON, new TrainingSettings("decoder", 10, Map.of()).prediction());
        assertEquals(PredictionType.V, new TrainingSettings("decoder", 10, Map.of("prediction", "v")).prediction());
    }

    @Test
    void anUnknownPredictionIsRefusedNamingTheHyperParameter() {
        InvalidMessageException e = assertThrows(InvalidMessageException.class,
                () -> new TrainingSettings("decoder", 10, Map.of("prediction", "noise")).prediction());
        assertEquals("hyper_parameters.prediction", e.field());
        assertTrue(e.getMessage().contains("expected epsilon, sample or v"), e.getMessage());
    }
}
