package dalle2.cli.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dalle2.djl.DjlRuntime;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fault harness on a real cluster of separate processes (3 Kafka brokers, an S3 server, 2 gateways, 2 prior
 * and 2 decoder workers on loopback): a decoder worker is SIGKILLed in the middle of a model call while jobs
 * arrive, and every promise must still hold.
 */
@Tag("cluster")
class ClusterDecoderKillTest {

    @TempDir
    Path dir;

    @AfterEach
    void killLeftovers() {
        ManagedProcess.killAll();
    }

    @Test
    @Timeout(value = 240, unit = TimeUnit.SECONDS)
    void everyAcceptedJobSucceedsWithTheFaultFreeImagesWhenADecoderDiesMidBatch() {
        DjlRuntime.configure();
        Path models = Files.isDirectory(Path.of("trained_models")) ? Path.of("trained_models")
                : Path.of("..", "trained_models");
        Workload workload = new Workload(8, 1.0, 2, 4, 4, 11, 0, 120);
        ScenarioResult result;
        try (ReferenceImages references = new ReferenceImages(models.toAbsolutePath())) {
            result = new ScenarioRunner(new ScenarioRunner.Options(dir, models.toAbsolutePath(), workload), references)
                    .run(Scenario.DECODER_KILL);
        }
        System.out.println(SummaryTable.of(java.util.List.of(result)));
        assertTrue(result.problems().isEmpty(), () -> String.join("\n", result.problems()));
        assertEquals(8, result.accepted());
        assertEquals(result.accepted(), result.succeeded(), "every accepted job succeeded");
        assertEquals(0, result.lost());
        assertEquals(0, result.duplicates());
        assertEquals(0, result.orphans());
        assertEquals(0, result.pixelMismatches());
        assertTrue(result.stuck().isEmpty(), () -> "stuck: " + result.stuck());
        assertFalse(result.broken());
        assertEquals(0, ManagedProcess.running(), "the cluster's processes are gone");
    }
}
