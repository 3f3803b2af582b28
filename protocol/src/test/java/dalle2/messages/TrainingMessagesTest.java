package dalle2.messages;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TrainingMessagesTest {

    private static final Instant T0 = Instant.parse("2026-12-02T10:00:00Z");

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static TrainingRequest request() {
        return TrainingRequest.of("train-1", "decoder", "fashion-mnist", 500,
                Map.of("batch_size", 16, "lr", 3e-4, "channel_mult", List.of(1, 2, 2), "scale_shift", true),
                "decoder@3f9c0a1b2c3d", T0);
    }

    @Test
    void aTrainingRequestRoundTripsThroughJsonWithSnakeCaseFields() {
        TrainingRequest r = request();
        String json = new String(Messages.encode(r), StandardCharsets.UTF_8);
        assertTrue(json.contains("\"hyper_parameters\":{"), json);
        assertTrue(json.contains("\"base_version\":\"decoder@3f9c0a1b2c3d\""), json);
        assertTrue(json.contains("\"schema_version\":1"), json);
        assertEquals(r, Messages.decode(utf8(json), TrainingRequest.class));
    }

    @Test
    void aMinimalRequestTakesTheTrainersDefaults() {
        TrainingRequest r = Messages.decode(utf8("{\"training_id\":\"t\",\"model\":\"clip\",\"dataset\":\"fashion-mnist\","
                + "\"steps\":10}"), TrainingRequest.class);
        assertEquals(Map.of(), r.hyperParameters());
        assertNull(r.baseVersion());
        assertEquals(1, r.schemaVersion());
    }

    @ParameterizedTest(name = "{0} -> field {1}")
    @CsvSource(delimiter = '|', value = {
            "{\"training_id\":\"t\",\"model\":\"vae\",\"dataset\":\"fashion-mnist\",\"steps\":1}|model",
            "{\"training_id\":\"t\",\"dataset\":\"fashion-mnist\",\"steps\":1}|model",
            "{\"training_id\":\"t/1\",\"model\":\"clip\",\"dataset\":\"fashion-mnist\",\"steps\":1}|training_id",
            "{\"training_id\":\"t\",\"model\":\"clip\",\"steps\":1}|dataset",
            "{\"training_id\":\"t\",\"model\":\"clip\",\"dataset\":\" \",\"steps\":1}|dataset",
            "{\"training_id\":\"t\",\"model\":\"clip\",\"dataset\":\"jsonl:/etc\",\"steps\":1}|dataset",
            "{\"training_id\":\"t\",\"model\":\"clip\",\"dataset\":\"jsonl:pics/../../etc\",\"steps\":1}|dataset",
            "{\"training_id\":\"t\",\"model\":\"clip\",\"dataset\":\"fashion-mnist\"}|steps",
            "{\"training_id\":\"t\",\"model\":\"clip\",\"dataset\":\"fashion-mnist\",\"steps\":0}|steps",
            "{\"training_id\":\"t\",\"model\":\"clip\",\"dataset\":\"fashion-mnist\",\"steps\":\"5\"}|steps",
            "{\"training_id\":\"t\",\"model\":\"clip\",\"dataset\":\"fashion-mnist\",\"steps\":5,\"hyper_parameters\":{\"learning_rate\":0.1}}|hyper_parameters.learning_rate",
            "{\"training_id\":\"t\",\"model\":\"clip\",\"dataset\":\"fashion-mnist\",\"steps\":5,\"hyper_parameters\":{\"width\":64}}|hyper_parameters.width",
            "{\"training_id\":\"t\",\"model\":\"prior\",\"dataset\":\"fashion-mnist\",\"steps\":5,\"hyper_parameters\":{\"batch_size\":\"8\"}}|hyper_parameters.batch_size",
            "{\"training_id\":\"t\",\"model\":\"prior\",\"dataset\":\"fashion-mnist\",\"steps\":5,\"hyper_parameters\":{\"batch_size\":8.5}}|hyper_parameters.batch_size",
            "{\"training_id\":\"t\",\"model\":\"decoder\",\"dataset\":\"fashion-mnist\",\"steps\":5,\"hyper_parameters\":{\"channel_mult\":[]}}|hyper_parameters.channel_mult",
            "{\"training_id\":\"t\",\"model\":\"decoder\",\"dataset\":\"fashion-mnist\",\"steps\":5,\"hyper_parameters\":{\"scale_shift\":1}}|hyper_parameters.scale_shift",
            "{\"training_id\":\"t\",\"model\":\"clip\",\"dataset\":\"fashion-mnist\",\"steps\":5,\"base_version\":\"a b\"}|base_version",
            "{\"training_id\":\"t\",\"model\":\"clip\",\"dataset\":\"fashion-mnist\",\"steps\":5,\"epochs\":3}|epochs",
    })
    void badRequestsAreRefusedNamingTheField(String json, String field) {
        InvalidMessageException e = assertThrows(InvalidMessageException.class,
                () -> Messages.decode(utf8(json), TrainingRequest.class));
        assertEquals(field, e.field(), e.getMessage());
    }

    @Test
    void anUnknownHyperParameterIsNamedWithTheOnesTheModelTakes() {
        InvalidMessageException e = assertThrows(InvalidMessageException.class, () -> TrainingRequest.of("t", "prior",
                "fashion-mnist", 5, Map.of("base_channels", 8), null, T0));
        assertTrue(e.getMessage().contains("'base_channels'") && e.getMessage().contains("width"), e.getMessage());
    }

    @Test
    void aStatusRoundTripsAndKeepsOnlyItsRecentLossesAndSamples() {
        TrainingStatus s = TrainingStatus.queued(request()).running("trainer-a", 0, T0);
        for (int i = 1; i <= TrainingStatus.MAX_LOSSES + 5; i++) {
            s = s.progress(i, new TrainingStatus.LossPoint(i, 1.0 / i, 1e-4), T0);
        }
        for (int i = 1; i <= TrainingStatus.MAX_SAMPLES + 3; i++) {
            s = s.withSample(new TrainingStatus.SampleGrid(i, "trainings/train-1/samples/step-" + i + ".png"), T0);
        }
        s = s.checkpointed(200, T0).succeeded("decoder@0123456789ab", T0.plusSeconds(60));
        assertEquals(TrainingStatus.MAX_LOSSES, s.losses().size());
        assertEquals(6, s.losses().get(0).step());
        assertEquals(TrainingStatus.MAX_SAMPLES, s.samples().size());
        assertEquals(1, s.attempts());
        String json = new String(Messages.encode(s), StandardCharsets.UTF_8);
        assertTrue(json.contains("\"published_version\":\"decoder@0123456789ab\""), json);
        assertTrue(json.contains("\"state\":\"succeeded\""), json);
        assertEquals(s, Messages.decode(utf8(json), TrainingStatus.class));
    }

    @Test
    void aResumedRunCountsItsAttemptAndDropsLossesPastItsCheckpoint() {
        TrainingStatus s = TrainingStatus.queued(request()).running("trainer-a", 0, T0);
        s = s.progress(10, new TrainingStatus.LossPoint(10, 0.5, 1e-4), T0)
                .progress(20, new TrainingStatus.LossPoint(20, 0.4, 1e-4), T0).checkpointed(10, T0)
                .withSample(new TrainingStatus.SampleGrid(10, "k10"), T0).withSample(new TrainingStatus.SampleGrid(20, "k20"), T0);
        TrainingStatus resumed = s.running("trainer-b", 10, T0.plusSeconds(5));
        assertEquals(2, resumed.attempts());
        assertEquals("trainer-b", resumed.worker());
        assertEquals(List.of(10L), resumed.losses().stream().map(TrainingStatus.LossPoint::step).toList());
        assertEquals(List.of(10L), resumed.samples().stream().map(TrainingStatus.SampleGrid::step).toList());
        assertEquals(T0.toString(), resumed.startedAt(), "the training started when its first attempt did");
    }

    @Test
    void statesMoveForwardOnlyAndAFinishedTrainingStaysFinished() {
        assertTrue(TrainingState.RUNNING.mayFollow(TrainingState.QUEUED));
        assertTrue(TrainingState.RUNNING.mayFollow(TrainingState.RUNNING));
        assertFalse(TrainingState.QUEUED.mayFollow(TrainingState.RUNNING));
        assertFalse(TrainingState.RUNNING.mayFollow(TrainingState.SUCCEEDED));
        assertFalse(TrainingState.FAILED.mayFollow(TrainingState.SUCCEEDED));
        assertThrows(InvalidMessageException.class, () -> TrainingState.fromWire("paused"));
    }
}
